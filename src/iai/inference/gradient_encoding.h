#pragma once
// How an iterative inference model sees the ELBO's gradient (REFERENCE.md,
// "gradient encoding"): each component g becomes (log(|g| + 1e-5), sign(g)),
// splitting scale from direction so inputs stay O(1) whatever the gradient's
// magnitude.

#include "iai/inference/posterior.h"

#include <torch/types.h>

namespace iai::inference {

/// Offset inside the log so zero gradients stay finite.
constexpr double kGradientLogOffset = 1e-5;

/// grad.mu, grad.logvar are (B,Z); returns (B,4Z):
/// [log|g_mu|, sign g_mu, log|g_logvar|, sign g_logvar].
torch::Tensor encode_gradient(const Posterior& grad);

/// eq. 7-8 "highway" update: gate * current + (1 - gate) * proposal.
/// All (B,Z); gate in (0, 1).
torch::Tensor highway_update(const torch::Tensor& current,
                             const torch::Tensor& proposal,
                             const torch::Tensor& gate);

}  // namespace iai::inference
