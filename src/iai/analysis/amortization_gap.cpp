#include "iai/analysis/amortization_gap.h"

#include "iai/analysis/inference_comparison.h"
#include "iai/analysis/loaded_run.h"
#include "iai/analysis/step_size_search.h"
#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/runtime_scope.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/parallel/batch_shard.h"
#include "iai/parallel/process_group.h"
#include "iai/report/progress.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

namespace iai::analysis {

namespace fs = std::filesystem;

namespace {

void check_config(const GapConfig& c) {
  IAI_CHECK(c.refine_iterations > 0, "--refine-iterations must be positive");
  IAI_CHECK(c.elbo_samples > 0, "--elbo-samples must be positive");
  IAI_CHECK(c.iw_samples > 0, "--iw-samples must be positive");
  IAI_CHECK(c.batch_size > 0, "--batch-size must be positive");
}

/// S of the refinement's gradients.
int64_t samples_of(const GapInputs& inputs, const GapConfig& c) {
  return c.samples > 0 ? c.samples : inputs.run.header.config.samples;
}

/// The per-batch sums of the ELBO at q_model and q*, and of log p(x).
struct GapSums {
  double model = 0, best = 0, log_px = 0;
};

/// `global`: the whole batch's rows, of which x holds this process's.
GapSums gap_sums(GapInputs& inputs, const GapConfig& c,
                 inference::InferenceProcedureImpl& procedure,
                 const torch::Tensor& x, int64_t global) {
  auto& model = *inputs.run.model;
  const int64_t T = inputs.run.header.config.iterations;
  auto steps = inference::run_inference(
      model, procedure, x, T + c.refine_iterations, samples_of(inputs, c),
      inputs.run.header.config.batch_size);
  torch::NoGradGuard no_grad;
  auto elbo_at = [&](const inference::Posterior& q) {
    return model::elbo(model, x, q.mu, q.logvar, c.elbo_samples)
        .elbo.sum()
        .item<double>();
  };
  const auto& q_model = steps[T - 1].posterior;
  const auto& q_best = steps.back().posterior;
  GapSums sums;
  sums.model = elbo_at(q_model);
  sums.best = elbo_at(q_best);
  // Chunks of K sized by the whole batch: the same draws whatever the
  // number of processes.
  const int64_t chunk = std::max<int64_t>(1, 32768 / global);
  sums.log_px = objectives::importance_weighted_log_px(model, x, q_best,
                                                       c.iw_samples, chunk)
                    .sum()
                    .item<double>();
  return sums;
}

void print_gap(const GapResult& r) {
  std::printf(
      "  log p(x)            %9.2f nats\n"
      "  ELBO, optimised q*  %9.2f\n"
      "  ELBO, model's q     %9.2f\n"
      "  approximation gap   %9.2f  (log p(x) - L(q*))\n"
      "  amortisation gap    %9.2f  (L(q*) - L(q))\n"
      "  (%.0f s)\n",
      r.log_px, r.elbo_optimised, r.elbo_model, r.log_px - r.elbo_optimised,
      r.elbo_optimised - r.elbo_model, r.seconds);
}

}  // namespace

GapInputs load_gap_inputs(const GapConfig& c) {
  const torch::Device device = parallel::job_device(c.runtime.device);
  GapInputs inputs{load_run(c.checkpoint, device), {}};
  IAI_CHECK(!inputs.run.procedure->point_estimate(),
            "the amortisation gap needs a Gaussian q; this run infers point "
            "estimates");
  inputs.data = load_run_data(inputs.run, c.data_dir, c.max_examples);
  return inputs;
}

inference::InferenceProcedure refined_procedure(const GapInputs& inputs,
                                                const GapConfig& c,
                                                double step) {
  const auto& config = inputs.run.header.config;
  return std::make_shared<inference::RefinedProcedureImpl>(
      inputs.run.procedure,
      std::make_shared<inference::OptimizerInferenceImpl>(
          inference::OptimizerOptions(
              inference::parse_optimizer_kind(c.optimizer))
              .lr(step)
              .gradient_scale(static_cast<double>(config.batch_size))),
      config.iterations);
}

double tune_refine_step(GapInputs& inputs, const GapConfig& c) {
  if (c.step_size > 0) return c.step_size;
  const int64_t n_train = inputs.data.train->size();
  const int64_t n_tune = std::min(c.tune_examples, n_train);
  seed_everything(c.runtime.seed);
  auto x = inputs.data.train->range(n_train - n_tune, n_train);
  const auto& config = inputs.run.header.config;
  // Every rank runs the same search on the same examples; rank 0's choice
  // is everyone's.
  return agreed_step(
      search_step_size(
          *inputs.run.model,
          [&](double step) { return refined_procedure(inputs, c, step); }, x,
          default_step_size_grid(), config.iterations + c.tune_iterations,
          samples_of(inputs, c), config.batch_size)
          .best);
}

GapResult compute_gap(GapInputs& inputs, const GapConfig& c, double step) {
  seed_everything(c.runtime.seed);
  const auto& examples = *inputs.data.test;
  const int64_t n = examples.size();
  const auto order = data::epoch_order(n, /*shuffle=*/false);
  const int64_t batches = data::batch_count(n, c.batch_size);
  auto procedure = refined_procedure(inputs, c, step);
  // Several processes: each refines its rows of every batch, their noise
  // drawn as the whole batch's (parallel/batch_shard.h); the sums are added
  // over the ranks.
  const int world = parallel::world_size(), rank = parallel::world_rank();
  GapSums total;
  // Rank 0 alone draws the progress line.
  report::ProgressLine progress = parallel::is_root()
                                      ? report::ProgressLine()
                                      : report::ProgressLine(false);
  for (int64_t b = 0; b < batches; ++b) {
    const auto part = examples.batch_part(order, b, c.batch_size, rank, world);
    const int64_t global = part.shard.global_rows;
    std::optional<ScopedBatchShard> sharded;
    if (world > 1) sharded.emplace(part.shard);
    const auto x = to_device(part.x, device_of(*inputs.run.model));
    const GapSums sums = gap_sums(inputs, c, *procedure, x, global);
    total.model += sums.model;
    total.best += sums.best;
    total.log_px += sums.log_px;
    progress.update("gap: batch " + std::to_string(b + 1) + "/" +
                    std::to_string(batches));
  }
  progress.clear();
  if (parallel::ProcessGroup* group = parallel::world()) {
    torch::Tensor sums = torch::tensor(
        std::vector<double>{total.model, total.best, total.log_px},
        torch::kDouble);
    group->sum({sums}, "the gap's sums");
    total.model = sums[0].item<double>();
    total.best = sums[1].item<double>();
    total.log_px = sums[2].item<double>();
  }
  GapResult r;
  r.examples = n;
  r.step_size = step;
  r.elbo_model = total.model / n;
  r.elbo_optimised = total.best / n;
  r.log_px = total.log_px / n;
  return r;
}

nlohmann::json gap_json(const GapInputs& inputs, const GapConfig& c,
                        const GapResult& r) {
  return {{"checkpoint", inputs.run.path},
          {"procedure", inputs.run.procedure->label()},
          {"examples", r.examples},
          {"iterations", inputs.run.header.config.iterations},
          {"refine_optimizer", c.optimizer},
          {"refine_step_size", r.step_size},
          {"refine_iterations", c.refine_iterations},
          {"elbo_samples", c.elbo_samples},
          {"iw_samples", c.iw_samples},
          {"elbo_model", r.elbo_model},
          {"elbo_optimised", r.elbo_optimised},
          {"log_px", r.log_px},
          {"amortization_gap", r.elbo_optimised - r.elbo_model},
          {"approximation_gap", r.log_px - r.elbo_optimised},
          {"seconds", r.seconds}};
}

nlohmann::json run_gap(const GapConfig& c) {
  const RuntimeScope runtime(c.runtime);
  check_config(c);
  inference::parse_optimizer_kind(c.optimizer);  // a bad name fails first
  const int threads = runtime.threads();
  auto inputs = load_gap_inputs(c);
  const auto start = std::chrono::steady_clock::now();
  const double step = tune_refine_step(inputs, c);
  // Several processes: the test examples split across them, the sums
  // gathered; rank 0 alone prints and writes.
  const bool root = parallel::is_root();
  if (root) {
    std::printf(
        "iai gap: %s (%s, T=%lld), %lld test examples; refining with "
        "%s (step %g) for %lld iterations; ELBO with %lld samples, "
        "log p(x) with K=%lld; on %s, %s%d thread%s\n",
        inputs.run.path.c_str(), inputs.run.procedure->label().c_str(),
        (long long)inputs.run.header.config.iterations,
        (long long)inputs.data.test->size(), c.optimizer.c_str(), step,
        (long long)c.refine_iterations, (long long)c.elbo_samples,
        (long long)c.iw_samples,
        describe_device(device_of(*inputs.run.model)).c_str(),
        parallel::processes_label().c_str(), threads, threads == 1 ? "" : "s");
    std::fflush(stdout);
  }
  GapResult result = compute_gap(inputs, c, step);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const nlohmann::json out = gap_json(inputs, c, result);
  if (!root) return out;
  print_gap(result);
  const std::string dir =
      c.out.empty() ? fs::path(inputs.run.path).parent_path().string() : c.out;
  fs::create_directories(dir);
  const std::string path = (fs::path(dir) / "gap.json").string();
  std::ofstream f(path);
  IAI_CHECK(f.good(), "cannot write '", path, "'");
  f << out.dump(2) << "\n";
  IAI_CHECK(f.good(), "failed writing '", path, "'");
  std::printf("wrote %s\n", path.c_str());
  return out;
}

}  // namespace iai::analysis
