#pragma once
// The loop every run of an inference procedure shares (eq. 6): begin_batch,
// lambda_0 from the prior, the feedback at lambda_0, then for t = 1..T
// lambda_t = procedure(x, lambda_{t-1}, feedback_{t-1}) and the feedback at
// lambda_t. Two forms:
//  - detached (here): every iteration starts from a constant lambda_{t-1},
//    so no graph spans iterations. Evaluation, `iai infer`, the comparisons
//    (run_inference) and the paper's training step (train/step/training_step)
//    run it; they differ only in what they do at each lambda_t.
//  - unrolled (train/step/training_step, semi-amortised training): the
//    iterations stay one graph, so it keeps its own loop, starting from
//    begin_inference.

#include "iai/inference/feedback.h"
#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <utility>

namespace iai::inference {

/// procedure.begin_batch and lambda_0 (initial_posterior).
Posterior begin_inference(model::GenerativeModelImpl& model,
                          InferenceProcedureImpl& procedure, int64_t batch);

/// What one detached iteration hands the next: lambda_t (detached) and the
/// feedback at it.
struct LoopState {
  Posterior lambda;
  Feedback feedback;
};

/// begin_inference, lambda_0 detached, and the feedback at lambda_0
/// (elbo_with_feedback, gradient_batch as there) when the procedure reads
/// any.
LoopState begin_detached_inference(model::GenerativeModelImpl& model,
                                   InferenceProcedureImpl& procedure,
                                   const torch::Tensor& x, int64_t samples,
                                   int64_t gradient_batch);

/// Whether procedure.update keeps phi's graph: training pushes
/// grad_lambda L_t into phi through it; evaluation needs none.
enum class PhiGraph { kKeep, kDrop };

/// The detached iterations t = 1..T from `state`:
///   next  = procedure.update(x, lambda_{t-1}, feedback_{t-1})
///   state = at_step(t, next)
/// at_step evaluates the ELBO at lambda_t = next and returns lambda_t
/// detached with the feedback there. A template, so the per-iteration call
/// costs nothing.
template <class AtStep>
void run_detached_iterations(InferenceProcedureImpl& procedure,
                             const torch::Tensor& x, LoopState state,
                             int64_t iterations, PhiGraph graph,
                             AtStep&& at_step) {
  for (int64_t t = 1; t <= iterations; ++t) {
    Posterior next;
    if (graph == PhiGraph::kKeep) {
      next = procedure.update(x, state.lambda, state.feedback);
    } else {
      torch::NoGradGuard no_grad;
      next = procedure.update(x, state.lambda, state.feedback).detach();
    }
    state = at_step(t, std::as_const(next));
  }
}

}  // namespace iai::inference
