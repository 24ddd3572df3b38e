// read_cifar10_batch: 3073-byte records (a label byte, 3072 pixel bytes).
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/data/cifar10.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = iai::fuzz::input_file(data, size, "data_batch.bin");
  try {
    const auto split = iai::data::read_cifar10_batch(path, 0);
    (void)split.images.sum().item<int64_t>();
    (void)split.labels.max().item<int64_t>();
  } catch (const iai::Error&) {
  }
  return 0;
}
