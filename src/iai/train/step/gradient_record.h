#pragma once
// Figure 6 of the paper: the mean magnitude of the approximate posterior
// mean's gradient, |grad_mu L|, after each inference iteration, recorded
// every N training steps into gradients.jsonl in the run folder. An
// inference model that optimises well should drive it down over the
// iterations (Section 5.1, "Gradient Magnitudes").
//
// A training step computes grad_lambda L_t at every lambda_t anyway (the
// encoder's input and the chain rule into phi), so the record of a step is
// taken from those gradients at no extra cost (StepOutcome::
// mu_gradient_sums), with the step's own samples, before the step changes
// the parameters. mean_abs_mu_gradients below takes the same record with
// passes of its own, for training that computes no per-iteration gradients
// (semi-amortised, unrolled).

#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"

#include <torch/types.h>

#include <string>
#include <vector>

namespace iai::train {

/// Runs `iterations` steps of the procedure on x (B,D) from lambda_0 (as
/// run_inference, with gradient_batch the training batch size) and returns,
/// for t = 1..T, the mean over the batch and the latent dimensions of
/// |dL_i/dmu_i| at lambda_t: each example's own ELBO gradient (not divided
/// by the batch size), estimated with `samples` samples. Leaves the RNG
/// state and every parameter's .grad as it found them, so recording does
/// not change training. (It runs the modules in their current mode: a layer
/// with running statistics, such as batch norm in training mode, would
/// count these extra passes too.)
std::vector<double> mean_abs_mu_gradients(
    model::GenerativeModelImpl& model,
    inference::InferenceProcedureImpl& procedure, const torch::Tensor& x,
    int64_t iterations, int64_t samples, int64_t gradient_batch);

/// Whether training step `step` (1-based, counted across epochs) is recorded
/// when recording every `every` steps: steps 1, 1 + every, 1 + 2 every, ...
/// (every = 0: never).
bool records_gradients_at(int64_t step, int64_t every);

/// Appends one line {"step", "epoch", "iterations", "mean_abs_grad_mu":
/// [T values]} to `path`; throws iai::Error naming the file on failure.
void append_gradient_record(const std::string& path, int64_t step,
                            int64_t epoch, const std::vector<double>& values);

}  // namespace iai::train
