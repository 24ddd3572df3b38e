#include "iai/dist/bernoulli_rows.h"

#include "iai/cpu/vector_math.h"

#include <vector>

namespace iai::dist {

namespace {

/// log1p(e) for e in [0, 1] as 2 atanh(s), s = e / (2 + e) in [0, 1/3]:
/// no cancellation for small e, and the odd series converges by 1/9 a term
/// (eight terms: truncation under 2e-9 relative).
__attribute__((always_inline)) inline float log1p_unit_from(float s) {
  const float s2 = s * s;
  float q = 1.0f / 15;
  q = q * s2 + 1.0f / 13;
  q = q * s2 + 1.0f / 11;
  q = q * s2 + 1.0f / 9;
  q = q * s2 + 1.0f / 7;
  q = q * s2 + 1.0f / 5;
  q = q * s2 + 1.0f / 3;
  q = q * s2 + 1.0f;
  return 2.0f * s * q;
}

/// 1 / ((2 + e)(1 + e)): one division for both quotients the loop needs,
/// s = e / (2 + e) = e (1 + e) r and 1 / (1 + e) = (2 + e) r (a division
/// costs as much as the rest of the loop). Both loops below take s this
/// way, so their sums are the same bits with or without the residual.
__attribute__((always_inline)) inline float both_quotients(float e) {
  return 1.0f / ((2.0f + e) * (1.0f + e));
}

// softplus(l) = max(l, 0) + log1p(exp(-|l|)) and sigmoid(l) = 1 / (1 + e)
// for l >= 0, e / (1 + e) otherwise, with e = exp(-|l|) in (0, 1]: nothing
// overflows for any finite l. Inlined into one function per instruction set
// below, where it vectorises (16, 8 or 4 floats a step).
__attribute__((always_inline)) inline float row(const float* __restrict logits,
                                                const float* __restrict x,
                                                float* __restrict residual,
                                                int64_t n) {
  float sum = 0.0f;
  if (residual == nullptr) {
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
      const float l = logits[i];
      const float e = vmath::exp_nonpositive(-__builtin_fabsf(l));
      const float r = both_quotients(e);
      sum += x[i] * l -
             ((l > 0.0f ? l : 0.0f) + log1p_unit_from(e * (1.0f + e) * r));
    }
    return sum;
  }
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) {
    const float l = logits[i];
    const float e = vmath::exp_nonpositive(-__builtin_fabsf(l));
    const float r = both_quotients(e);
    sum += x[i] * l -
           ((l > 0.0f ? l : 0.0f) + log1p_unit_from(e * (1.0f + e) * r));
    const float inv = (2.0f + e) * r;
    residual[i] = x[i] - (l >= 0.0f ? inv : e * inv);
  }
  return sum;
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) float row_avx512(const float* l,
                                                    const float* x, float* r,
                                                    int64_t n) {
  return row(l, x, r, n);
}
__attribute__((target("avx2,fma"))) float row_avx2(const float* l,
                                                   const float* x, float* r,
                                                   int64_t n) {
  return row(l, x, r, n);
}
#endif
float row_baseline(const float* l, const float* x, float* r, int64_t n) {
  return row(l, x, r, n);
}

}  // namespace

const std::vector<BernoulliRowKernel>& bernoulli_row_kernels() {
  static const std::vector<BernoulliRowKernel> kernels =
      vmath::runnable<BernoulliRowKernel>({
#ifdef IAI_X86_VARIANTS
          {"avx512", row_avx512},
          {"avx2", row_avx2},
#endif
          {"baseline", row_baseline}});
  return kernels;
}

float bernoulli_row(const float* logits, const float* x, float* residual,
                    int64_t n) {
  static const auto best = bernoulli_row_kernels().front().row;
  return best(logits, x, residual, n);
}

}  // namespace iai::dist
