#pragma once
// The generative model as inference and training see it: a latent Gaussian
// model p(x, z) = p(x | z_1) p(z_1 | z_2) ... p(z_L) with
//   p(z_L) = N(0, I)                       (the top level's prior),
//   p(z_l | z_{l+1}) = N(mu_p, diag exp(logvar_p))  (each lower level's),
//   p(x | z_1)  a likelihood whose parameter the model computes from z.
// Everything an inference procedure, the training step, the ELBO
// (eq. 2-3), the prediction errors of eq. 11-12, importance-weighted
// log p(x) and the analyses need goes through this interface; nothing
// outside model/ knows which implementation it holds.
//
// Implementations: the paper's MLP models (latent_gaussian_model.h), whose
// level-1 network may be a TorchScript module (scripted_decoder.h); a user
// may derive their own (tests/model_generative_model_test.cpp has one).
// An implementation gives its shapes, the top-down pass and the output
// likelihood; log p(x, z), lambda_0 and decode() follow from those.
//
// z and lambda hold all levels side by side, level 1 first: (N, Z_1 + ... +
// Z_L); split_levels() cuts them. q factorises over levels given x, so every
// inference procedure and optimiser works on the one flat tensor.

#include "iai/model/output_likelihood.h"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace iai::model {

/// What one top-down pass of the generative model gives for samples z of
/// every level (N, Z_1 + ... + Z_L).
struct GenerativePass {
  /// The output distribution's parameter, (N,W) (W = output_width()).
  torch::Tensor out;
  /// p(z_l | z_{l+1}) for l = 1..L-1 (index l-1), each (N,Z_l); empty for a
  /// single-level model (its prior is N(0, I)).
  std::vector<torch::Tensor> prior_mu, prior_logvar;
};

class GenerativeModelImpl : public torch::nn::Module {
 public:
  // --- what an implementation gives ---

  /// D: data dimensions.
  virtual int64_t data_dim() const = 0;
  /// Z_1, ..., Z_L (level 1, the one that generates x, first).
  virtual std::vector<int64_t> latent_dims() const = 0;
  /// Which output distribution p(x | z_1) is (reports and pictures read it).
  virtual Likelihood likelihood() const = 0;
  /// Width W of the output parameter per example: D, or 2D for a Gaussian
  /// whose log-variance the network computes per example ([mean, logvar]).
  virtual int64_t output_width() const = 0;

  /// The top-down pass: the priors of the lower levels and (unless
  /// with_output is false) the output parameter, for z (N, Z) holding every
  /// level. Differentiable in z and the parameters.
  virtual GenerativePass generate(const torch::Tensor& z,
                                  bool with_output = true) = 0;

  /// log p(x | out) summed over D for outputs out (S,B,W) as generate()
  /// gives them viewed per sample; x (B,D) broadcasts. Returns (S,B).
  virtual torch::Tensor output_log_prob(const torch::Tensor& x,
                                        const torch::Tensor& out) = 0;

  /// The precision-weighted prediction error of eq. 11 for each output out
  /// (S,B,W): the gradient of log p(x | out) in the output's natural
  /// parameter (output_likelihood.h gives the paper's three). (S,B,D).
  virtual torch::Tensor output_error(const torch::Tensor& x,
                                     const torch::Tensor& out) = 0;

  /// E[x | out] per unit for outputs out (..., W): (..., D).
  virtual torch::Tensor output_expectation(const torch::Tensor& out) = 0;

  // --- what follows from it ---

  /// Z_1 + ... + Z_L: the width of lambda and z.
  int64_t latent_dim() const;
  /// L.
  int64_t levels() const;
  /// Cuts (..., Z) into the levels' (..., Z_l) views, level 1 first.
  std::vector<torch::Tensor> split_levels(const torch::Tensor& t) const;

  /// The output parameter for z (N,Z): (N,W).
  torch::Tensor decode(const torch::Tensor& z);

  /// E[x | z] (N,D): the reconstructions in Figure 5.
  torch::Tensor output_mean(const torch::Tensor& z);

  /// log p(x, z) = log p(x | z_1) + sum_l log p(z_l | z_{l+1}) + log p(z_L),
  /// each summed over its dimensions. x is (B,D); z is (S*B,Z) sample-major
  /// as dist::rsample makes it; returns (S,B).
  torch::Tensor log_joint(const torch::Tensor& x, const torch::Tensor& z);

  /// lambda_0 for a batch of B, (mu, logvar) each (B,Z): the top level's
  /// prior N(0, I); each lower level's prior computed from `samples` samples
  /// of the level above's lambda_0 and averaged (samples = 0: from the level
  /// above's mean, for point estimates). Zeros for a single-level model. No
  /// gradient. On the device and in the dtype of the model's parameters.
  std::pair<torch::Tensor, torch::Tensor> prior(int64_t batch,
                                                int64_t samples = 10);
};

/// A shared handle to any generative model, as TORCH_MODULE makes for a
/// concrete one: model->generate(z), model.ptr(). A LatentGaussianModel
/// (or any other implementation's holder) converts to it with .ptr().
class GenerativeModel : public torch::nn::ModuleHolder<GenerativeModelImpl> {
  template <typename Impl>
  using IfImplementation =
      std::enable_if_t<std::is_base_of_v<GenerativeModelImpl, Impl> &&
                       !std::is_same_v<GenerativeModelImpl, Impl>>;

 public:
  using torch::nn::ModuleHolder<GenerativeModelImpl>::ModuleHolder;
  /// Any implementation, shared (not copied).
  template <typename Impl, typename = IfImplementation<Impl>>
  /* implicit */ GenerativeModel(std::shared_ptr<Impl> impl)
      : ModuleHolder(std::shared_ptr<GenerativeModelImpl>(std::move(impl))) {}
  /// Any implementation's holder (a LatentGaussianModel), shared.
  template <typename Impl, typename = IfImplementation<Impl>>
  /* implicit */ GenerativeModel(const torch::nn::ModuleHolder<Impl>& holder)
      : GenerativeModel(holder.ptr()) {}
};

}  // namespace iai::model
