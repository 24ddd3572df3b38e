#pragma once
// Diagonal Gaussian N(mu, diag exp(logvar)): the approximate posterior and the
// prior of every latent Gaussian model. Free functions so tests can call the
// maths directly.

#include <torch/types.h>

namespace iai::dist {

/// Reparameterised samples z = mu + exp(logvar / 2) * eps, eps ~ N(0, I).
/// mu, logvar are (B,Z); returns z as (S*B,Z), sample-major (rows s*B ..
/// s*B+B-1 are sample s of every example), so a decoder sees all B*S rows in
/// one call.
torch::Tensor rsample(const torch::Tensor& mu, const torch::Tensor& logvar,
                      int64_t samples);
/// The eps ~ N(0, I) of rsample, (S,B,Z) for mu (B,Z): the same draws from
/// the same generator, for code that keeps eps (model/elbo_gradient.h).
torch::Tensor standard_noise(const torch::Tensor& mu, int64_t samples);
/// rsample's z from given eps (S,B,Z): mu + exp(logvar / 2) eps as (S*B,Z).
torch::Tensor reparameterise(const torch::Tensor& mu,
                             const torch::Tensor& logvar,
                             const torch::Tensor& eps);

/// reparameterise with sd = exp(logvar / 2) given, for a caller that has it
/// already.
torch::Tensor reparameterise_sd(const torch::Tensor& mu, const torch::Tensor& sd,
                                const torch::Tensor& eps);

/// log N(z; mu, diag exp(logvar)) summed over the last dimension.
/// z is (..., Z); mu and logvar broadcast against it. Returns (...).
torch::Tensor log_prob(const torch::Tensor& z, const torch::Tensor& mu,
                       const torch::Tensor& logvar);

/// log N(z; 0, I) summed over the last dimension. z is (..., Z).
torch::Tensor standard_normal_log_prob(const torch::Tensor& z);

/// Analytic KL(N(mu_q, var_q) || N(mu_p, var_p)), summed over the last dim.
/// All inputs (B,Z) (or broadcastable); returns (B).
torch::Tensor kl_divergence(const torch::Tensor& mu_q,
                            const torch::Tensor& logvar_q,
                            const torch::Tensor& mu_p,
                            const torch::Tensor& logvar_p);

/// Analytic KL(N(mu, var) || N(0, I)) summed over the last dim; returns (B).
torch::Tensor kl_standard_normal(const torch::Tensor& mu,
                                 const torch::Tensor& logvar);

}  // namespace iai::dist
