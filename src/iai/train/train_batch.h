#pragma once
// One optimisation step on one training batch: the place where a batch
// meets the parameters (a device copy of the batch, an all-reduce of the
// gradients before the step belong here).

#include "iai/inference/inference_procedure.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/objectives/running_mean.h"
#include "iai/train/optimizers.h"

#include <torch/types.h>

namespace iai::train {

/// How every batch of a run is trained.
struct BatchSettings {
  int64_t iterations = 1;  // T
  int64_t samples = 1;     // S
  /// Through the unrolled inference steps (accumulate_unrolled_gradients)
  /// rather than the paper's detached ones (accumulate_gradients).
  bool unrolled = false;
};

struct BatchResult {
  /// The batch's sums of the ELBO's terms at lambda_T.
  objectives::TermValues sums;
  /// False when the ELBO was not finite: then no parameter was changed.
  bool updated = false;
};

/// Zeroes both optimisers' gradients, accumulates the batch's
/// (training_step.h), reads back the ELBO terms' sums and, when the ELBO is
/// finite, steps both optimisers. x is (B,D).
BatchResult train_batch(model::LatentGaussianModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& x,
                        const BatchSettings& settings);

}  // namespace iai::train
