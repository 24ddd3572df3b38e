#pragma once
// Bernoulli output likelihood, parameterised by logits for numerical
// stability: log p(x | logits) = x * logits - softplus(logits).

#include <torch/types.h>

namespace iai::dist {

/// log Bernoulli(x; sigmoid(logits)) summed over the last dimension.
/// x is (..., D) with values in [0, 1]; logits broadcast to x. Returns (...).
torch::Tensor bernoulli_log_prob(const torch::Tensor& x,
                                 const torch::Tensor& logits);

/// bernoulli_log_prob's value, not differentiable, with its gradient in the
/// logits, x - sigmoid(logits), written into `residual` (logits' shape, a
/// view whose rows are evenly spaced: residual.view works): logits (N, D)
/// and x (B, D) with B dividing N (row i reads x's row i mod B). One pass
/// for contiguous float32 CPU tensors; LibTorch's operators elsewhere (a
/// GPU). Returns (N).
torch::Tensor bernoulli_log_prob_and_residual(const torch::Tensor& x,
                                              const torch::Tensor& logits,
                                              const torch::Tensor& residual);

}  // namespace iai::dist
