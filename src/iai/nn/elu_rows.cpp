#include "iai/nn/elu_rows.h"

#include "iai/cpu/vector_math.h"

namespace iai::nn {

namespace {

__attribute__((always_inline)) inline void forward_body(
    const float* __restrict x, float* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    // A NaN takes the second branch, whose expm1 keeps it NaN.
    y[i] = v > 0.0f ? v : vmath::expm1_nonpositive(v);
  }
}

__attribute__((always_inline)) inline void backward_body(
    const float* __restrict g, const float* __restrict x, float* __restrict dx,
    int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    dx[i] = g[i] * (v > 0.0f ? 1.0f : vmath::exp_nonpositive(v));
  }
}

// dx may be g (an in-place backward pass): each element is read before it
// is written, and omp simd vectorises without the restrict.
__attribute__((always_inline)) inline void backward_from_output_body(
    const float* g, const float* __restrict y, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float v = y[i];
    dx[i] = g[i] * (v > 0.0f ? 1.0f : v + 1.0f);  // y + 1 = exp(x), x <= 0
  }
}

#ifdef IAI_X86_VARIANTS
__attribute__((target("avx512f"))) void forward_avx512(const float* x, float* y,
                                                       int64_t n) {
  forward_body(x, y, n);
}
__attribute__((target("avx512f"))) void backward_avx512(const float* g,
                                                        const float* x,
                                                        float* dx, int64_t n) {
  backward_body(g, x, dx, n);
}
__attribute__((target("avx512f"))) void from_output_avx512(const float* g,
                                                           const float* y,
                                                           float* dx,
                                                           int64_t n) {
  backward_from_output_body(g, y, dx, n);
}
__attribute__((target("avx2,fma"))) void forward_avx2(const float* x, float* y,
                                                      int64_t n) {
  forward_body(x, y, n);
}
__attribute__((target("avx2,fma"))) void backward_avx2(const float* g,
                                                       const float* x,
                                                       float* dx, int64_t n) {
  backward_body(g, x, dx, n);
}
__attribute__((target("avx2,fma"))) void from_output_avx2(const float* g,
                                                          const float* y,
                                                          float* dx,
                                                          int64_t n) {
  backward_from_output_body(g, y, dx, n);
}
#endif
void forward_baseline(const float* x, float* y, int64_t n) {
  forward_body(x, y, n);
}
void backward_baseline(const float* g, const float* x, float* dx, int64_t n) {
  backward_body(g, x, dx, n);
}
void from_output_baseline(const float* g, const float* y, float* dx,
                          int64_t n) {
  backward_from_output_body(g, y, dx, n);
}

}  // namespace

const std::vector<EluRowKernels>& elu_row_kernels() {
  static const std::vector<EluRowKernels> kernels =
      vmath::runnable<EluRowKernels>({
#ifdef IAI_X86_VARIANTS
          {"avx512", forward_avx512, backward_avx512, from_output_avx512},
          {"avx2", forward_avx2, backward_avx2, from_output_avx2},
#endif
          {"baseline", forward_baseline, backward_baseline,
           from_output_baseline}});
  return kernels;
}

const EluRowKernels& elu_rows() {
  static const EluRowKernels& best = elu_row_kernels().front();
  return best;
}

}  // namespace iai::nn
