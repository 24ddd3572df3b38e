#pragma once
// The iterative inference model of eq. 6-8 with gradient encoding:
//   h = MLP([encode(grad_lambda L_t), mu_t, logvar_t, x - 0.5])
//   mu_{t+1}     = g_mu * mu_t + (1 - g_mu) * W_mu h,    g_mu = sigmoid(V_mu h)
//   logvar_{t+1} = same with its own gate, clamped to [-15, 15].
// All inputs arrive detached (the caller's job), so no second-order terms
// flow into phi and L_t reaches phi only through this application.

#include "iai/inference/inference_procedure.h"
#include "iai/inference/standard_encoder.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

namespace iai::inference {

class IterativeEncoderImpl : public InferenceProcedureImpl {
 public:
  explicit IterativeEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Posterior& grad) override;
  bool needs_gradient() const override { return true; }
  std::string label() const override { return "iterative"; }

  /// Width of the network's input: 4Z (gradient) + 2Z (lambda) [+ D].
  int64_t input_features() const;

  EncoderOptions options;
  nn::Mlp body{nullptr};
  nn::Dense head{nullptr};  // -> [f_mu, gate_mu, f_logvar, gate_logvar]
};

}  // namespace iai::inference
