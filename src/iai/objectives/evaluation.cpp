#include "iai/objectives/evaluation.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/data/batches.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/batch_graph.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/parallel/batch_shard.h"

#include <algorithm>
#include <optional>

namespace iai::objectives {

namespace {

/// Several processes: every rank's sums (each iteration's terms and
/// examples, log p(x), the data's total) added over the ranks, in one
/// all-reduce.
void sum_over_ranks(parallel::ProcessGroup& group,
                    std::vector<RunningMean>& per_iteration, size_t levels,
                    double& log_px_sum, double& total_x) {
  std::vector<double> values = {log_px_sum, total_x};
  for (const auto& mean : per_iteration) {
    const TermValues& s = mean.sums();
    values.insert(values.end(), {s.elbo, s.reconstruction, s.kl,
                                 static_cast<double>(mean.examples())});
    values.insert(values.end(), s.kl_levels.begin(), s.kl_levels.end());
  }
  torch::Tensor all = torch::tensor(values, torch::kDouble);
  group.sum({all}, "the evaluation's all-reduce");
  const double* v = all.data_ptr<double>();
  log_px_sum = v[0];
  total_x = v[1];
  size_t i = 2;
  for (auto& mean : per_iteration) {
    TermValues s;
    s.elbo = v[i];
    s.reconstruction = v[i + 1];
    s.kl = v[i + 2];
    const auto examples = static_cast<int64_t>(std::llround(v[i + 3]));
    i += 4;
    s.kl_levels.assign(v + i, v + i + mean.sums().kl_levels.size());
    i += s.kl_levels.size();
    mean = RunningMean(levels);
    mean.add(s, examples);
  }
}

/// One batch's results on the device, and as the flat list of tensors a
/// CUDA graph's outputs are: each iteration's ELBO, reconstruction, KL and
/// KL levels, then the final q's mu and logvar, then log p(x).
struct BatchOutputs {
  std::vector<model::ElboTerms> terms;  // t = 1..T
  inference::Posterior final_q;
  torch::Tensor log_px;  // undefined without importance sampling

  std::vector<torch::Tensor> flat() const {
    std::vector<torch::Tensor> out;
    for (const auto& t : terms) {
      out.insert(out.end(), {t.elbo, t.reconstruction, t.kl});
      out.insert(out.end(), t.kl_levels.begin(), t.kl_levels.end());
    }
    out.insert(out.end(), {final_q.mu, final_q.logvar, log_px});
    return out;
  }

  static BatchOutputs from_flat(const std::vector<torch::Tensor>& flat,
                                int64_t iterations, int64_t levels) {
    IAI_CHECK(
        static_cast<int64_t>(flat.size()) == iterations * (3 + levels) + 3,
        "internal: a replayed evaluation batch has ", flat.size(), " outputs");
    BatchOutputs out;
    size_t i = 0;
    for (int64_t t = 0; t < iterations; ++t) {
      model::ElboTerms terms;
      terms.elbo = flat[i];
      terms.reconstruction = flat[i + 1];
      terms.kl = flat[i + 2];
      i += 3;
      terms.kl_levels.assign(flat.begin() + i, flat.begin() + i + levels);
      i += levels;
      out.terms.push_back(std::move(terms));
    }
    out.final_q.mu = flat[i];
    out.final_q.logvar = flat[i + 1];
    out.log_px = flat[i + 2];
    return out;
  }
};

}  // namespace

Evaluation evaluate(model::GenerativeModelImpl& model,
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
  std::vector<torch::Tensor> mus, logvars, elbos, log_pxs;
  // Where the model computes.
  const torch::Device device = device_of(model);

  const int world = options.group ? options.group->size() : 1;
  const int rank = options.group ? options.group->rank() : 0;
  IAI_CHECK(world == 1 || !options.keep_per_example,
            "per-example results are computed in one process only");
  const int64_t batches = data::batch_count(n, options.batch_size);
  // On a GPU, one process: each full batch replayed from a CUDA graph.
  BatchGraph graph(options.cuda_graph);
  for (int64_t b = 0; b < batches; ++b) {
    // This rank's rows of the batch, their noise drawn as the whole
    // batch's (parallel/batch_shard.h).
    const auto part =
        examples.batch_part(order, b, options.batch_size, rank, world);
    const int64_t global = part.shard.global_rows;
    std::optional<ScopedBatchShard> sharded;
    if (world > 1) sharded.emplace(part.shard);
    const auto& host_x = part.x;
    total_x += host_x.sum().item<double>();
    // The batch's work on the device: every iteration's terms, the final
    // q and log p(x), as one list (what a CUDA graph replays).
    auto compute = [&](const torch::Tensor& x) {
      auto steps = inference::run_inference(
          model, procedure, x, t_max, options.samples,
          options.gradient_batch > 0 ? options.gradient_batch
                                     : options.batch_size);
      BatchOutputs out;
      for (auto& step : steps) out.terms.push_back(std::move(step.terms));
      out.final_q = steps.back().posterior;
      if (options.iw_samples > 0) {
        // Chunks of K sized by the whole batch: the same draws whatever the
        // number of processes.
        const int64_t rows =
            options.iw_rows > 0 ? options.iw_rows : default_iw_rows(device);
        const int64_t chunk =
            std::max<int64_t>(1, rows / std::max<int64_t>(1, global));
        out.log_px = importance_weighted_log_px(model, x, out.final_q,
                                                options.iw_samples, chunk);
      }
      return out;
    };
    // Batches are drawn on the host and copied to where the model computes.
    // Eager batches go through the same flat list as the graph's outputs,
    // so every evaluation checks how they are laid out. A replayed graph's
    // outputs are overwritten by the next batch: what is kept is copied.
    auto flat = [&](const torch::Tensor& x) { return compute(x).flat(); };
    const std::vector<torch::Tensor>* replayed =
        world == 1 ? graph.run(host_x, device, flat) : nullptr;
    const BatchOutputs out = BatchOutputs::from_flat(
        replayed != nullptr ? *replayed : flat(to_device(host_x, device)),
        t_max, model.levels());
    auto kept = [&](const torch::Tensor& t) {
      return replayed != nullptr && t.defined() ? t.clone() : t;
    };
    std::vector<torch::Tensor> batch_elbo;
    for (int64_t t = 0; t < t_max; ++t) {
      const auto& terms = out.terms[t];
      per_iteration[t].add(terms);
      if (options.keep_per_example) batch_elbo.push_back(terms.elbo);
    }
    const auto& final_q = out.final_q;
    if (options.iw_samples > 0) {
      log_px_sum += out.log_px.sum().item<double>();
      if (options.keep_per_example) log_pxs.push_back(kept(out.log_px));
    }
    if (options.keep_per_example) {
      mus.push_back(kept(final_q.mu));
      if (final_q.logvar.defined()) logvars.push_back(kept(final_q.logvar));
      elbos.push_back(torch::stack(batch_elbo, /*dim=*/1));
    }
    if (options.on_batch) {
      options.on_batch(std::min(n, (b + 1) * options.batch_size), n);
    }
  }

  if (world > 1) {
    sum_over_ranks(*options.group, per_iteration, model.levels(), log_px_sum,
                   total_x);
  }
  Evaluation result;
  result.examples = n;
  result.total_x = total_x;
  for (const auto& mean : per_iteration) {
    result.per_iteration.push_back(mean.means());
  }
  result.cuda_graph = graph.describe();
  result.has_log_px = options.iw_samples > 0;
  result.log_px = result.has_log_px ? log_px_sum / n : 0.0;
  if (options.keep_per_example) {
    result.mu = torch::cat(mus).cpu();
    // None for a point q.
    if (!logvars.empty()) result.logvar = torch::cat(logvars).cpu();
    result.elbo_per_iteration = torch::cat(elbos).cpu();
    if (!log_pxs.empty()) result.log_px_per_example = torch::cat(log_pxs).cpu();
  }
  if (was_training) {
    model.train();
    procedure.train();
  }
  return result;
}

}  // namespace iai::objectives
