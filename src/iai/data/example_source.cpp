#include "iai/data/example_source.h"

#include "iai/core/error.h"

#include <algorithm>
#include <optional>

namespace iai::data {

torch::Tensor ExampleSource::batch(const torch::Tensor& order, int64_t index,
                                   int64_t batch_size) const {
  const int64_t begin = index * batch_size;
  const int64_t end = std::min(begin + batch_size, order.size(0));
  IAI_CHECK(begin < end, "batch ", index, " is past the end of ", order.size(0),
            " examples");
  return examples(order.slice(0, begin, end));
}

ExampleSource::BatchPart ExampleSource::batch_part(const torch::Tensor& order,
                                                   int64_t index,
                                                   int64_t batch_size, int rank,
                                                   int world) const {
  const int64_t n = order.size(0);
  const int64_t begin = index * batch_size;
  const int64_t global = std::min(batch_size, n - begin);
  IAI_CHECK(global >= world, "the last batch holds ", global, " of the ", n,
            " examples, fewer than the ", world,
            " processes; change --max-examples or --batch-size");
  const BatchShard shard = share_of(global, rank, world);
  // Binarisation and dequantisation draw for the whole batch, keep these rows.
  std::optional<ScopedBatchShard> sharded;
  if (world > 1) sharded.emplace(shard);
  return {examples(order.slice(0, begin + shard.offset,
                               begin + shard.offset + shard.rows)),
          shard};
}

torch::Tensor ExampleSource::range(int64_t begin, int64_t end) const {
  return examples(torch::arange(begin, end, torch::kLong));
}

namespace {

class ImageExamples : public ExampleSource {
 public:
  ImageExamples(ImageSplit split, Preprocessing preprocessing)
      : split_(std::move(split)), preprocessing_(preprocessing) {}
  int64_t size() const override { return split_.images.size(0); }
  int64_t dim() const override { return split_.images.size(1); }
  torch::Tensor examples(const torch::Tensor& indices) const override {
    return prepare(split_.images.index_select(0, indices), preprocessing_);
  }
  const ImageSplit* images() const override { return &split_; }

 private:
  ImageSplit split_;
  Preprocessing preprocessing_;
};

class CountExamples : public ExampleSource {
 public:
  explicit CountExamples(TextSplit split) : split_(std::move(split)) {}
  int64_t size() const override { return split_.size(); }
  int64_t dim() const override { return split_.vocab_size; }
  torch::Tensor examples(const torch::Tensor& indices) const override {
    return densify(split_, indices);
  }

 private:
  TextSplit split_;
};

}  // namespace

Examples image_examples(ImageSplit split, Preprocessing preprocessing) {
  return std::make_shared<ImageExamples>(std::move(split), preprocessing);
}

Examples count_examples(TextSplit split) {
  return std::make_shared<CountExamples>(std::move(split));
}

}  // namespace iai::data
