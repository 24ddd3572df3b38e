// read_idx: IDX files, plain or gzip-compressed (detected from the bytes).
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = iai::fuzz::input_file(data, size, "images-idx");
  try {
    const auto t = iai::data::read_idx(path);
    // Touch every byte: a tensor that claims more than it holds would show.
    (void)t.sum().item<int64_t>();
  } catch (const iai::Error&) {
  }
  return 0;
}
