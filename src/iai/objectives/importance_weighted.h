#pragma once
// Importance-weighted estimate of the marginal log-likelihood (REFERENCE.md,
// "Evaluation"): log p(x) ~= log (1/K) sum_k p(x, z_k) / q(z_k | x),
// z_k ~ q. Computed in chunks of samples with a running log-sum-exp so
// memory stays bounded whatever K is. It is a lower bound that tightens as K
// grows, and with K = 1 its expectation is the ELBO.

#include "iai/inference/posterior.h"
#include "iai/model/latent_gaussian_model.h"

#include <torch/types.h>

namespace iai::objectives {

/// x is (B,D); q's parameters (B,Z). Returns (B): each example's estimate
/// with `samples` (K) importance samples, `chunk` of them per decoder call.
torch::Tensor importance_weighted_log_px(model::LatentGaussianModelImpl& model,
                                         const torch::Tensor& x,
                                         const inference::Posterior& q,
                                         int64_t samples, int64_t chunk);

}  // namespace iai::objectives
