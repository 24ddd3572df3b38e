#include "iai/inference/run_inference.h"

#include "iai/inference/inference_loop.h"
#include "iai/model/elbo_gradient.h"

#include <torch/autograd.h>

namespace iai::inference {

Posterior initial_posterior(model::GenerativeModelImpl& model, int64_t batch,
                            bool point) {
  // A point estimate's lower levels start at the prior given the mean above.
  auto [mu, logvar] = model.prior(batch, point ? 0 : 10);
  if (point) return {mu, {}};
  return {mu, logvar};
}

ElboWithFeedback elbo_with_feedback(model::GenerativeModelImpl& model,
                                    const torch::Tensor& x,
                                    const Posterior& lambda, int64_t samples,
                                    int64_t gradient_batch, FeedbackKind kind,
                                    ErrorWeighting weighting) {
  ElboWithFeedback out;
  model::PredictionErrors errors;
  errors.precision_weighted = weighting == ErrorWeighting::kPrecision;
  if (reads_gradient(kind) && !reads_errors(kind) &&
      model::has_elbo_gradient(model, x, lambda.mu, lambda.logvar)) {
    // By hand, without autograd (model/elbo_gradient.h).
    auto by = model::elbo_gradient(model, x, lambda.mu, lambda.logvar, samples,
                                   1.0 / static_cast<double>(gradient_batch));
    out.terms = std::move(by.terms);
    out.feedback.gradient = {by.mu, by.logvar};
    return out;
  }
  if (reads_gradient(kind)) {
    torch::AutoGradMode enable(true);
    auto at = lambda.leaf();
    auto terms = model::elbo(model, x, at.mu, at.logvar, samples,
                             reads_errors(kind) ? &errors : nullptr);
    auto objective = terms.elbo.sum() / static_cast<double>(gradient_batch);
    auto grads = torch::autograd::grad({objective}, at.tensors());
    out.terms = terms.detached();
    out.feedback.gradient = {grads[0], at.point() ? torch::Tensor() : grads[1]};
    out.feedback.error_x = errors.error_x;
    out.feedback.error_z = errors.error_z;
    return out;
  }
  torch::NoGradGuard no_grad;
  out.terms = model::elbo(model, x, lambda.mu, lambda.logvar, samples,
                          reads_errors(kind) ? &errors : nullptr)
                  .detached();
  out.feedback.error_x = errors.error_x;
  out.feedback.error_z = errors.error_z;
  return out;
}

std::vector<InferenceStep> run_inference(
    model::GenerativeModelImpl& model, InferenceProcedureImpl& procedure,
    const torch::Tensor& x, int64_t iterations, int64_t samples,
    int64_t gradient_batch,
    const std::function<void(int64_t, const InferenceStep&)>& on_step) {
  const FeedbackKind kind = procedure.feedback_kind();
  std::vector<InferenceStep> steps;
  steps.reserve(iterations);
  run_detached_iterations(
      procedure, x,
      begin_detached_inference(model, procedure, x, samples, gradient_batch),
      iterations, PhiGraph::kDrop,  // phi needs no gradient here
      [&](int64_t t, const Posterior& lambda) {
        // The feedback at lambda_T feeds no update: only its ELBO is
        // needed, so no backward pass there (1 of T gradients saved).
        const FeedbackKind needed = t < iterations ? kind : FeedbackKind::kNone;
        auto at = elbo_with_feedback(model, x, lambda, samples, gradient_batch,
                                     needed, procedure.error_weighting());
        steps.push_back({lambda, at.terms});
        if (on_step) on_step(t, steps.back());
        return LoopState{lambda, std::move(at.feedback)};
      });
  return steps;
}

}  // namespace iai::inference
