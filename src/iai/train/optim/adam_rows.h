#pragma once
// Adam's update of one float array as one plain loop
// (train/optim/fused_adam.cpp's CPU path), compiled for AVX-512, AVX2+FMA and
// the baseline; the best one this CPU runs is picked once. Written as a lambda
// inside at::parallel_for the loop stayed scalar (its captured-by-reference
// constants might alias the arrays), and its scalar sqrt and division made Adam
// about a third of the paper's standard training step.

#include <cstdint>
#include <vector>

namespace iai::train {

/// The constants of one step, in float as torch::optim::Adam rounds them.
struct AdamConstants {
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float sqrt_bias_correction2, eps, neg_step_size;  // -lr / (1 - beta1^t)
};

struct AdamRowKernels {
  const char* isa;  // "avx512", "avx2" or "baseline"
  /// m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g^2;
  /// p -= step_size m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
  void (*step)(float* p, const float* g, float* m, float* v, int64_t n,
               const AdamConstants& c);
};

/// The variants this CPU can run, fastest first; tests check each.
const std::vector<AdamRowKernels>& adam_row_kernels();

/// The fastest variant (the first of adam_row_kernels()).
const AdamRowKernels& adam_rows();

}  // namespace iai::train
