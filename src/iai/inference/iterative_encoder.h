#pragma once
// The iterative inference model of Section 4, every form as an option:
//   h = MLP([encode(feedback_t), mu_t, logvar_t, x - 0.5])      (eq. 6, 14-15)
//       [-> LSTM cell, state carried across the iterations of a batch]
//   highway: mu_{t+1} = g_mu * mu_t + (1 - g_mu) * W_mu h,  g_mu = sigmoid(V_mu
//   h)
//            logvar_{t+1} likewise with its own gate             (eq. 7-8)
//   direct:  mu_{t+1} = W_mu h, logvar_{t+1} = W_logvar h
// logvar clamped to [-15, 15]; no logvar for a point estimate. The feedback
// (gradient or errors) and lambda_t are inputs only when encoding != none:
// a data-only, direct-update model run once is exactly the standard
// inference model (Section 4.3). All inputs arrive detached (the caller's
// job), so no second-order terms flow into phi and L_t reaches phi only
// through this application; the recurrent state is carried detached too.

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"

#include <torch/nn/modules/rnn.h>

#include <array>
#include <tuple>

namespace iai::inference {

class IterativeEncoderImpl : public InferenceProcedureImpl {
 public:
  explicit IterativeEncoderImpl(EncoderOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override { return options.encoding(); }
  ErrorWeighting error_weighting() const override {
    return options.error_weighting();
  }
  bool point_estimate() const override { return options.point_estimate(); }
  void begin_batch(int64_t batch) override;
  std::string label() const override { return "iterative"; }

  /// Width of the network's input, e.g. 4Z (log-sign gradient) + 2Z
  /// (lambda) + D (data) for the paper's MNIST model.
  int64_t input_features() const;

  /// The recurrent state carried to the next iteration (empty at the start
  /// of a batch, and always for feed-forward models).
  const torch::optional<std::tuple<torch::Tensor, torch::Tensor>>& state()
      const {
    return state_;
  }

  EncoderOptions options;
  nn::Mlp body{nullptr};
  torch::nn::LSTMCell lstm{nullptr};  // recurrent models only
  /// -> per lambda component: [proposal, gate] (highway) or [proposal].
  nn::Dense head{nullptr};

 private:
  /// Whether the first layer's product is split into x's part, computed
  /// once per batch (data_part), and the rest's (`others`: the feedback's
  /// encoding and lambda) at each iteration: float32 on the CPU's own
  /// kernels, one dtype and device on LibTorch's operators; no batch norm,
  /// nothing of the rest needing a gradient, and either no gradient at all
  /// (inference) or the training step's deferred weight gradients.
  bool splits_first_layer(const torch::Tensor& x,
                          const std::vector<torch::Tensor>& others);
  /// x's part of the first product and bias (nn::constant_columns_part),
  /// made again when x or the layer's parameters change.
  const torch::Tensor& data_part(const torch::Tensor& x);
  torch::Tensor data_of_, data_, data_part_;
  /// x's and the layer's weight's and bias's storage and version.
  using DataStamp = std::array<int64_t, 6>;
  DataStamp data_stamp_{};
  /// Tells an active DeferredWeightGradients that the first layer's input
  /// columns holding x are the same at every iteration.
  void declare_constant_data();
  torch::optional<std::tuple<torch::Tensor, torch::Tensor>> state_;
};

}  // namespace iai::inference
