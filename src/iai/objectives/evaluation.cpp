#include "iai/objectives/evaluation.h"

#include "iai/core/device.h"
#include "iai/data/batches.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/importance_weighted.h"

#include <algorithm>

namespace iai::objectives {

Evaluation evaluate(model::LatentGaussianModelImpl& model,
                    inference::InferenceProcedureImpl& procedure,
                    const data::ExampleSource& examples,
                    const EvaluationOptions& options) {
  const bool was_training = model.is_training();
  model.eval();
  procedure.eval();
  const int64_t n = examples.size();
  const int64_t t_max = options.iterations;
  auto order = data::epoch_order(n, /*shuffle=*/false);
  std::vector<RunningMean> per_iteration(t_max, RunningMean(model.levels()));
  double log_px_sum = 0, total_x = 0;
  std::vector<torch::Tensor> mus, logvars, elbos;
  // Batches are drawn on the host and copied to where the model computes.
  const torch::Device device = device_of(model);

  const int64_t batches = data::batch_count(n, options.batch_size);
  for (int64_t b = 0; b < batches; ++b) {
    const auto host_x = examples.batch(order, b, options.batch_size);
    total_x += host_x.sum().item<double>();
    const auto x = to_device(host_x, device);
    auto steps = inference::run_inference(model, procedure, x, t_max,
                                          options.samples,
                                          options.gradient_batch > 0
                                              ? options.gradient_batch
                                              : options.batch_size);
    std::vector<torch::Tensor> batch_elbo;
    for (int64_t t = 0; t < t_max; ++t) {
      const auto& terms = steps[t].terms;
      per_iteration[t].add(terms);
      if (options.keep_per_example) batch_elbo.push_back(terms.elbo);
    }
    const auto& final_q = steps.back().posterior;
    if (options.iw_samples > 0) {
      const int64_t chunk =
          std::max<int64_t>(1, options.iw_rows / std::max<int64_t>(1, x.size(0)));
      log_px_sum += importance_weighted_log_px(
                        model, x, final_q, options.iw_samples, chunk)
                        .sum()
                        .item<double>();
    }
    if (options.keep_per_example) {
      mus.push_back(final_q.mu);
      if (final_q.logvar.defined()) logvars.push_back(final_q.logvar);
      elbos.push_back(torch::stack(batch_elbo, /*dim=*/1));
    }
    if (options.on_batch) {
      options.on_batch(std::min(n, (b + 1) * options.batch_size), n);
    }
  }

  Evaluation result;
  result.examples = n;
  result.total_x = total_x;
  for (const auto& mean : per_iteration) {
    result.per_iteration.push_back(mean.means());
  }
  result.has_log_px = options.iw_samples > 0;
  result.log_px = result.has_log_px ? log_px_sum / n : 0.0;
  if (options.keep_per_example) {
    result.mu = torch::cat(mus).cpu();
    // None for a point q.
    if (!logvars.empty()) result.logvar = torch::cat(logvars).cpu();
    result.elbo_per_iteration = torch::cat(elbos).cpu();
  }
  if (was_training) {
    model.train();
    procedure.train();
  }
  return result;
}

}  // namespace iai::objectives
