#pragma once
// Whether a float array is finite and how large it is, in one pass over its
// bits: the training step's finiteness checks (train/step/finiteness.h) and
// the bounds that prove a product's result finite from its factors alone
// (cpu/known_finite.h).

#include <torch/types.h>

#include <cstdint>

namespace iai::cpu {

struct Magnitude {
  bool finite = false;  // no infinity and no NaN
  float max_abs = 0;    // the largest |x| (0 for no elements)
  /// Both, over the union of two arrays.
  Magnitude operator|(const Magnitude& other) const;
};

/// Of a contiguous float32 tensor on the host, split over LibTorch's threads
/// in blocks of 32k floats. Any other tensor gives {finite = false}: the
/// caller then falls back to a general check.
Magnitude magnitude(const torch::Tensor& t);

/// Whether magnitude() reads `t` itself (contiguous float32 on the host).
bool magnitude_reads(const torch::Tensor& t);

}  // namespace iai::cpu
