#include "iai/data/batches.h"

#include <algorithm>

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

torch::Tensor binarized_batch(const torch::Tensor& images,
                              const torch::Tensor& order, int64_t index,
                              int64_t batch_size) {
  const int64_t begin = index * batch_size;
  const int64_t end = std::min(begin + batch_size, order.size(0));
  return binarize(images.index_select(0, order.slice(0, begin, end)));
}

torch::Tensor dequantize_pixels(const torch::Tensor& images) {
  const torch::Tensor x = images.to(torch::kFloat);
  const torch::Tensor noise = torch::rand_like(x) - 0.5;  // U(-0.5, 0.5)
  return (x + noise).clamp(0, 255) / 255.0;
}

torch::Tensor dequantized_batch(const torch::Tensor& images,
                                const torch::Tensor& order, int64_t index,
                                int64_t batch_size) {
  const int64_t begin = index * batch_size;
  const int64_t end = std::min(begin + batch_size, order.size(0));
  return dequantize_pixels(images.index_select(0, order.slice(0, begin, end)));
}

torch::Tensor prepare(const torch::Tensor& images, Preprocessing preprocessing) {
  return preprocessing == Preprocessing::kDequantize ? dequantize_pixels(images)
                                                     : binarize(images);
}

torch::Tensor prepared_batch(const torch::Tensor& images,
                             const torch::Tensor& order, int64_t index,
                             int64_t batch_size, Preprocessing preprocessing) {
  return preprocessing == Preprocessing::kDequantize
             ? dequantized_batch(images, order, index, batch_size)
             : binarized_batch(images, order, index, batch_size);
}

}  // namespace iai::data
