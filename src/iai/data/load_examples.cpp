#include "iai/data/load_examples.h"

#include "iai/data/dataset.h"

namespace iai::data {

namespace {

void cut(ImageSplit& split, int64_t max) {
  if (max <= 0 || max >= split.images.size(0)) return;
  split.images = split.images.slice(0, 0, max);
  split.labels = split.labels.slice(0, 0, max);
}

void cut(TextSplit& split, int64_t max) {
  if (max <= 0 || max >= split.size()) return;
  const int64_t nnz = split.offsets[max].item<int64_t>();
  split.offsets = split.offsets.slice(0, 0, max + 1);
  split.ids = split.ids.slice(0, 0, nnz);
  split.counts = split.counts.slice(0, 0, nnz);
  split.labels = split.labels.slice(0, 0, max);
}

}  // namespace

ExampleSets load_examples(const DataSelection& s) {
  if (is_text_dataset(s.dataset)) {
    auto text = load_text_dataset(s.dataset, s.dir);
    cut(text.train, s.max_train);
    cut(text.test, s.max_test);
    return {count_examples(std::move(text.train)),
            count_examples(std::move(text.test)), text.name};
  }
  auto data = load_image_dataset(
      s.dataset, {s.dir, s.train_images, s.test_images, "", ""});
  cut(data.train, s.max_train);
  cut(data.test, s.max_test);
  return {image_examples(std::move(data.train), s.preprocessing),
          image_examples(std::move(data.test), s.preprocessing), data.name};
}

}  // namespace iai::data
