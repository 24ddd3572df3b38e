#pragma once
// The latent Gaussian models of the paper's Section 4: single-level,
//   p(z) = N(0, I),  p(x | z) = Bernoulli(sigmoid(decoder(z)))  (binary data)
//                            or N(decoder(z), diag exp(output_logvar)),
// or a chain of L levels with empirical priors (Section 4.1):
//   p(z_L) = N(0, I),  p(z_l | z_{l+1}) = N(mu_p, diag exp(logvar_p)) from
//   dense heads on level l+1's network,  p(x | z_1) as above.
// Options per level: deterministic units (a dense path from level l+1's
// network into level l's, beside z_l), batch normalisation, and the output
// decoder reading every level's z (concat_latents).
// The Gaussian output has a global, learned log-variance, the case eq. 9-12
// assume ("sigma_x^2 is a global parameter").
//
// lambda and z hold all levels side by side, level 1 first: (N, Z_1 + ... +
// Z_L); split_levels() cuts them. q factorises over levels given x, so every
// inference procedure and optimiser works on the one flat tensor.

#include "iai/nn/dense.h"
#include "iai/model/output_likelihood.h"
#include "iai/nn/mlp.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace iai::model {

struct LatentGaussianModelOptions {
  LatentGaussianModelOptions(int64_t data_dim, int64_t latent_dim)
      : data_dim_(data_dim), latent_dim_(latent_dim) {}
  /// D: data dimensions (784 for MNIST).
  TORCH_ARG(int64_t, data_dim);
  /// Z_1: latent dimensions of level 1 (the one that generates x). Paper's
  /// MNIST: 64.
  TORCH_ARG(int64_t, latent_dim);
  /// Decoder units per hidden layer. Default 512.
  TORCH_ARG(int64_t, hidden) = 512;
  /// Decoder hidden layers; 0 makes the decoder linear. Default 2.
  TORCH_ARG(int64_t, layers) = 2;
  /// Decoder layer type. Default sequential (docs/reference.md#experiments,
  /// MNIST).
  TORCH_ARG(nn::MlpKind, kind) = nn::MlpKind::kSequential;
  /// Output likelihood. Default Bernoulli.
  TORCH_ARG(Likelihood, likelihood) = Likelihood::kBernoulli;
  /// Gaussian output: where its log-variance comes from. Default one
  /// learned value per dimension (the global sigma_x^2 of eq. 9-12).
  TORCH_ARG(OutputVariance, output_variance) = OutputVariance::kDimension;
  /// Gaussian output: mean = sigmoid(W h) for data in [0, 1]
  /// (docs/reference.md#networks)
  /// instead of the linear W h. Default linear.
  TORCH_ARG(bool, sigmoid_mean) = false;

  // --- hierarchical models (empty upper_latent_dims = single-level) ---
  /// Z_2, Z_3, ...: latent dimensions of the levels above level 1. Paper's
  /// hierarchical MNIST: {32}.
  TORCH_ARG(std::vector<int64_t>, upper_latent_dims) = {};
  /// Units per hidden layer of each upper level's network. Default 256.
  TORCH_ARG(int64_t, upper_hidden) = 256;
  /// Deterministic units each upper level passes down to the level below
  /// (0 = none). Paper's hierarchical MNIST: 64.
  TORCH_ARG(int64_t, deterministic) = 0;
  /// Batch normalisation in every network of the model. Default off.
  TORCH_ARG(bool, batch_norm) = false;
  /// The output decoder reads [z_1, ..., z_L] instead of z_1 alone.
  TORCH_ARG(bool, concat_latents) = false;
};

/// What one top-down pass of the generative model gives for samples z of
/// every level (N, Z_1 + ... + Z_L).
struct GenerativePass {
  /// The output distribution's parameter, (N,D).
  torch::Tensor out;
  /// p(z_l | z_{l+1}) for l = 1..L-1 (index l-1), each (N,Z_l); empty for a
  /// single-level model (its prior is N(0, I)).
  std::vector<torch::Tensor> prior_mu, prior_logvar;
};

class LatentGaussianModelImpl
    : public torch::nn::Cloneable<LatentGaussianModelImpl> {
 public:
  explicit LatentGaussianModelImpl(LatentGaussianModelOptions options);
  void reset() override;

  /// Width of the decoder's output per example: D, or 2D for a Gaussian
  /// with a variance head.
  int64_t output_width() const;

  /// The top-down pass: priors of the lower levels and (unless with_output
  /// is false) the output, for z (N, Z) holding every level.
  GenerativePass generate(const torch::Tensor& z, bool with_output = true);

  /// z is (N,Z); returns the output distribution's parameters,
  /// (N,output_width()): logits (Bernoulli, multinomial) or the mean
  /// (Gaussian; then the log-variance too with a variance head).
  torch::Tensor decode(const torch::Tensor& z);

  /// log p(x, z) = log p(x | z_1) + sum_l log p(z_l | z_{l+1}) + log p(z_L),
  /// each summed over its dimensions. x is (B,D); z is (S*B,Z) sample-major
  /// as dist::rsample makes it; returns (S,B).
  torch::Tensor log_joint(const torch::Tensor& x, const torch::Tensor& z);

  /// log p(x | out) summed over D, for decoder outputs out (S,B,W) as
  /// decode() gives them viewed per sample; x (B,D) broadcasts. Returns (S,B).
  torch::Tensor output_log_prob(const torch::Tensor& x, const torch::Tensor& out);

  /// The precision-weighted error (x - mu_x) / sigma_x^2 of eq. 11 for each
  /// output out (S,B,W); see output_likelihood.h for each likelihood's.
  torch::Tensor output_error(const torch::Tensor& x, const torch::Tensor& out);

  /// The output's mean E[x | z] (sigmoid of the logits, the Gaussian mean,
  /// or word probabilities), (N,D): the reconstructions in Figure 5.
  torch::Tensor output_mean(const torch::Tensor& z);

  /// lambda_0 for a batch of B, (mu, logvar) each (B,Z) (docs/reference.md,
  /// training procedure, step 2): the top level's prior N(0, I); each
  /// lower level's prior
  /// computed from `samples` samples of the level above's lambda_0 and
  /// averaged (samples = 0: from the level above's mean, for point
  /// estimates). Zeros for a single-level model. No gradient.
  std::pair<torch::Tensor, torch::Tensor> prior(int64_t batch,
                                                int64_t samples = 10);

  int64_t data_dim() const { return options.data_dim(); }
  /// Width of lambda and z: Z_1 + ... + Z_L.
  int64_t latent_dim() const;
  /// Z_1, ..., Z_L.
  std::vector<int64_t> latent_dims() const;
  /// L.
  int64_t levels() const;
  /// Cuts (..., Z) into the levels' (..., Z_l) views, level 1 first.
  std::vector<torch::Tensor> split_levels(const torch::Tensor& t) const;

  LatentGaussianModelOptions options;

 private:
  /// The output head(s) on level 1's features h.
  torch::Tensor output_layer(const torch::Tensor& h);

 public:
  // Level 1's network and the output head (the names of single-level
  // checkpoints).
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};
  // Gaussian output's log-variance: (D) per dimension, (1) single; or a
  // head on level 1's features.
  torch::Tensor output_logvar;
  nn::Dense output_logvar_head{nullptr};
  // Levels 2..L (index l-2): network on [z_l, deterministic units from
  // above], the head giving p(z_{l-1} | z_l) as [mu, logvar], and the
  // deterministic units passed to level l-1.
  torch::nn::ModuleList upper_bodies{nullptr};
  torch::nn::ModuleList prior_heads{nullptr};
  torch::nn::ModuleList deterministic_heads{nullptr};
};
TORCH_MODULE(LatentGaussianModel);

}  // namespace iai::model
