#include "iai/data/batches.h"

namespace iai::data {

torch::Tensor binarize(const torch::Tensor& images) {
  return torch::bernoulli(images.to(torch::kFloat) / 255.0);
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
  const torch::Tensor noise = torch::rand_like(x) - 0.5;  // U(-0.5, 0.5)
  return (x + noise).clamp(0, 255) / 255.0;
}

torch::Tensor prepare(const torch::Tensor& images, Preprocessing preprocessing) {
  return preprocessing == Preprocessing::kDequantize ? dequantize_pixels(images)
                                                     : binarize(images);
}

}  // namespace iai::data
