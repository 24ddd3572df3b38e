// read_vocabulary: one word per line.
#include "fuzz_input.h"
#include "iai/core/error.h"
#include "iai/data/bag_of_words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = iai::fuzz::input_file(data, size, "vocab.new");
  try {
    const auto words = iai::data::read_vocabulary(path);
    size_t letters = 0;
    for (const auto& w : words) letters += w.size();
    (void)letters;
  } catch (const iai::Error&) {
  }
  return 0;
}
