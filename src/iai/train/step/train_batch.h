#pragma once
// One optimisation step on one training batch: the place where a batch
// meets the parameters (a device copy of the batch, an all-reduce of the
// gradients before the step belong here).

#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"
#include "iai/objectives/running_mean.h"
#include "iai/parallel/process_group.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/finiteness.h"
#include "iai/train/step/step_graph.h"

#include <torch/types.h>

#include <optional>

namespace iai::train {

/// How every batch of a run is trained.
struct BatchSettings {
  int64_t iterations = 1;  // T
  int64_t samples = 1;     // S
  /// Through the unrolled inference steps (accumulate_unrolled_gradients)
  /// rather than the paper's detached ones (accumulate_gradients).
  bool unrolled = false;
  /// The divisor of every batch's summed ELBO: the training batch size
  /// (0 = each batch's own size). The reference drops an epoch's last
  /// partial batch (drop_last); iai trains on it, so an epoch covers every
  /// example, and divides it by the training batch size, not its own: each
  /// example then weighs 1/B in every step, and the gradient an iterative
  /// model encodes (log |g|) has the scale of the full batches it learned
  /// from.
  int64_t gradient_batch = 0;
  /// Where the model computes: each host batch is copied there once.
  torch::Device device = torch::kCPU;
  /// Set when the batch is spread over several processes (each holding its
  /// rows of it, parallel/batch_shard.h): the gradients and the step's sums and
  /// flags are summed over them before the step, so every rank takes the
  /// same step, the one a single process would take on the whole batch.
  parallel::ProcessGroup* group = nullptr;
  /// Set to capture the step in a CUDA graph and replay it (on a GPU, one
  /// process: StepGraph says when it applies); unset: every kernel eager.
  StepGraph* graph = nullptr;
};

/// What a rank asks of the whole job at a step; any rank's request holds
/// for all (they travel with the gradients), so all ranks act on it at the
/// same step.
struct StepRequests {
  bool stop = false;        // SIGINT / SIGTERM seen
  bool checkpoint = false;  // a time-based checkpoint is due (rank 0's clock)
  /// Figure 6 records this step (BatchResult::mu_gradient_sums). Set alike
  /// on every rank (it follows the step number), so not combined.
  bool record_gradients = false;
};

struct BatchResult {
  /// The batch's sums of the ELBO's terms at lambda_T.
  objectives::TermValues sums;
  /// False when anything was not finite: then no parameter was changed.
  bool updated = false;
  /// Where the first non-finite value was (unset when updated).
  std::optional<NonFinite> nonfinite;
  /// The examples the sums cover (the whole batch's, over every rank).
  int64_t examples = 0;
  /// The requests of every rank, combined.
  StepRequests requests;
  /// Figure 6's record of this step (StepOutcome::mu_gradient_sums): for t
  /// = 1..T, |dL_i/dmu_i| summed over the whole batch's rows (every rank's)
  /// and mu's columns. Empty where the step does not take it.
  std::vector<double> mu_gradient_sums;
  int64_t mu_columns = 0;
};

/// Zeroes both optimisers' gradients, accumulates the batch's
/// (training_step.h; replayed from settings.graph where it applies), reads back
/// the ELBO terms' sums and the step's finiteness flags (every iteration's
/// ELBO, every encoded input, every parameter gradient: one read-back) and,
/// when all are finite, steps both optimisers. x is (B,D), on the host or on
/// settings.device: with settings.group, this rank's rows of the batch, and
/// sums, finiteness and requests are the whole batch's.
BatchResult train_batch(model::GenerativeModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& x,
                        const BatchSettings& settings,
                        const StepRequests& requests = {});

}  // namespace iai::train
