#pragma once
// The latent Gaussian models of the paper's Section 4, one implementation of
// the generative model (generative_model.h): single-level,
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
// Level 1's network and output head may instead be a TorchScript module
// (decoder_script; scripted_decoder.h): any decoder a user writes in PyTorch.

#include "iai/model/generative_model.h"
#include "iai/model/output_likelihood.h"
#include "iai/model/scripted_decoder.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

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

  // --- a decoder of the user's own ---
  /// The bytes of a TorchScript file to use as level 1's network and output
  /// head (scripted_decoder.h); empty = the MLP above. hidden, layers, kind
  /// and sigmoid_mean do not apply to it.
  TORCH_ARG(std::string, decoder_script) = "";
  /// Where decoder_script came from, for messages.
  TORCH_ARG(std::string, decoder_source) = "";
};

class LatentGaussianModelImpl : public GenerativeModelImpl {
 public:
  explicit LatentGaussianModelImpl(LatentGaussianModelOptions options);
  /// Builds (or rebuilds) the networks from options.
  void reset();

  // GenerativeModel (generative_model.h).
  int64_t data_dim() const override { return options.data_dim(); }
  std::vector<int64_t> latent_dims() const override;
  Likelihood likelihood() const override { return options.likelihood(); }
  int64_t output_width() const override;
  GenerativePass generate(const torch::Tensor& z,
                          bool with_output = true) override;
  torch::Tensor output_log_prob(const torch::Tensor& x,
                                const torch::Tensor& out) override;
  torch::Tensor output_error(const torch::Tensor& x,
                             const torch::Tensor& out) override;
  torch::Tensor output_expectation(const torch::Tensor& out) override;

  LatentGaussianModelOptions options;

 private:
  /// The output parameter from what level 1's network reads: the MLP and
  /// its output head(s), or the user's module.
  torch::Tensor level1_output(const torch::Tensor& in);

 public:
  // Level 1's network and the output head (the names of single-level
  // checkpoints); or, with decoder_script, the user's module in their place.
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};
  ScriptedDecoder decoder{nullptr};
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
