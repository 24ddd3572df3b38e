#include "iai/train/train_batch.h"

#include "iai/core/device.h"
#include "iai/train/training_step.h"

#include <cmath>

namespace iai::train {

BatchResult train_batch(model::LatentGaussianModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& host_x,
                        const BatchSettings& settings) {
  const torch::Tensor x = to_device(host_x, settings.device);
  optimizers.zero_grad();
  StepOutcome outcome =
      settings.unrolled
          ? accumulate_unrolled_gradients(model, procedure, x,
                                          settings.iterations, settings.samples,
                                          settings.gradient_batch)
          : accumulate_gradients(model, procedure, x, settings.iterations,
                                 settings.samples, settings.gradient_batch);
  constexpr int64_t kAfter = NonFinite::kAfterIterations;
  for (const auto& p : model.parameters()) {
    outcome.checks.check(kAfter, "gradient", p.grad());
  }
  for (const auto& p : procedure.parameters()) {
    outcome.checks.check(kAfter, "gradient", p.grad());
  }
  // The step's one host synchronisation: the ELBO's sums and every
  // finiteness flag, read back together.
  const torch::Tensor sums = objectives::batch_sums_tensor(outcome.final_terms);
  const torch::Tensor flags = outcome.checks.flags();
  const torch::Tensor values =
      (flags.defined() ? torch::cat({sums, flags}) : sums)
          .to(torch::kCPU)
          .contiguous();
  const double* v = values.data_ptr<double>();
  const int64_t n_sums = sums.numel();
  BatchResult result{objectives::sums_from(v, n_sums), false, {}};
  // Nothing non-finite may reach the parameters: the caller stops (or skips
  // the batch) with the last good ones.
  if (flags.defined()) result.nonfinite = outcome.checks.first_failure(v + n_sums);
  if (!result.nonfinite && !std::isfinite(result.sums.elbo)) {
    result.nonfinite = NonFinite{settings.iterations, "ELBO"};
  }
  if (result.nonfinite) return result;
  optimizers.step();
  result.updated = true;
  return result;
}

}  // namespace iai::train
