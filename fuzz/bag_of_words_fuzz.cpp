// read_bag_of_words: "label id:count ..." lines. The first byte chooses the
// vocabulary size (1..256), the rest is the file; documents are densified as
// training does.
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/data/bag_of_words.h"

#include <torch/torch.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int64_t vocab = int64_t(data[0]) + 1;
  const std::string path =
      iai::fuzz::input_file(data + 1, size - 1, "train.feat");
  try {
    const auto split = iai::data::read_bag_of_words(path, vocab);
    const auto dense =
        iai::data::densify(split, torch::arange(split.size(), torch::kLong));
    (void)dense.sum().item<float>();
    (void)iai::data::document_lengths(split).sum().item<double>();
  } catch (const iai::Error&) {
  }
  return 0;
}
