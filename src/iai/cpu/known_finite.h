#pragma once
// Gradients proved finite where they are made, so that the training step
// need not read them again to check them (train/step/train_batch.cpp).
//
// A weight gradient G = A^T X, a sum over R rows, has every element bounded
// by R max|A| max|X|; when A and X are finite and that bound is below half
// the largest float, no order of summation and no rounding can overflow, so
// G is finite. A and X are the layer's 64-row output gradient and input,
// already in cache: checking them reads a few hundred kilobytes, where
// reading every gradient back read 10 MB a step (the paper's MNIST model),
// 5% of its standard training step. What cannot be proved so (an overflow
// is possible, a factor was not finite, a gradient was added to one that
// existed) is checked in full, as before.

#include "iai/cpu/magnitude.h"

#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace iai::cpu {

/// Whether a sum of `terms` products a b, with |a| and |b| bounded by `a`
/// and `b`, is finite in float32 whatever the order of its additions.
bool sum_of_products_finite(int64_t terms, const Magnitude& a,
                            const Magnitude& b);
/// The same for a sum of `terms` values bounded by `a` (a bias gradient).
bool sum_finite(int64_t terms, const Magnitude& a);

/// While one lives, the gradients that producers note on this thread are
/// known finite. A tensor noted and then written in place (its version
/// moved on) is no longer known.
class KnownFinite {
 public:
  KnownFinite();
  ~KnownFinite();
  KnownFinite(const KnownFinite&) = delete;
  KnownFinite& operator=(const KnownFinite&) = delete;

  /// The innermost one on this thread, or null: producers note only when
  /// someone will ask.
  static KnownFinite* active();
  /// `t` is finite as it is now.
  void note(const torch::Tensor& t);
  /// Whether `t` was noted and has not been written since.
  bool holds(const torch::Tensor& t) const;

 private:
  // Held, so that a freed tensor's address cannot come back as another's.
  std::vector<std::pair<torch::Tensor, int64_t>> noted_;
  KnownFinite* outer_;
};

}  // namespace iai::cpu
