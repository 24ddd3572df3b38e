#pragma once
// The one idea of the design: every way of inferring lambda (a standard
// encoder, an iterative inference model, a plain optimiser) is an inference
// procedure that maps (data x, current lambda_t, gradient of the ELBO at
// lambda_t) to lambda_{t+1} (eq. 5-8). Training, evaluation and the
// comparisons are loops over procedures (see run_inference.h and
// train/training_step.h).

#include "iai/inference/posterior.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>

namespace iai::inference {

class InferenceProcedureImpl : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;

  /// lambda_{t+1} from x (B,D), lambda_t and grad = grad_lambda L(lambda_t)
  /// (both detached by the caller; grad undefined unless needs_gradient()).
  /// The result carries the graph into the procedure's own parameters.
  virtual Posterior update(const torch::Tensor& x, const Posterior& current,
                           const Posterior& grad) = 0;

  /// Whether update() reads the ELBO's gradient, so the caller computes it.
  virtual bool needs_gradient() const = 0;

  /// Called at the start of each batch; procedures with state across
  /// iterations (recurrent models, optimiser moments) reset it here.
  virtual void begin_batch(int64_t /*batch*/) {}

  /// Short label for tables: "standard", "iterative", ...
  virtual std::string label() const = 0;
};

using InferenceProcedure = std::shared_ptr<InferenceProcedureImpl>;

}  // namespace iai::inference
