#pragma once
// The Bernoulli log-likelihood's one pass over memory (dist/bernoulli.cpp):
// per row of logits, sum_d x_d l_d - softplus(l_d), and the residual
// x_d - sigmoid(l_d) that is its gradient, from one exp per element. Plain
// C++ with no LibTorch types, compiled for AVX-512, AVX2+FMA and the
// baseline; the best one this CPU runs is picked once.

#include <cstdint>
#include <vector>

namespace iai::dist {

/// sum_{i<n} x[i] l[i] - softplus(l[i]); when residual is not null, also
/// residual[i] = x[i] - sigmoid(l[i]). Within 2 float ulps of log1p/exp per
/// element; a NaN logit gives a NaN sum and residual.
float bernoulli_row(const float* logits, const float* x, float* residual,
                    int64_t n);

/// One compiled variant of bernoulli_row.
struct BernoulliRowKernel {
  const char* isa;  // "avx512", "avx2" or "baseline"
  float (*row)(const float* logits, const float* x, float* residual, int64_t n);
};

/// The variants this CPU can run, fastest first (bernoulli_row uses the
/// first); tests check each against the formula.
const std::vector<BernoulliRowKernel>& bernoulli_row_kernels();

}  // namespace iai::dist
