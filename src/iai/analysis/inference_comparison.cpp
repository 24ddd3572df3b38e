#include "iai/analysis/inference_comparison.h"

#include "iai/analysis/loaded_run.h"
#include "iai/analysis/step_size_search.h"
#include "iai/core/error.h"
#include "iai/core/rng.h"
#include "iai/core/threads.h"
#include "iai/data/batches.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/run_inference.h"
#include "iai/report/line_plot.h"
#include "iai/report/progress.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace iai::analysis {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Spec {
  std::string name;
  bool uses_model = false;            // "model" or "model+<opt>"
  bool has_optimizer = false;
  inference::OptimizerKind kind = inference::OptimizerKind::kSgd;
};

Spec parse_spec(const std::string& name) {
  Spec spec{name};
  std::string optimizer = name;
  if (name == "model") {
    spec.uses_model = true;
    return spec;
  }
  if (name.rfind("model+", 0) == 0) {
    spec.uses_model = true;
    optimizer = name.substr(6);
  }
  try {
    spec.kind = inference::parse_optimizer_kind(optimizer);
  } catch (const Error&) {
    throw Error(message("--procedures: unknown procedure '", name,
                        "' (expected model, an optimiser: sgd, momentum, "
                        "nesterov, rmsprop, adagrad, adam, or model+<optimiser>)"));
  }
  spec.has_optimizer = true;
  return spec;
}

std::map<std::string, double> parse_step_sizes(
    const std::vector<std::string>& items) {
  std::map<std::string, double> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    IAI_CHECK(eq != std::string::npos && eq > 0,
              "--step-size expects name=value (e.g. adam=0.1), got '", item, "'");
    const std::string name = item.substr(0, eq);
    double value = 0;
    try {
      size_t used = 0;
      value = std::stod(item.substr(eq + 1), &used);
      IAI_CHECK(used == item.size() - eq - 1, "trailing characters");
    } catch (const std::exception&) {
      throw Error(message("--step-size '", item, "': '", item.substr(eq + 1),
                          "' is not a number"));
    }
    IAI_CHECK(value > 0, "--step-size '", item, "' must be positive");
    parse_spec(name);  // a known procedure name
    out[name] = value;
  }
  return out;
}

}  // namespace

std::vector<ComparisonCurve> run_compare(const CompareConfig& config) {
  IAI_CHECK(config.iterations > 0, "--iterations must be positive");
  IAI_CHECK(config.batch_size > 0, "--batch-size must be positive");
  IAI_CHECK(!config.procedures.empty(), "--procedures names nothing to run");
  std::vector<Spec> specs;
  for (const auto& name : config.procedures) specs.push_back(parse_spec(name));
  const auto fixed = parse_step_sizes(config.step_sizes);

  const int threads = set_threads(config.threads);
  auto run = load_run(config.checkpoint);
  const auto& train_config = run.header.config;
  auto data = load_run_data(run, config.data_dir, config.max_examples);
  const int64_t samples =
      config.samples > 0 ? config.samples : train_config.samples;
  const int64_t gradient_batch = train_config.batch_size;
  const bool point = run.procedure->point_estimate();
  const std::string out_dir =
      config.out.empty()
          ? (fs::path(run.path).parent_path() / "compare").string()
          : config.out;
  fs::create_directories(out_dir);

  auto make = [&](const Spec& spec, double step) -> inference::InferenceProcedure {
    if (!spec.has_optimizer) return run.procedure;
    auto optimizer = std::make_shared<inference::OptimizerInferenceImpl>(
        inference::OptimizerOptions(spec.kind)
            .lr(step)
            .gradient_scale(static_cast<double>(gradient_batch))
            .point_estimate(point));
    if (!spec.uses_model) return optimizer;
    return std::make_shared<inference::RefinedProcedureImpl>(
        run.procedure, optimizer, train_config.iterations);
  };

  std::printf("iai compare: %s, %lld test examples, %lld iterations, S=%lld, "
              "%d threads\n",
              run.path.c_str(), (long long)data.test->size(),
              (long long)config.iterations, (long long)samples, threads);

  // Step sizes: given, or tuned on held-out training examples.
  std::map<std::string, double> steps;
  const int64_t n_train = data.train->size();
  const int64_t n_tune = std::min(config.tune_examples, n_train);
  for (const auto& spec : specs) {
    if (!spec.has_optimizer) continue;
    if (fixed.count(spec.name)) {
      steps[spec.name] = fixed.at(spec.name);
      continue;
    }
    seed_everything(config.seed);
    auto x = data.train->range(n_train - n_tune, n_train);
    const auto start = Clock::now();
    auto search = search_step_size(
        *run.model, [&](double s) { return make(spec, s); }, x,
        default_step_size_grid(),
        std::min(config.tune_iterations, config.iterations), samples,
        gradient_batch);
    steps[spec.name] = search.best;
    std::printf("  tuned %-16s step size %-7g (on %lld held-out training "
                "examples, %.1f s)\n",
                spec.name.c_str(), search.best, (long long)n_tune,
                std::chrono::duration<double>(Clock::now() - start).count());
  }

  const auto& examples = *data.test;
  const int64_t n = examples.size(), T = config.iterations;
  const auto order = data::epoch_order(n, /*shuffle=*/false);
  const int64_t batches = data::batch_count(n, config.batch_size);
  std::vector<ComparisonCurve> curves;
  report::ProgressLine progress;
  for (const auto& spec : specs) {
    ComparisonCurve curve{spec.name, spec.has_optimizer ? steps[spec.name] : 0.0,
                          std::vector<double>(T, 0.0),
                          std::vector<double>(T, 0.0)};
    auto procedure = make(spec, curve.step_size);
    seed_everything(config.seed);  // same binarised data for every procedure
    for (int64_t b = 0; b < batches; ++b) {
      auto x = examples.batch(order, b, config.batch_size);
      const auto start = Clock::now();
      inference::run_inference(
          *run.model, *procedure, x, T, samples, gradient_batch,
          [&](int64_t t, const inference::InferenceStep& step) {
            curve.elbo[t - 1] += step.terms.elbo.sum().item<double>();
            curve.seconds[t - 1] +=
                std::chrono::duration<double>(Clock::now() - start).count();
            if (t % 10 == 0 || t == T) {
              progress.update(spec.name + ": batch " + std::to_string(b + 1) +
                              "/" + std::to_string(batches) + ", iteration " +
                              std::to_string(t) + "/" + std::to_string(T));
            }
          });
    }
    for (auto& e : curve.elbo) e /= static_cast<double>(n);
    progress.clear();
    curves.push_back(std::move(curve));
  }

  // Table at Figure 4's landmarks.
  std::vector<int64_t> marks;
  for (int64_t t : {1, 5, 16, 100, 500, 1000}) {
    if (t <= T) marks.push_back(t);
  }
  if (marks.empty() || marks.back() != T) marks.push_back(T);
  std::printf("\n%-18s %9s", "procedure", "step");
  for (auto t : marks) std::printf("  %9s %7s", ("L@" + std::to_string(t)).c_str(), "s");
  std::printf("\n");
  for (const auto& c : curves) {
    std::printf("%-18s %9s", c.name.c_str(),
                c.step_size > 0 ? std::to_string(c.step_size).substr(0, 8).c_str() : "-");
    for (auto t : marks) std::printf("  %9.2f %7.1f", c.elbo[t - 1], c.seconds[t - 1]);
    std::printf("\n");
  }

  const std::string csv = (fs::path(out_dir) / "compare.csv").string();
  {
    std::ofstream f(csv);
    IAI_CHECK(f.good(), "cannot write '", csv, "'");
    f << "procedure,step_size,iteration,elbo,seconds\n";
    f.precision(10);
    for (const auto& c : curves) {
      for (int64_t t = 0; t < T; ++t) {
        f << c.name << ',' << c.step_size << ',' << t + 1 << ',' << c.elbo[t]
          << ',' << c.seconds[t] << '\n';
      }
    }
    IAI_CHECK(f.good(), "failed writing '", csv, "'");
  }
  std::vector<report::PlotSeries> by_iteration, by_seconds;
  for (const auto& c : curves) {
    std::vector<double> ts(T);
    for (int64_t t = 0; t < T; ++t) ts[t] = static_cast<double>(t + 1);
    by_iteration.push_back({c.name, ts, c.elbo});
    by_seconds.push_back({c.name, c.seconds, c.elbo});
  }
  const std::string title = "Inference on " + std::to_string(n) +
                            " test examples (" + run.path + ")";
  std::string wrote = csv;
  if (report::gnuplot_available()) {
    const auto a = (fs::path(out_dir) / "compare_iterations.png").string();
    const auto b = (fs::path(out_dir) / "compare_seconds.png").string();
    report::write_line_plot(a, by_iteration,
                            {title, "inference iterations", "ELBO (nats)", true});
    report::write_line_plot(b, by_seconds,
                            {title, "wall time (s)", "ELBO (nats)", true});
    wrote += ", " + a + ", " + b;
  } else {
    std::fprintf(stderr, "iai compare: gnuplot not found, no plots written "
                         "(install gnuplot-nox)\n");
  }
  std::printf("\nwrote %s\n", wrote.c_str());
  return curves;
}

}  // namespace iai::analysis
