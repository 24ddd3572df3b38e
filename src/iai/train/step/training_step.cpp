#include "iai/train/step/training_step.h"

#include "iai/inference/inference_loop.h"
#include "iai/inference/run_inference.h"

#include "iai/core/error.h"
#include "iai/model/elbo_gradient.h"
#include "iai/nn/deferred_weight_gradients.h"

#include <torch/autograd.h>

namespace iai::train {

namespace {

using inference::Feedback;
using inference::FeedbackKind;
using inference::LoopState;
using inference::Posterior;

/// theta's .grad := g, gradients of -L taken as they are (zero where theta
/// does not reach the ELBO). A view among them (autograd may hand one out)
/// is copied: an optimiser's zero_grad() cannot detach a view in place.
void take_decoder_gradients(const std::vector<torch::Tensor>& theta,
                            const std::vector<torch::Tensor>& g, size_t first) {
  for (size_t i = 0; i < theta.size(); ++i) {
    auto gi = g[first + i];
    theta[i].mutable_grad() = !gi.defined()  ? torch::zeros_like(theta[i])
                              : gi.is_view() ? gi.clone()
                                             : gi;
  }
}

/// What the encoder reads of a feedback: its finiteness is checked.
void check_feedback(FiniteChecks& checks, int64_t t, const Feedback& f) {
  checks.check_all(t, "encoded input",
                   {f.gradient.mu, f.gradient.logvar, f.error_x, f.error_z});
}

/// The divisor of every batch's summed ELBO: the training batch size.
double divisor(const torch::Tensor& x, int64_t gradient_batch) {
  return static_cast<double>(gradient_batch > 0 ? gradient_batch : x.size(0));
}

}  // namespace

StepOutcome accumulate_gradients(model::GenerativeModelImpl& model,
                                 inference::InferenceProcedureImpl& procedure,
                                 const torch::Tensor& x, int64_t iterations,
                                 int64_t samples, int64_t gradient_batch,
                                 bool record_gradients) {
  const FeedbackKind kind = procedure.feedback_kind();
  const double batch = divisor(x, gradient_batch);
  // The feedback is the gradient of sum_batch(L) / training batch size.
  LoopState start = inference::begin_detached_inference(
      model, procedure, x, samples, static_cast<int64_t>(batch));
  const std::vector<torch::Tensor> theta = model.parameters();
  const double inv_t = 1.0 / static_cast<double>(iterations);
  model::ElboTerms terms;
  FiniteChecks checks;
  check_feedback(checks, 0, start.feedback);
  // The encoder's Dense layers sum their weight gradients over the T
  // backward passes below in one product each (nn/deferred_weight_
  // gradients.h): on a GPU fewer and larger kernels, which a CUDA graph
  // captures as it captures the rest of the step.
  nn::DeferredWeightGradients deferred(procedure.parameters());
  // The ELBO's gradients by hand where the model allows it
  // (model/elbo_gradient.h), else through autograd.
  const bool by_hand =
      !reads_errors(kind) &&
      model::has_elbo_gradient(model, x, start.lambda.mu, start.lambda.logvar);
  // |dL_i/dmu_i| summed at each lambda_t: g is lambda's gradient of the
  // summed ELBO over the batch divisor, so each example's own is g * batch.
  std::vector<torch::Tensor> mu_gradient_sums;
  const int64_t mu_columns = start.lambda.mu.size(-1);

  // Inputs detached: no second-order terms, no backprop across iterations.
  inference::run_detached_iterations(
      procedure, x, std::move(start), iterations, inference::PhiGraph::kKeep,
      [&](int64_t t, const Posterior& next) {
        const bool last = t == iterations;
        Posterior at = next.leaf();
        model::PredictionErrors errors;
        errors.precision_weighted = procedure.error_weighting() ==
                                    inference::ErrorWeighting::kPrecision;
        std::vector<torch::Tensor> g;  // lambda's gradients of L_t
        size_t n_lambda = 0;
        if (by_hand) {
          // The decoder's gradients of -L_T (its .grad) at the last one.
          auto by =
              model::elbo_gradient(model, x, at.mu, at.logvar, samples,
                                   1.0 / batch, last ? -1.0 / batch : 0.0);
          terms = std::move(by.terms);
          g = {by.mu, by.logvar};
          n_lambda = 2;
        } else {
          terms = model::elbo(model, x, at.mu, at.logvar, samples,
                              reads_errors(kind) ? &errors : nullptr);
          // Batch-mean L_t (over the training batch size).
          auto objective = terms.elbo.sum() / batch;

          std::vector<torch::Tensor> wrt = at.tensors();
          n_lambda = wrt.size();
          if (last) wrt.insert(wrt.end(), theta.begin(), theta.end());
          // At the last iteration the gradients are those of -L_t: the
          // decoder's are then its .grad as they come, not a negated copy
          // of each, and only lambda's two small ones are turned back (a
          // sign is exact: the same bits as negating the decoder's).
          g = torch::autograd::grad({last ? -objective : objective}, wrt,
                                    /*grad_outputs=*/{},
                                    /*retain_graph=*/false,
                                    /*create_graph=*/false,
                                    /*allow_unused=*/true);
          if (last) {
            for (size_t i = 0; i < n_lambda; ++i) g[i] = -g[i];
            take_decoder_gradients(theta, g, n_lambda);
          }
        }
        checks.check(t, "ELBO", terms.elbo);
        if (record_gradients) {
          mu_gradient_sums.push_back(g[0].abs().sum().to(torch::kDouble) *
                                     batch);
        }
        Feedback feedback{{g[0], at.point() ? torch::Tensor() : g[1]},
                          errors.error_x,
                          errors.error_z};
        // The last feedback is no encoder's input: its gradients are
        // checked as the parameters' (train_batch).
        if (!last) check_feedback(checks, t, feedback);
        // grad_phi(-L_t / T) = J_phi^T (-grad_lambda L_t / T).
        if (next.mu.requires_grad()) {
          std::vector<torch::Tensor> outputs = next.tensors(), seeds;
          for (size_t i = 0; i < n_lambda; ++i) seeds.push_back(-inv_t * g[i]);
          torch::autograd::backward(outputs, seeds);
        }
        return LoopState{at.detach(), std::move(feedback)};
      });
  deferred.flush();
  return {terms.detached(), std::move(checks),
          record_gradients ? torch::stack(mu_gradient_sums) : torch::Tensor(),
          mu_columns};
}

StepOutcome accumulate_unrolled_gradients(
    model::GenerativeModelImpl& model,
    inference::InferenceProcedureImpl& procedure, const torch::Tensor& x,
    int64_t iterations, int64_t samples, int64_t gradient_batch) {
  IAI_CHECK(!inference::reads_errors(procedure.feedback_kind()),
            "unrolled training supports gradient feedback only");
  const int64_t batch = x.size(0);
  const double inv_b = 1.0 / divisor(x, gradient_batch);
  FiniteChecks checks;
  int64_t t_now = 0;  // the iteration whose lambda feedback_at reads
  // Not detached, unlike begin_detached_inference: every step stays in the
  // graph that carries grad_lambda L_T back into phi.
  Posterior lambda = inference::begin_inference(model, procedure, batch);
  auto feedback_at = [&](const Posterior& at) {
    // grad_lambda of the batch-mean ELBO, kept differentiable.
    auto terms = model::elbo(model, x, at.mu, at.logvar, samples);
    checks.check(t_now, "ELBO", terms.elbo);
    auto g = torch::autograd::grad({terms.elbo.sum() * inv_b}, at.tensors(), {},
                                   /*retain_graph=*/true,
                                   /*create_graph=*/true);
    Feedback f{{g[0], at.point() ? torch::Tensor() : g[1]}, {}, {}};
    check_feedback(checks, t_now, f);
    return f;
  };
  Feedback feedback;
  if (inference::reads_gradient(procedure.feedback_kind())) {
    feedback = feedback_at(lambda.leaf());
  }
  for (int64_t t = 1; t <= iterations; ++t) {
    lambda = procedure.update(x, lambda, feedback);
    t_now = t;
    if (t < iterations) feedback = feedback_at(lambda);
  }

  // L_T at lambda_T held fixed gives the decoder's gradient and
  // grad_lambda L_T, which is then pushed through the unrolled steps into phi.
  const std::vector<torch::Tensor> theta = model.parameters();
  const std::vector<torch::Tensor> phi = procedure.parameters();
  Posterior at = lambda.leaf();
  auto terms = model::elbo(model, x, at.mu, at.logvar, samples);
  checks.check(iterations, "ELBO", terms.elbo);
  std::vector<torch::Tensor> wrt = at.tensors();
  const size_t n_lambda = wrt.size();
  wrt.insert(wrt.end(), theta.begin(), theta.end());
  // Gradients of -L_T: the decoder's are its .grad as they come, lambda's
  // are the seeds of the pass into phi.
  auto g = torch::autograd::grad({-(terms.elbo.sum() * inv_b)}, wrt, {}, false,
                                 false, /*allow_unused=*/true);
  take_decoder_gradients(theta, g, n_lambda);
  if (!phi.empty() && lambda.mu.requires_grad()) {
    std::vector<torch::Tensor> seeds(g.begin(), g.begin() + n_lambda);
    // Only phi: the unrolled steps also depend on theta, but the decoder
    // is trained at lambda_T held fixed.
    auto g_phi = torch::autograd::grad(lambda.tensors(), phi, seeds, false,
                                       false, /*allow_unused=*/true);
    for (size_t i = 0; i < phi.size(); ++i) {
      if (!g_phi[i].defined()) continue;
      auto& grad = phi[i].mutable_grad();
      // A fresh tensor: autograd's outputs may be views, which the
      // optimiser's zero_grad() cannot detach in place.
      grad = grad.defined() ? grad + g_phi[i] : g_phi[i].clone();
    }
  }
  return {terms.detached(), std::move(checks)};
}

}  // namespace iai::train
