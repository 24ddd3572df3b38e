#include "iai/data/batches.h"

#include "iai/parallel/batch_shard.h"

namespace iai::data {

torch::Tensor binarize(const torch::Tensor& images) {
  // One draw per element in order: drawn over the global batch (this
  // process's rows in place) when it is spread over processes.
  return own_rows(
      torch::bernoulli(padded_to_global(images.to(torch::kFloat) / 255.0)), 0);
}

int64_t batch_count(int64_t n, int64_t batch_size) {
  return (n + batch_size - 1) / batch_size;
}

torch::Tensor epoch_order(int64_t n, bool shuffle) {
  return shuffle ? torch::randperm(n, torch::kLong)
                 : torch::arange(n, torch::kLong);
}

torch::Tensor dequantize_pixels(const torch::Tensor& images) {
  const torch::Tensor x = images.to(torch::kFloat);
  // U(-0.5, 0.5), drawn for the global batch when it is spread over
  // processes (parallel/batch_shard.h).
  std::vector<int64_t> shape = x.sizes().vec();
  if (!shape.empty()) shape[0] = rows_to_draw(shape[0]);
  const torch::Tensor noise =
      own_rows(torch::rand(shape, x.options()), 0) - 0.5;
  return (x + noise).clamp(0, 255) / 255.0;
}

torch::Tensor prepare(const torch::Tensor& images,
                      Preprocessing preprocessing) {
  return preprocessing == Preprocessing::kDequantize ? dequantize_pixels(images)
                                                     : binarize(images);
}

}  // namespace iai::data
