#pragma once
// ELU's forward and backward passes as plain loops over float rows
// (nn/elu.cpp), compiled for AVX-512, AVX2+FMA and the baseline; the best one
// this CPU runs is picked once. LibTorch's ELU costs a Sleef expm1 call per
// eight floats and its backward another pass; these run at memory speed.

#include <cstdint>
#include <vector>

namespace iai::nn {

struct EluRowKernels {
  const char* isa;  // "avx512", "avx2" or "baseline"
  /// y[i] = x[i] > 0 ? x[i] : expm1(x[i])  (ELU, alpha = 1)
  void (*forward)(const float* x, float* y, int64_t n);
  /// dx[i] = g[i] * (x[i] > 0 ? 1 : exp(x[i])), from ELU's input x (its
  /// output would give y + 1 = exp(x) only to 6e-8 absolute: 1e-6 relative
  /// at x = -3, nothing left of it by x = -17)
  void (*backward)(const float* g, const float* x, float* dx, int64_t n);
  /// dx[i] = g[i] * (y[i] > 0 ? 1 : y[i] + 1), from ELU's output y, for a
  /// layer whose product applied the ELU (nn::linear_elu) and so never kept
  /// x: exact to 6e-8 absolute in the slope (y's rounding), which is small
  /// next to the slopes of the units that carry the gradient; dx may be g
  void (*backward_from_output)(const float* g, const float* y, float* dx,
                               int64_t n);
};

/// The variants this CPU can run, fastest first; tests check each.
const std::vector<EluRowKernels>& elu_row_kernels();

/// The fastest variant (the first of elu_row_kernels()).
const EluRowKernels& elu_rows();

}  // namespace iai::nn
