#pragma once
// The standard inference model (eq. 5): lambda = f(x; phi), one pass from the
// data alone. It is the T = 1 case of an inference procedure.

#include "iai/inference/inference_procedure.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

namespace iai::inference {

struct EncoderOptions {
  EncoderOptions(int64_t data_dim, int64_t latent_dim)
      : data_dim_(data_dim), latent_dim_(latent_dim) {}
  /// D: data dimensions.
  TORCH_ARG(int64_t, data_dim);
  /// Z: latent dimensions.
  TORCH_ARG(int64_t, latent_dim);
  /// Units per hidden layer. Default 512.
  TORCH_ARG(int64_t, hidden) = 512;
  /// Hidden layers. Default 2.
  TORCH_ARG(int64_t, layers) = 2;
  /// Layer type. Default highway (REFERENCE.md, MNIST).
  TORCH_ARG(nn::MlpKind, kind) = nn::MlpKind::kHighway;
  /// Iterative models: whether x is an input besides the gradient. Default
  /// true (the paper's MNIST setting).
  TORCH_ARG(bool, encode_data) = true;
};

/// Bounds on log sigma^2 of q (REFERENCE.md): keeps exp(logvar) finite.
constexpr double kMinLogvar = -15.0;
constexpr double kMaxLogvar = 15.0;

/// The data as an inference model sees it: x - 0.5 for data in [0, 1].
torch::Tensor encode_data(const torch::Tensor& x);

class StandardEncoderImpl : public InferenceProcedureImpl {
 public:
  explicit StandardEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Posterior& grad) override;
  bool needs_gradient() const override { return false; }
  std::string label() const override { return "standard"; }

  EncoderOptions options;
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};  // -> [mu, logvar]
};

}  // namespace iai::inference
