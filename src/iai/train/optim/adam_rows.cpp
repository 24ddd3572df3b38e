#include "iai/train/optim/adam_rows.h"

#include "iai/cpu/vector_math.h"

namespace iai::train {

namespace {

__attribute__((always_inline)) inline void step_body(
    float* __restrict p, const float* __restrict g, float* __restrict m,
    float* __restrict v, int64_t n, const AdamConstants& c) {
  // Local copies: the loop must not reload them after each store.
  const float beta1 = c.beta1, c1 = c.one_minus_beta1, beta2 = c.beta2,
              c2 = c.one_minus_beta2, sqrt_bc2 = c.sqrt_bias_correction2,
              eps = c.eps, neg_step = c.neg_step_size;
  // sqrt(v) / sqrt(bc2) as a product: one division fewer a parameter (a
  // division of 16 floats takes 5-10 cycles on AVX-512). The loop is
  // mostly bound by memory, so this bought 6% of it alone (adam/fused, one
  // thread); the result moves by at most an ulp of the denominator.
  const float inv_sqrt_bc2 = 1.0f / sqrt_bc2;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] * beta1 + c1 * gi;
    const float vi = v[i] * beta2 + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    // ATen's adam: exp_avg / (sqrt(exp_avg_sq) / sqrt(bc2) + eps).
    p[i] += neg_step * mi / (__builtin_sqrtf(vi) * inv_sqrt_bc2 + eps);
  }
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) void step_avx512(float* p, const float* g,
                                                    float* m, float* v,
                                                    int64_t n,
                                                    const AdamConstants& c) {
  step_body(p, g, m, v, n, c);
}
__attribute__((target("avx2,fma"))) void step_avx2(float* p, const float* g,
                                                   float* m, float* v,
                                                   int64_t n,
                                                   const AdamConstants& c) {
  step_body(p, g, m, v, n, c);
}
#endif
void step_baseline(float* p, const float* g, float* m, float* v, int64_t n,
                   const AdamConstants& c) {
  step_body(p, g, m, v, n, c);
}

}  // namespace

const std::vector<AdamRowKernels>& adam_row_kernels() {
  static const std::vector<AdamRowKernels> kernels =
      vmath::runnable<AdamRowKernels>({
#ifdef IAI_X86_VARIANTS
          {"avx512", step_avx512},
          {"avx2", step_avx2},
#endif
          {"baseline", step_baseline}});
  return kernels;
}

const AdamRowKernels& adam_rows() {
  static const AdamRowKernels& best = adam_row_kernels().front();
  return best;
}

}  // namespace iai::train
