#include "iai/nn/highway_rows.h"

#include "iai/cpu/vector_math.h"

namespace iai::nn {

namespace {

__attribute__((always_inline)) inline void forward_body(
    const float* __restrict a, const float* __restrict s,
    const float* __restrict c, float* __restrict h, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float av = a[i];
    const float e = av > 0.0f ? av : vmath::expm1_nonpositive(av);
    float g, one_minus_g;
    vmath::sigmoid_pair(s[i], g, one_minus_g);
    h[i] = g * c[i] + one_minus_g * e;
  }
}

__attribute__((always_inline)) inline void backward_body(
    const float* __restrict dh, const float* __restrict a,
    const float* __restrict s, const float* __restrict c, float* __restrict da,
    float* __restrict ds, float* __restrict dc, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float av = a[i], d = dh[i];
    const bool positive = av > 0.0f;
    const float e = positive ? av : vmath::expm1_nonpositive(av);
    // ELU'(a) from exp(a), not e + 1 (nn/elu_rows.h says why).
    const float slope = positive ? 1.0f : vmath::exp_nonpositive(av);
    float g, one_minus_g;
    vmath::sigmoid_pair(s[i], g, one_minus_g);
    da[i] = d * one_minus_g * slope;
    ds[i] = d * (c[i] - e) * (g * one_minus_g);
    dc[i] = d * g;
  }
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) void forward_avx512(const float* a,
                                                       const float* s,
                                                       const float* c, float* h,
                                                       int64_t n) {
  forward_body(a, s, c, h, n);
}
__attribute__((target("avx512f"))) void backward_avx512(
    const float* dh, const float* a, const float* s, const float* c, float* da,
    float* ds, float* dc, int64_t n) {
  backward_body(dh, a, s, c, da, ds, dc, n);
}
__attribute__((target("avx2,fma"))) void forward_avx2(const float* a,
                                                      const float* s,
                                                      const float* c, float* h,
                                                      int64_t n) {
  forward_body(a, s, c, h, n);
}
__attribute__((target("avx2,fma"))) void backward_avx2(
    const float* dh, const float* a, const float* s, const float* c, float* da,
    float* ds, float* dc, int64_t n) {
  backward_body(dh, a, s, c, da, ds, dc, n);
}
#endif
void forward_baseline(const float* a, const float* s, const float* c, float* h,
                      int64_t n) {
  forward_body(a, s, c, h, n);
}
void backward_baseline(const float* dh, const float* a, const float* s,
                       const float* c, float* da, float* ds, float* dc,
                       int64_t n) {
  backward_body(dh, a, s, c, da, ds, dc, n);
}

}  // namespace

const std::vector<HighwayRowKernels>& highway_row_kernels() {
  static const std::vector<HighwayRowKernels> kernels =
      vmath::runnable<HighwayRowKernels>({
#ifdef IAI_X86_VARIANTS
          {"avx512", forward_avx512, backward_avx512},
          {"avx2", forward_avx2, backward_avx2},
#endif
          {"baseline", forward_baseline, backward_baseline}});
  return kernels;
}

const HighwayRowKernels& highway_rows() {
  static const HighwayRowKernels& best = highway_row_kernels().front();
  return best;
}

}  // namespace iai::nn
