#pragma once
// A highway layer's combination, h = g c + (1 - g) ELU(a) with g = sigmoid(s)
// (nn/highway.h), and its gradients as plain loops over float rows, compiled
// for AVX-512, AVX2+FMA and the baseline; the best one this CPU runs is
// picked once. In LibTorch ops it was six passes forward (sigmoid, ELU, two
// products, 1 - g, a sum) and about ten backward, plus the copy that joins
// the three column blocks' gradients: a fifth of the iterative step's
// non-product time.

#include <cstdint>
#include <vector>

namespace iai::nn {

struct HighwayRowKernels {
  const char* isa;  // "avx512", "avx2" or "baseline"
  /// h[i] = e + g (c[i] - e), e = ELU(a[i]), g = sigmoid(s[i])
  void (*forward)(const float* a, const float* s, const float* c, float* h,
                  int64_t n);
  /// da = dh (1 - g) ELU'(a), ds = dh (c - e) g (1 - g), dc = dh g
  void (*backward)(const float* dh, const float* a, const float* s,
                   const float* c, float* da, float* ds, float* dc, int64_t n);
};

/// The variants this CPU can run, fastest first; tests check each.
const std::vector<HighwayRowKernels>& highway_row_kernels();

/// The fastest variant (the first of highway_row_kernels()).
const HighwayRowKernels& highway_rows();

}  // namespace iai::nn
