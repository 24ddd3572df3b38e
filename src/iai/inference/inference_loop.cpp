#include "iai/inference/inference_loop.h"

#include "iai/inference/run_inference.h"

namespace iai::inference {

Posterior begin_inference(model::GenerativeModelImpl& model,
                          InferenceProcedureImpl& procedure, int64_t batch) {
  procedure.begin_batch(batch);
  return initial_posterior(model, batch, procedure.point_estimate());
}

LoopState begin_detached_inference(model::GenerativeModelImpl& model,
                                   InferenceProcedureImpl& procedure,
                                   const torch::Tensor& x, int64_t samples,
                                   int64_t gradient_batch) {
  // Detached: a lower level's lambda_0 depends on the decoder's priors,
  // which no iteration may train through.
  LoopState state{begin_inference(model, procedure, x.size(0)).detach(), {}};
  const FeedbackKind kind = procedure.feedback_kind();
  if (kind != FeedbackKind::kNone) {
    state.feedback =
        elbo_with_feedback(model, x, state.lambda, samples, gradient_batch,
                           kind, procedure.error_weighting())
            .feedback;
  }
  return state;
}

}  // namespace iai::inference
