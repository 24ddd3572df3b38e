#pragma once
// Bernoulli output likelihood, parameterised by logits for numerical
// stability: log p(x | logits) = x * logits - softplus(logits).

#include <torch/types.h>

namespace iai::dist {

/// log Bernoulli(x; sigmoid(logits)) summed over the last dimension.
/// x is (..., D) with values in [0, 1]; logits broadcast to x. Returns (...).
torch::Tensor bernoulli_log_prob(const torch::Tensor& x,
                                 const torch::Tensor& logits);

}  // namespace iai::dist
