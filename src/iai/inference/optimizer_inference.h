#pragma once
// Inference by a plain gradient optimiser acting directly on lambda (eq. 4
// and its momentum / adaptive relatives): the non-amortised baseline of
// Figure 4 and the refinement stage of hybrid procedures. It has no learned
// parameters; its state (moments, step count) lives for one batch and is
// reset by begin_batch(). Every example is an independent problem, so the
// update ascends each example's own ELBO: the incoming gradient (of the
// batch-mean ELBO, see run_inference.h) is multiplied by gradient_scale,
// which callers set to the gradient batch size.
//
// The updates follow torch::optim's conventions (ascent on L = descent on
// -L), written out-of-place so that they are differentiable when lambda and
// the gradient carry a graph (semi-amortised training).

#include "iai/inference/inference_procedure.h"

#include <torch/arg.h>

#include <string>
#include <vector>

namespace iai::inference {

enum class OptimizerKind {
  kSgd,
  kMomentum,
  kNesterov,
  kRmsprop,
  kAdagrad,
  kAdam
};

/// "sgd" | "momentum" | "nesterov" | "rmsprop" | "adagrad" | "adam".
OptimizerKind parse_optimizer_kind(const std::string& name);
/// The names parse_optimizer_kind accepts, in OptimizerKind's order.
const std::vector<std::string>& optimizer_kind_names();
std::string to_string(OptimizerKind kind);
/// Every kind, in the order above.
std::vector<OptimizerKind> all_optimizer_kinds();

struct OptimizerOptions {
  explicit OptimizerOptions(OptimizerKind kind) : kind_(kind) {}
  TORCH_ARG(OptimizerKind, kind);
  /// Step size.
  TORCH_ARG(double, lr) = 0.01;
  /// Momentum / Nesterov: velocity decay.
  TORCH_ARG(double, momentum) = 0.9;
  /// RMSProp: squared-gradient decay.
  TORCH_ARG(double, alpha) = 0.99;
  /// Adam: moment decays.
  TORCH_ARG(double, beta1) = 0.9;
  TORCH_ARG(double, beta2) = 0.999;
  /// RMSProp / Adam denominator offset (Adagrad uses 1e-10, as torch::optim).
  TORCH_ARG(double, eps) = 1e-8;
  /// Factor on the incoming gradient (the gradient batch size, so each
  /// example's own gradient is followed). Default 1.
  TORCH_ARG(double, gradient_scale) = 1.0;
  /// q = delta(mu): optimise mu only.
  TORCH_ARG(bool, point_estimate) = false;
};

class OptimizerInferenceImpl : public InferenceProcedureImpl {
 public:
  explicit OptimizerInferenceImpl(OptimizerOptions options);
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override;
  FeedbackKind feedback_kind() const override {
    return FeedbackKind::kGradient;
  }
  bool point_estimate() const override { return options.point_estimate(); }
  void begin_batch(int64_t batch) override;
  std::string label() const override { return to_string(options.kind()); }

  OptimizerOptions options;

 private:
  /// One parameter tensor's step; `slot` indexes its state.
  torch::Tensor step(size_t slot, const torch::Tensor& value,
                     const torch::Tensor& ascent);
  int64_t steps_ = 0;
  std::vector<torch::Tensor> first_, second_;  // per slot: mu [, logvar]
};

}  // namespace iai::inference
