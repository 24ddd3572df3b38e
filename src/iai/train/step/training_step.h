#pragma once
// Gradients of one training batch, exactly as the paper's procedure
// (docs/reference.md#training-procedure):
//   lambda_0 = prior; grad_0 = grad_lambda L(lambda_0) if the procedure reads
//   it for t = 1..T: lambda_t = f(x, lambda_{t-1}, grad_{t-1}) (inputs
//   detached)
//                 L_t with S samples; grad_t = grad_lambda L_t (batch mean)
//   encoder (phi) gradient  = mean over t of grad_phi(-L_t)
//   decoder (theta) gradient = grad_theta(-L_T), the last iteration only.
// Each L_t is evaluated at a detached copy of lambda_t, so one decoder backward
// per iteration yields grad_lambda L_t, which both feeds the next iteration and
// is pushed into phi through lambda_t's graph (chain rule). Intermediate
// iterations never compute decoder weight gradients.

#include "iai/inference/inference_procedure.h"
#include "iai/model/elbo.h"
#include "iai/model/generative_model.h"
#include "iai/train/step/finiteness.h"

namespace iai::train {

/// Outcome of one batch: the ELBO terms at lambda_T (detached, (B) each)
/// and the finiteness of every iteration's ELBO and encoded input (not yet
/// read back; train_batch adds the gradients' and reads them once).
struct StepOutcome {
  model::ElboTerms final_terms;
  FiniteChecks checks;
  /// Figure 6's record, taken from the gradients the step computes anyway
  /// (train/step/gradient_record.h): for t = 1..T, the sum over the rows and
  /// mu's columns of |dL_i/dmu_i|, each example's own ELBO gradient at
  /// lambda_t; (T) double. Undefined unless asked for (record_gradients),
  /// and where the step does not take them (unrolled training).
  torch::Tensor mu_gradient_sums;
  int64_t mu_columns = 0;  // mu's columns, which the record's mean divides by
};

/// Zeroes nothing: adds the batch's gradients to .grad of the procedure's
/// parameters and sets those of the model's. x is (B,D). Every gradient is
/// that of sum_batch(L) / gradient_batch (0 = B): the training batch size
/// divides every batch's, a last partial one's too (which the reference
/// drops: train/step/train_batch.h says why iai keeps it).
/// record_gradients: also sum Figure 6's record (StepOutcome::
/// mu_gradient_sums), a few small reductions per iteration, asked for only
/// at the steps that are recorded.
StepOutcome accumulate_gradients(model::GenerativeModelImpl& model,
                                 inference::InferenceProcedureImpl& procedure,
                                 const torch::Tensor& x, int64_t iterations,
                                 int64_t samples, int64_t gradient_batch = 0,
                                 bool record_gradients = false);

/// Semi-amortised training (Kim et al. 2018): the same loop, but nothing is
/// detached between iterations: each feedback gradient is taken with
/// create_graph, so lambda_T is a differentiable function of phi through
/// every step (second-order terms included), and phi's gradient is
/// grad_phi(-L_T) through the whole unrolled procedure. The decoder's
/// gradient is grad_theta(-L_T) at lambda_T held fixed, as in
/// accumulate_gradients. Used with a standard encoder refined by SGD steps.
/// gradient_batch as for accumulate_gradients.
StepOutcome accumulate_unrolled_gradients(
    model::GenerativeModelImpl& model,
    inference::InferenceProcedureImpl& procedure, const torch::Tensor& x,
    int64_t iterations, int64_t samples, int64_t gradient_batch = 0);

}  // namespace iai::train
