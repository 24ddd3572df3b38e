#include "iai/train/train_batch.h"

#include "iai/train/training_step.h"

#include <cmath>

namespace iai::train {

BatchResult train_batch(model::LatentGaussianModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& x,
                        const BatchSettings& settings) {
  optimizers.zero_grad();
  const StepOutcome outcome =
      settings.unrolled
          ? accumulate_unrolled_gradients(model, procedure, x,
                                          settings.iterations, settings.samples)
          : accumulate_gradients(model, procedure, x, settings.iterations,
                                 settings.samples);
  BatchResult result{objectives::batch_sums(outcome.final_terms), false};
  // A non-finite loss must not reach the parameters: the caller stops with
  // the last good ones.
  if (!std::isfinite(result.sums.elbo)) return result;
  optimizers.step();
  result.updated = true;
  return result;
}

}  // namespace iai::train
