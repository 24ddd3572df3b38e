#pragma once
// The inference loop shared by evaluation, `iai infer` and the comparisons:
// lambda_0 from the prior, then lambda_t = procedure(x, lambda_{t-1},
// feedback at lambda_{t-1}) for t = 1..T (eq. 6), with the ELBO at every
// step. Nothing here trains: parameters get no gradient.

#include "iai/inference/inference_procedure.h"
#include "iai/model/elbo.h"
#include "iai/model/generative_model.h"

#include <functional>
#include <vector>

namespace iai::inference {

/// lambda_0: q initialised to the prior (docs/reference.md, training
/// procedure, step 2), each lower
/// level's to its prior given 10 samples of the level above, averaged; a
/// point estimate starts at the prior's mean given the mean above.
Posterior initial_posterior(model::GenerativeModelImpl& model, int64_t batch,
                            bool point = false);

/// The ELBO at lambda and the feedback `kind` asks for. The gradient is
/// grad_lambda of sum_batch(L) / gradient_batch: with gradient_batch = the
/// training batch size B this is the batch-mean gradient the paper's models
/// were trained on (each example's gradient / B), whatever the size of the
/// batch evaluated now. An iterative model reads log|grad|, so this scale
/// must match training. Gradients reach lambda only; all is detached.
struct ElboWithFeedback {
  model::ElboTerms terms;
  Feedback feedback;
};
ElboWithFeedback elbo_with_feedback(
    model::GenerativeModelImpl& model, const torch::Tensor& x,
    const Posterior& lambda, int64_t samples, int64_t gradient_batch,
    FeedbackKind kind, ErrorWeighting weighting = ErrorWeighting::kPrecision);

/// One iteration's outcome, detached: lambda_t and the ELBO terms at it.
struct InferenceStep {
  Posterior posterior;
  model::ElboTerms terms;
};

/// Runs `iterations` updates of `procedure` on x (B,D) from lambda_0 with
/// `samples` samples per ELBO estimate; gradient_batch as for
/// elbo_with_feedback (the training batch size). Returns steps 1..T. When
/// given, on_step(t, step) is called after each iteration (timing, progress).
std::vector<InferenceStep> run_inference(
    model::GenerativeModelImpl& model, InferenceProcedureImpl& procedure,
    const torch::Tensor& x, int64_t iterations, int64_t samples,
    int64_t gradient_batch,
    const std::function<void(int64_t, const InferenceStep&)>& on_step = {});

}  // namespace iai::inference
