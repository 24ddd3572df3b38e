#pragma once
// The ELBO and its gradient in lambda = (mu_q, logvar_q) taken by hand,
// without autograd, for the paper's single-level Bernoulli models with a
// sequential ELU decoder (its MNIST and Omniglot models): eq. 9 with
// Appendix A's Bernoulli errors, eps_x = x - sigmoid(logits) and
// eps_z = mu_q (the prior is N(0, I)), the Jacobian's transpose applied as
// the decoder's transposed products and ELU slopes.
//
// Why: an iterative training step evaluates the ELBO and its gradient T + 1
// times, inference and evaluation T times. Autograd's pass through the same
// products also builds a graph, keeps its tensors, scales the S B D logits'
// gradient in a pass of its own and runs a dozen small operators for the
// reparameterisation and the KL: about 1 ms of a 12 ms evaluation on 640
// rows at one thread. Here the gradient is carried unscaled through the
// products and scaled once at the Z-wide end. On a GPU the same pass runs
// on LibTorch's operators: no graph to build, and fewer kernels than
// autograd's backward pass launches (a step's speed there is set by its
// launches).
//
// The same numbers as model::elbo and autograd::grad to float rounding,
// from the same eps draws (tests/model_elbo_gradient_test.cpp); the ELBO itself
// bit for bit.

#include "iai/model/elbo.h"
#include "iai/model/generative_model.h"

#include <torch/types.h>

namespace iai::model {

struct ElboGradient {
  ElboTerms terms;           // detached, as model::elbo gives them
  torch::Tensor mu, logvar;  // the gradient of scale * sum_b L_b in lambda
};

/// Whether elbo_gradient takes this model and these tensors: the paper's
/// MLP model (latent_gaussian_model.h, not a scripted decoder), one latent
/// level, Bernoulli output, a sequential decoder without batch norm, every
/// layer with a bias, float32 on the CPU with products on oneDNN (whose
/// fused ELU the backward pass takes its slope from) or float32 on a GPU,
/// no autocast, and a Gaussian q (logvar defined). Anything else goes
/// through autograd.
bool has_elbo_gradient(GenerativeModelImpl& model, const torch::Tensor& x,
                       const torch::Tensor& mu, const torch::Tensor& logvar);

/// L_b for x (B,D) at q = N(mu, diag exp(logvar)) (B,Z) from `samples`
/// reparameterised samples (eq. 3), and the gradient of scale * sum_b L_b
/// in mu and logvar. With parameter_scale != 0 it also sets each decoder
/// parameter's .grad to the gradient of parameter_scale * sum_b L_b
/// (replacing what was there). Needs has_elbo_gradient.
ElboGradient elbo_gradient(GenerativeModelImpl& model, const torch::Tensor& x,
                           const torch::Tensor& mu, const torch::Tensor& logvar,
                           int64_t samples, double scale,
                           double parameter_scale = 0.0);

}  // namespace iai::model
