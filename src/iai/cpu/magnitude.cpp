#include "iai/cpu/magnitude.h"

#include "iai/cpu/own_kernels.h"
#include "iai/cpu/parallel_rows.h"
#include "iai/cpu/vector_math.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace iai::cpu {

namespace {

/// The largest of n floats' bits with the sign cleared. For finite floats
/// these patterns order as |x| does; an infinity is 0x7f800000 and a NaN
/// above it. Only AND and an unsigned max: it vectorises at any width, and
/// is inlined into one function per instruction set below.
__attribute__((always_inline)) inline uint32_t max_magnitude_bits_body(
    const uint32_t* __restrict bits, int64_t n) {
  uint32_t most = 0;
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t m = bits[i] & 0x7fffffffu;
    most = m > most ? m : most;
  }
  return most;
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) uint32_t max_bits_avx512(
    const uint32_t* bits, int64_t n) {
  return max_magnitude_bits_body(bits, n);
}
__attribute__((target("avx2"))) uint32_t max_bits_avx2(const uint32_t* bits,
                                                       int64_t n) {
  return max_magnitude_bits_body(bits, n);
}
#endif
uint32_t max_bits_baseline(const uint32_t* bits, int64_t n) {
  return max_magnitude_bits_body(bits, n);
}

struct MaxBitsKernel {
  const char* isa;
  uint32_t (*max_bits)(const uint32_t* bits, int64_t n);
};

/// The widest variant this CPU runs.
uint32_t max_magnitude_bits(const uint32_t* bits, int64_t n) {
  static const auto best =
      vmath::runnable<MaxBitsKernel>({
#ifdef IAI_X86_VARIANTS
                                         {"avx512", max_bits_avx512},
                                         {"avx2", max_bits_avx2},
#endif
                                         {"baseline", max_bits_baseline}})
          .front()
          .max_bits;
  return best(bits, n);
}

constexpr uint32_t kInfinityBits = 0x7f800000u;

}  // namespace

Magnitude Magnitude::operator|(const Magnitude& other) const {
  return {finite && other.finite, std::max(max_abs, other.max_abs)};
}

bool magnitude_reads(const torch::Tensor& t) {
  return t.defined() && own_kernels_on(t.device()) &&
         t.scalar_type() == torch::kFloat && t.layout() == torch::kStrided &&
         t.is_contiguous();
}

Magnitude magnitude(const torch::Tensor& t) {
  if (!magnitude_reads(t)) return {};
  const auto* bits = static_cast<const uint32_t*>(t.data_ptr());
  const int64_t n = t.numel();
  constexpr int64_t kBlock = int64_t{1} << 15;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  uint32_t most = 0;
  if (blocks <= 1) {
    most = max_magnitude_bits(bits, n);
  } else {
    std::vector<uint32_t> block_most(static_cast<size_t>(blocks), 0);
    for_each_row(blocks, kBlock, [&](int64_t b) {
      const int64_t end = std::min(n, (b + 1) * kBlock);
      block_most[static_cast<size_t>(b)] =
          max_magnitude_bits(bits + b * kBlock, end - b * kBlock);
    });
    most = *std::max_element(block_most.begin(), block_most.end());
  }
  Magnitude out;
  out.finite = most < kInfinityBits;
  if (out.finite) std::memcpy(&out.max_abs, &most, sizeof most);
  return out;
}

}  // namespace iai::cpu
