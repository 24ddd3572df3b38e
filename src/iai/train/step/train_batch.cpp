#include "iai/train/step/train_batch.h"

#include "iai/core/device.h"
#include "iai/cpu/known_finite.h"
#include "iai/cpu/own_kernels.h"
#include "iai/train/step/training_step.h"

#include <cmath>
#include <optional>

namespace iai::train {

namespace {

/// The parameters' gradients that this step defined (the same set on every
/// rank: it depends on the model, not on the data).
std::vector<torch::Tensor> defined_gradients(
    const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters) {
    if (p.grad().defined()) out.push_back(p.grad());
  }
  return out;
}

/// Data parallelism (docs/distributed.md): each rank's gradients are those
/// of its rows'
/// summed ELBO over the global batch size, so their sum over the ranks is
/// the whole batch's gradient. One all-reduce per network, each a flat
/// bucket; the procedure's also carries the step's sums and flags.
void combine_over_ranks(parallel::ProcessGroup& group,
                        model::GenerativeModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        BatchResult& result, bool failed_here,
                        const StepRequests& requests) {
  group.sum(defined_gradients(model.parameters()),
            "the generative model's gradient all-reduce");
  // The values that travel with the procedure's gradients, by slot; the KL
  // of each level follows the fixed slots.
  enum Slot : size_t {
    kElbo,
    kReconstruction,
    kKl,
    kExamples,
    kFailed,
    kStop,
    kCheckpoint,
    kKlLevels
  };
  const objectives::TermValues& s = result.sums;
  // After the KL's levels: the gradient record's sums.
  const size_t record_at = kKlLevels + s.kl_levels.size();
  std::vector<float> values(record_at + result.mu_gradient_sums.size());
  values[kElbo] = static_cast<float>(s.elbo);
  values[kReconstruction] = static_cast<float>(s.reconstruction);
  values[kKl] = static_cast<float>(s.kl);
  values[kExamples] = static_cast<float>(result.examples);
  values[kFailed] = failed_here ? 1.0f : 0.0f;
  values[kStop] = requests.stop ? 1.0f : 0.0f;
  values[kCheckpoint] = requests.checkpoint ? 1.0f : 0.0f;
  for (size_t l = 0; l < s.kl_levels.size(); ++l) {
    values[kKlLevels + l] = static_cast<float>(s.kl_levels[l]);
  }
  for (size_t t = 0; t < result.mu_gradient_sums.size(); ++t) {
    values[record_at + t] = static_cast<float>(result.mu_gradient_sums[t]);
  }
  torch::Tensor tail = torch::tensor(values, torch::kFloat);
  std::vector<torch::Tensor> bucket = defined_gradients(procedure.parameters());
  bucket.push_back(tail);
  group.sum(bucket, "the inference model's gradient all-reduce");
  const auto v = tail.accessor<float, 1>();
  result.sums.elbo = v[kElbo];
  result.sums.reconstruction = v[kReconstruction];
  result.sums.kl = v[kKl];
  result.examples = static_cast<int64_t>(std::lround(v[kExamples]));
  for (size_t l = 0; l < s.kl_levels.size(); ++l) {
    result.sums.kl_levels[l] = v[kKlLevels + l];
  }
  for (size_t t = 0; t < result.mu_gradient_sums.size(); ++t) {
    result.mu_gradient_sums[t] = v[record_at + t];
  }
  if (v[kFailed] > 0 && !result.nonfinite) {
    result.nonfinite =
        NonFinite{NonFinite::kAfterIterations, "value in another rank's rows"};
  }
  result.requests = {v[kStop] > 0, v[kCheckpoint] > 0};
}

std::vector<torch::Tensor> joined(std::vector<torch::Tensor> a,
                                  const std::vector<torch::Tensor>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Everything a step computes before its optimisers step, on x's device:
/// the gradients in the parameters' .grad, and the ELBO's sums with the
/// finiteness flags in one tensor (one read-back). What StepGraph captures.
StepValues compute_step(model::GenerativeModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& x,
                        const BatchSettings& settings, bool record_gradients) {
  optimizers.zero_grad();
  // On the host, the products that make the gradients prove most of them
  // finite as they make them (cpu/known_finite.h); only the rest are read
  // back below.
  std::optional<cpu::KnownFinite> known;
  if (cpu::own_kernels_on(x.device())) known.emplace();
  StepOutcome outcome =
      settings.unrolled
          ? accumulate_unrolled_gradients(model, procedure, x,
                                          settings.iterations, settings.samples,
                                          settings.gradient_batch)
          : accumulate_gradients(model, procedure, x, settings.iterations,
                                 settings.samples, settings.gradient_batch,
                                 record_gradients);
  constexpr int64_t kAfter = NonFinite::kAfterIterations;
  std::vector<torch::Tensor> unproved;
  for (const auto& p : joined(model.parameters(), procedure.parameters())) {
    if (!known || !known->holds(p.grad())) unproved.push_back(p.grad());
  }
  outcome.checks.check_all(kAfter, "gradient", unproved);
  const torch::Tensor sums = objectives::batch_sums_tensor(outcome.final_terms);
  const torch::Tensor flags = outcome.checks.flags();
  const torch::Tensor& record = outcome.mu_gradient_sums;
  std::vector<torch::Tensor> parts = {sums};
  if (flags.defined()) parts.push_back(flags);
  if (record.defined()) parts.push_back(record);
  return {parts.size() > 1 ? torch::cat(parts) : sums, sums.numel(),
          record.defined() ? record.numel() : 0, outcome.mu_columns,
          std::move(outcome.checks)};
}

}  // namespace

BatchResult train_batch(model::GenerativeModelImpl& model,
                        inference::InferenceProcedureImpl& procedure,
                        Optimizers& optimizers, const torch::Tensor& host_x,
                        const BatchSettings& settings,
                        const StepRequests& requests) {
  const StepValues* step = nullptr;
  if (settings.graph != nullptr && settings.group == nullptr) {
    step = settings.graph->run(
        host_x, settings.device,
        joined(model.parameters(), procedure.parameters()),
        joined(model.buffers(), procedure.buffers()),
        [&](const torch::Tensor& x) {
          // A graph replays one computation: it always takes the record
          // (small reductions on the device).
          return compute_step(model, procedure, optimizers, x, settings,
                              /*record_gradients=*/true);
        });
  }
  StepValues eager;
  if (step == nullptr) {
    eager = compute_step(model, procedure, optimizers,
                         to_device(host_x, settings.device), settings,
                         requests.record_gradients);
    step = &eager;
  }
  // The step's one host synchronisation: the ELBO's sums and every
  // finiteness flag, read back together.
  const torch::Tensor values = step->values.to(torch::kCPU).contiguous();
  const double* v = values.data_ptr<double>();
  const int64_t n_sums = step->n_sums;
  const int64_t n_flags = values.numel() - n_sums - step->n_record;
  BatchResult result{
      objectives::sums_from(v, n_sums), false, {}, host_x.size(0), requests};
  result.mu_gradient_sums.assign(v + n_sums + n_flags, v + values.numel());
  result.mu_columns = step->mu_columns;
  // Nothing non-finite may reach the parameters: the caller stops (or skips
  // the batch) with the last good ones.
  if (n_flags > 0) {
    result.nonfinite = step->checks.first_failure(v + n_sums);
  }
  if (!result.nonfinite && !std::isfinite(result.sums.elbo)) {
    result.nonfinite = NonFinite{settings.iterations, "ELBO"};
  }
  if (settings.group != nullptr) {
    combine_over_ranks(*settings.group, model, procedure, result,
                       result.nonfinite.has_value(), requests);
  }
  if (result.nonfinite) return result;
  optimizers.step();
  result.updated = true;
  return result;
}

}  // namespace iai::train
