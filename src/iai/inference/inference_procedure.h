#pragma once
// The one idea of the design: every way of inferring lambda (a standard
// encoder, an iterative inference model, a plain optimiser, a hybrid of
// them) is an inference procedure that maps (data x, current lambda_t,
// feedback from the ELBO at lambda_t) to lambda_{t+1} (eq. 5-8, 14-15).
// Training, evaluation and the comparisons are loops over procedures (see
// run_inference.h and train/step/training_step.h).

#include "iai/inference/feedback.h"
#include "iai/inference/posterior.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <memory>
#include <string>

namespace iai::inference {

class InferenceProcedureImpl : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;

  /// lambda_{t+1} from x (B,D), lambda_t and the feedback at lambda_t (both
  /// detached by the caller; only what feedback_kind() names is defined).
  /// The result carries the graph into the procedure's own parameters.
  virtual Posterior update(const torch::Tensor& x, const Posterior& current,
                           const Feedback& feedback) = 0;

  /// What update() reads, so the caller computes it (and nothing more).
  virtual FeedbackKind feedback_kind() const = 0;

  /// How the errors it reads are scaled (only meaningful when
  /// feedback_kind() reads errors).
  virtual ErrorWeighting error_weighting() const {
    return ErrorWeighting::kPrecision;
  }

  /// Whether q is a point estimate delta(mu) (lambda has no logvar).
  virtual bool point_estimate() const { return false; }

  /// Called at the start of each batch; procedures with state across
  /// iterations (recurrent models, optimiser moments) reset it here.
  virtual void begin_batch(int64_t /*batch*/) {}

  /// Short label for tables: "standard", "iterative", "adam", ...
  virtual std::string label() const = 0;
};

using InferenceProcedure = std::shared_ptr<InferenceProcedureImpl>;

}  // namespace iai::inference
