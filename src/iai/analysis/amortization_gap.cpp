#include "iai/analysis/amortization_gap.h"

#include "iai/analysis/loaded_run.h"
#include "iai/analysis/step_size_search.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/run_inference.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/report/progress.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iai::analysis {

namespace fs = std::filesystem;

nlohmann::json run_gap(const GapConfig& c) {
  IAI_CHECK(c.refine_iterations > 0, "--refine-iterations must be positive");
  IAI_CHECK(c.elbo_samples > 0, "--elbo-samples must be positive");
  IAI_CHECK(c.iw_samples > 0, "--iw-samples must be positive");
  IAI_CHECK(c.batch_size > 0, "--batch-size must be positive");
  const auto kind = inference::parse_optimizer_kind(c.optimizer);
  const int threads = set_threads(c.threads);
  auto run = load_run(c.checkpoint);
  IAI_CHECK(!run.procedure->point_estimate(),
            "the amortisation gap needs a Gaussian q; this run infers point "
            "estimates");
  const auto& config = run.header.config;
  auto data = load_run_data(run, c.data_dir, c.max_examples);
  const int64_t T = config.iterations, B = config.batch_size;
  const int64_t S = c.samples > 0 ? c.samples : config.samples;
  const auto start = std::chrono::steady_clock::now();

  auto refined = [&](double step) -> inference::InferenceProcedure {
    return std::make_shared<inference::RefinedProcedureImpl>(
        run.procedure,
        std::make_shared<inference::OptimizerInferenceImpl>(
            inference::OptimizerOptions(kind).lr(step).gradient_scale(
                static_cast<double>(B))),
        T);
  };
  double step = c.step_size;
  if (step <= 0) {
    const int64_t n_train = data.train->size();
    const int64_t n_tune = std::min(c.tune_examples, n_train);
    seed_everything(c.seed);
    auto x = data.train->range(n_train - n_tune, n_train);
    step = search_step_size(*run.model, refined, x, default_step_size_grid(),
                            T + c.tune_iterations, S, B)
               .best;
  }
  std::printf("iai gap: %s (%s, T=%lld), %lld test examples; refining with "
              "%s (step %g) for %lld iterations; ELBO with %lld samples, "
              "log p(x) with K=%lld; %d threads\n",
              run.path.c_str(), run.procedure->label().c_str(), (long long)T,
              (long long)data.test->size(), c.optimizer.c_str(), step,
              (long long)c.refine_iterations, (long long)c.elbo_samples,
              (long long)c.iw_samples, threads);

  seed_everything(c.seed);
  const auto& examples = *data.test;
  const int64_t n = examples.size();
  const auto order = data::epoch_order(n, /*shuffle=*/false);
  const int64_t batches = data::batch_count(n, c.batch_size);
  auto procedure = refined(step);
  double sum_model = 0, sum_best = 0, sum_log_px = 0;
  report::ProgressLine progress;
  for (int64_t b = 0; b < batches; ++b) {
    auto x = examples.batch(order, b, c.batch_size);
    auto steps = inference::run_inference(*run.model, *procedure, x,
                                          T + c.refine_iterations, S, B);
    torch::NoGradGuard no_grad;
    auto elbo_at = [&](const inference::Posterior& q) {
      return model::elbo(*run.model, x, q.mu, q.logvar, c.elbo_samples)
          .elbo.sum()
          .item<double>();
    };
    const auto& q_model = steps[T - 1].posterior;
    const auto& q_best = steps.back().posterior;
    sum_model += elbo_at(q_model);
    sum_best += elbo_at(q_best);
    const int64_t chunk = std::max<int64_t>(1, 32768 / x.size(0));
    sum_log_px += objectives::importance_weighted_log_px(
                      *run.model, x, q_best, c.iw_samples, chunk)
                      .sum()
                      .item<double>();
    progress.update("gap: batch " + std::to_string(b + 1) + "/" +
                    std::to_string(batches));
  }
  progress.clear();
  const double l_model = sum_model / n, l_best = sum_best / n,
               log_px = sum_log_px / n;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  nlohmann::json out = {
      {"checkpoint", run.path},
      {"procedure", run.procedure->label()},
      {"examples", n},
      {"iterations", T},
      {"refine_optimizer", c.optimizer},
      {"refine_step_size", step},
      {"refine_iterations", c.refine_iterations},
      {"elbo_samples", c.elbo_samples},
      {"iw_samples", c.iw_samples},
      {"elbo_model", l_model},
      {"elbo_optimised", l_best},
      {"log_px", log_px},
      {"amortization_gap", l_best - l_model},
      {"approximation_gap", log_px - l_best},
      {"seconds", seconds}};
  std::printf("  log p(x)            %9.2f nats\n"
              "  ELBO, optimised q*  %9.2f\n"
              "  ELBO, model's q     %9.2f\n"
              "  approximation gap   %9.2f  (log p(x) - L(q*))\n"
              "  amortisation gap    %9.2f  (L(q*) - L(q))\n"
              "  (%.0f s)\n",
              log_px, l_best, l_model, log_px - l_best, l_best - l_model,
              seconds);
  const std::string dir =
      c.out.empty() ? fs::path(run.path).parent_path().string() : c.out;
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
