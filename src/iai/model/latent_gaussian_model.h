#pragma once
// The single-level latent Gaussian model of the paper's Section 4:
//   p(z) = N(0, I),  p(x | z) = Bernoulli(sigmoid(decoder(z)))  (binary data)
//                            or N(decoder(z), diag exp(output_logvar)).
// The Gaussian output has a global, learned log-variance, the case eq. 9-12
// assume ("sigma_x^2 is a global parameter").

#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <string>

namespace iai::model {

enum class Likelihood { kBernoulli, kGaussian };

/// "bernoulli" | "gaussian" -> Likelihood; throws iai::Error otherwise.
Likelihood parse_likelihood(const std::string& name);
std::string to_string(Likelihood likelihood);

struct LatentGaussianModelOptions {
  LatentGaussianModelOptions(int64_t data_dim, int64_t latent_dim)
      : data_dim_(data_dim), latent_dim_(latent_dim) {}
  /// D: data dimensions (784 for MNIST).
  TORCH_ARG(int64_t, data_dim);
  /// Z: latent dimensions. Paper's MNIST single-level: 64.
  TORCH_ARG(int64_t, latent_dim);
  /// Decoder units per hidden layer. Default 512.
  TORCH_ARG(int64_t, hidden) = 512;
  /// Decoder hidden layers; 0 makes the decoder linear. Default 2.
  TORCH_ARG(int64_t, layers) = 2;
  /// Decoder layer type. Default sequential (REFERENCE.md, MNIST).
  TORCH_ARG(nn::MlpKind, kind) = nn::MlpKind::kSequential;
  /// Output likelihood. Default Bernoulli.
  TORCH_ARG(Likelihood, likelihood) = Likelihood::kBernoulli;
};

class LatentGaussianModelImpl
    : public torch::nn::Cloneable<LatentGaussianModelImpl> {
 public:
  explicit LatentGaussianModelImpl(LatentGaussianModelOptions options);
  void reset() override;

  /// z is (N,Z); returns the output distribution's parameter, (N,D):
  /// logits (Bernoulli) or means (Gaussian).
  torch::Tensor decode(const torch::Tensor& z);

  /// log p(x | z) summed over D. x is (B,D); z is (S*B,Z) sample-major as
  /// dist::rsample makes it; returns (S,B).
  torch::Tensor log_likelihood(const torch::Tensor& x, const torch::Tensor& z);

  /// log p(x | out) summed over D, for decoder outputs out (S,B,D) as
  /// decode() gives them viewed per sample; x (B,D) broadcasts. Returns (S,B).
  torch::Tensor output_log_prob(const torch::Tensor& x, const torch::Tensor& out);

  /// The precision-weighted error (x - mu_x) / sigma_x^2 of eq. 11 for each
  /// output out (S,B,D); for a Bernoulli output x - sigmoid(logits).
  torch::Tensor output_error(const torch::Tensor& x, const torch::Tensor& out);

  /// The output's mean E[x | z] (sigmoid of the logits, or the Gaussian
  /// mean), (N,D): the reconstructions in Figure 5.
  torch::Tensor output_mean(const torch::Tensor& z);

  /// Prior parameters for a batch of B: (mu_p, logvar_p), each (B,Z) zeros.
  std::pair<torch::Tensor, torch::Tensor> prior(int64_t batch) const;

  int64_t data_dim() const { return options.data_dim(); }
  int64_t latent_dim() const { return options.latent_dim(); }

  LatentGaussianModelOptions options;
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};
  torch::Tensor output_logvar;  // (D), Gaussian likelihood only
};
TORCH_MODULE(LatentGaussianModel);

}  // namespace iai::model
