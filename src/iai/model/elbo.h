#pragma once
// The evidence lower bound (eq. 2-3) of a latent Gaussian model:
//   L = E_q[log p(x | z)] - KL(q(z | x) || p(z)),
// the expectation estimated with S reparameterised samples, the KL analytic.

#include "iai/model/latent_gaussian_model.h"

#include <torch/types.h>

namespace iai::model {

/// Per-example terms of the ELBO, each (B).
struct ElboTerms {
  torch::Tensor elbo;            // reconstruction - kl
  torch::Tensor reconstruction;  // E_q[log p(x | z)], S-sample average
  torch::Tensor kl;              // KL(q || p), analytic
};

/// x is (B,D); mu, logvar are (B,Z) (q's parameters, lambda). The decoder
/// runs once over S*B rows. Differentiable in mu, logvar and the model.
ElboTerms elbo(LatentGaussianModelImpl& model, const torch::Tensor& x,
               const torch::Tensor& mu, const torch::Tensor& logvar,
               int64_t samples);

}  // namespace iai::model
