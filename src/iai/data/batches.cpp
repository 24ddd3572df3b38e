#include "iai/data/batches.h"

#include "iai/parallel/batch_shard.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

namespace iai::data {

namespace {

// LibTorch's torch::bernoulli(p) on the CPU (bernoulli_distribution<float>)
// draws, element by element in order, one 32-bit word w from the default
// generator's Mersenne Twister and gives 1 when u = (w mod 2^24) / 2^24 < p.
// Drawing the same words from a copy of that engine, put back afterwards,
// gives the same binarisation in one pass over the bytes, without a float
// copy of the batch, a division and a call into LibTorch per element (10 ns
// an element, 3-5% of a standard MNIST training step).

// For each byte value v, the threshold t with u < p  <=>  (w mod 2^24) < t,
// where p = v / 255 by the same tensor division the images went through
// before: the first 24-bit word whose u is not below p, searched for with
// LibTorch's own comparison.
const uint32_t* pixel_thresholds() {
  static const std::vector<uint32_t> thresholds = [] {
    const torch::Tensor p =
        torch::arange(256, torch::kLong).to(torch::kByte).to(torch::kFloat) /
        255.0;
    std::vector<uint32_t> t(256);
    for (int v = 0; v < 256; ++v) {
      const float pv = p[v].item<float>();
      uint32_t low = 0, high = 1u << 24;  // u(low) < p holds below low
      while (low < high) {
        const uint32_t mid = low + (high - low) / 2;
        if (static_cast<float>(mid) * 0x1p-24f < pv) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      t[v] = low;
    }
    return t;
  }();
  return thresholds.data();
}

void draw_pixels(at::mt19937& engine, const uint8_t* pixels, float* out,
                 int64_t count) {
  const uint32_t* threshold = pixel_thresholds();
  // The words first, a block at a time, then a branch-free compare: the
  // outcome of each compare is random, which a branch mispredicts.
  constexpr int64_t kBlock = 256;
  uint32_t words[kBlock];
  for (int64_t start = 0; start < count; start += kBlock) {
    const int64_t n = std::min(kBlock, count - start);
    for (int64_t i = 0; i < n; ++i) words[i] = engine() & 0xffffffu;
    for (int64_t i = 0; i < n; ++i) {
      out[start + i] =
          static_cast<float>(words[i] < threshold[pixels[start + i]]);
    }
  }
}

}  // namespace

torch::Tensor binarize(const torch::Tensor& images) {
  if (images.scalar_type() != torch::kByte || !images.device().is_cpu()) {
    // One draw per element in order: drawn over the global batch (this
    // process's rows in place) when it is spread over processes.
    return own_rows(
        torch::bernoulli(padded_to_global(images.to(torch::kFloat) / 255.0)),
        0);
  }
  const torch::Tensor bytes = images.contiguous();
  torch::Tensor x = torch::empty(bytes.sizes(), torch::kFloat);
  const int64_t rows = bytes.dim() == 0 ? 1 : bytes.size(0);
  const int64_t per_row = rows == 0 ? 0 : bytes.numel() / rows;
  // Spread over processes: the other processes' rows are drawn too (their
  // words skipped), so the generator moves as for the global batch.
  const BatchShard& shard = current_batch_shard();
  const int64_t before = shard.active() ? shard.offset : 0;
  const int64_t after = rows_to_draw(rows) - before - rows;
  auto* generator = at::check_generator<at::CPUGeneratorImpl>(
      at::detail::getDefaultCPUGenerator());
  std::lock_guard<std::mutex> lock(generator->mutex_);
  at::mt19937 engine = generator->engine();
  for (int64_t i = 0; i < before * per_row; ++i) engine();
  draw_pixels(engine, bytes.data_ptr<uint8_t>(), x.data_ptr<float>(),
              bytes.numel());
  for (int64_t i = 0; i < after * per_row; ++i) engine();
  generator->set_engine(engine);
  return x;
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
