// The MATLAB readers through matio: the same bytes as an SVHN file
// (X uint8 32x32x3xN, y) and as Omniglot's chardata.mat (data, testdata).
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/data/matlab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = iai::fuzz::input_file(data, size, "input.mat");
  try {
    const auto split = iai::data::read_svhn_mat(path);
    (void)split.images.sum().item<int64_t>();
  } catch (const iai::Error&) {
  }
  try {
    const auto set = iai::data::read_omniglot_mat(path);
    (void)set.train.images.sum().item<int64_t>();
    (void)set.test.labels.sum().item<int64_t>();
  } catch (const iai::Error&) {
  }
  return 0;
}
