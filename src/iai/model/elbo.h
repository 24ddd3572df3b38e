#pragma once
// The evidence lower bound (eq. 2-3) of a latent Gaussian model:
//   L = E_q[log p(x | z)] - KL(q(z | x) || p(z)),
// the expectation estimated with S reparameterised samples, the KL analytic.
// A hierarchical model's KL is a sum over levels: the top level's analytic,
// each lower level's KL(q(z_l) || p(z_l | z_{l+1})) estimated from the same
// samples as E_q[log q(z_l) - log p(z_l | z_{l+1})]
// (docs/reference.md#hierarchical-models).
// For a point estimate q = delta(mu) (logvar undefined) the objective is the
// MAP one, L = log p(x | mu) + log p(mu): a Dirac's entropy is a constant and
// is dropped, and "kl" holds -log p(mu).
// The same decoder pass can also give the prediction errors of eq. 11-12,
// which error-encoding inference models read.

#include "iai/model/generative_model.h"

#include <torch/types.h>

#include <vector>

namespace iai::model {

/// Per-example terms of the ELBO, each (B).
struct ElboTerms {
  torch::Tensor elbo;            // reconstruction - kl
  torch::Tensor reconstruction;  // E_q[log p(x | z)], S-sample average
  torch::Tensor kl;  // KL(q || p), analytic (-log p(mu) for a point)
  /// The KL's share of each level, level 1 first (one entry when
  /// single-level); they sum to kl.
  std::vector<torch::Tensor> kl_levels;

  /// Every tensor cut from the graph.
  ElboTerms detached() const;
};

/// The precision-weighted errors at the current q, averaged over its samples
/// (detached):
///   error_x = E_q[(x - mu_x) / sigma_x^2]   (eq. 11; (B,D))
///   error_z = E_q[(z - mu_p) / sigma_p^2]   (eq. 12; (B,Z), every level
///                                            side by side; exact, = mu_q,
///                                            for the top prior N(0, I))
/// For a Bernoulli output the natural-parameter gradient x - sigmoid(logits)
/// plays the part of the precision-weighted error (d log p / d logits).
/// With precision_weighted = false (set by the caller) the raw errors
/// E_q[x - E[x | z]] and E_q[z - mu_p] instead.
struct PredictionErrors {
  bool precision_weighted = true;
  torch::Tensor error_x;
  torch::Tensor error_z;
};

/// x is (B,D); mu, logvar are (B,Z) (q's parameters, lambda; logvar
/// undefined = point estimate, one "sample" z = mu). The decoder runs once
/// over S*B rows. Differentiable in mu, logvar and the model. When `errors`
/// is given it receives eq. 11-12 from the same samples.
ElboTerms elbo(GenerativeModelImpl& model, const torch::Tensor& x,
               const torch::Tensor& mu, const torch::Tensor& logvar,
               int64_t samples, PredictionErrors* errors = nullptr);

}  // namespace iai::model
