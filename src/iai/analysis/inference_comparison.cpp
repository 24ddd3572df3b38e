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
#include "iai/parallel/batch_shard.h"
#include "iai/parallel/process_group.h"
#include "iai/report/line_plot.h"
#include "iai/report/progress.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace iai::analysis {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Spec {
  std::string name;
  bool uses_model = false;  // "model" or "model+<opt>"
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
    throw Error(
        message("--procedures: unknown procedure '", name,
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
              "--step-size expects name=value (e.g. adam=0.1), got '", item,
              "'");
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

/// A procedure of the comparison: the run's own, an optimiser on lambda
/// (each example's own gradient), or the run's for its training T, then the
/// optimiser.
inference::InferenceProcedure make_procedure(const LoadedRun& run,
                                             const Spec& spec, double step) {
  const auto& train_config = run.header.config;
  if (!spec.has_optimizer) return run.procedure;
  auto optimizer = std::make_shared<inference::OptimizerInferenceImpl>(
      inference::OptimizerOptions(spec.kind)
          .lr(step)
          .gradient_scale(static_cast<double>(train_config.batch_size))
          .point_estimate(run.procedure->point_estimate()));
  if (!spec.uses_model) return optimizer;
  return std::make_shared<inference::RefinedProcedureImpl>(
      run.procedure, optimizer, train_config.iterations);
}

int64_t samples_of(const CompareInputs& inputs, const CompareConfig& config) {
  return config.samples > 0 ? config.samples : inputs.run.header.config.samples;
}

/// One procedure's curve over the test examples, batch by batch. Several
/// processes: each computes its rows of every batch, their noise drawn as
/// the whole batch's (parallel/batch_shard.h); the ELBO sums are added over the
/// ranks and each iteration's seconds are the slowest rank's.
ComparisonCurve compare_one(CompareInputs& inputs, const Spec& spec,
                            double step, const CompareConfig& config,
                            report::ProgressLine& progress) {
  const auto& examples = *inputs.data.test;
  const int64_t n = examples.size(), T = config.iterations;
  const auto order = data::epoch_order(n, /*shuffle=*/false);
  const int64_t batches = data::batch_count(n, config.batch_size);
  ComparisonCurve curve{spec.name, step, std::vector<double>(T, 0.0),
                        std::vector<double>(T, 0.0)};
  auto procedure = make_procedure(inputs.run, spec, curve.step_size);
  parallel::ProcessGroup* group = parallel::world();
  const int world = parallel::world_size(), rank = parallel::world_rank();
  seed_everything(
      config.runtime.seed);  // same binarised data for every procedure
  for (int64_t b = 0; b < batches; ++b) {
    const auto part =
        examples.batch_part(order, b, config.batch_size, rank, world);
    std::optional<ScopedBatchShard> sharded;
    if (world > 1) sharded.emplace(part.shard);
    const auto x = to_device(part.x, device_of(*inputs.run.model));
    const auto start = Clock::now();
    inference::run_inference(
        *inputs.run.model, *procedure, x, T, samples_of(inputs, config),
        inputs.run.header.config.batch_size,
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
  if (world > 1) {
    torch::Tensor elbo = torch::tensor(curve.elbo, torch::kDouble);
    group->sum({elbo}, "the comparison's ELBO sums");
    curve.elbo.assign(elbo.data_ptr<double>(), elbo.data_ptr<double>() + T);
    const torch::Tensor seconds = group->gather_rows(
        torch::tensor(curve.seconds, torch::kDouble).view({1, T}),
        "the comparison's timings");
    if (seconds.defined()) {
      const torch::Tensor slowest =
          std::get<0>(seconds.max(/*dim=*/0)).contiguous();
      curve.seconds.assign(slowest.data_ptr<double>(),
                           slowest.data_ptr<double>() + T);
    }
  }
  for (auto& e : curve.elbo) e /= static_cast<double>(n);
  progress.clear();
  return curve;
}

/// Figure 4's landmarks: the ELBO and seconds at t = 1, 5, 16, 100, ...
void print_compare_table(const std::vector<ComparisonCurve>& curves,
                         int64_t T) {
  std::vector<int64_t> marks;
  for (int64_t t : {1, 5, 16, 100, 500, 1000}) {
    if (t <= T) marks.push_back(t);
  }
  if (marks.empty() || marks.back() != T) marks.push_back(T);
  std::printf("\n%-18s %9s", "procedure", "step");
  for (auto t : marks)
    std::printf("  %9s %7s", ("L@" + std::to_string(t)).c_str(), "s");
  std::printf("\n");
  for (const auto& c : curves) {
    std::printf("%-18s %9s", c.name.c_str(),
                c.step_size > 0
                    ? std::to_string(c.step_size).substr(0, 8).c_str()
                    : "-");
    for (auto t : marks)
      std::printf("  %9.2f %7.1f", c.elbo[t - 1], c.seconds[t - 1]);
    std::printf("\n");
  }
}

void write_compare_csv(const std::string& csv,
                       const std::vector<ComparisonCurve>& curves) {
  std::ofstream f(csv);
  IAI_CHECK(f.good(), "cannot write '", csv, "'");
  f << "procedure,step_size,iteration,elbo,seconds\n";
  f.precision(10);
  for (const auto& c : curves) {
    for (size_t t = 0; t < c.elbo.size(); ++t) {
      f << c.name << ',' << c.step_size << ',' << t + 1 << ',' << c.elbo[t]
        << ',' << c.seconds[t] << '\n';
    }
  }
  IAI_CHECK(f.good(), "failed writing '", csv, "'");
}

}  // namespace

double agreed_step(double step) {
  if (parallel::ProcessGroup* group = parallel::world()) {
    torch::Tensor value = torch::tensor({step}, torch::kDouble);
    group->broadcast({value}, "the tuned step size");
    return value.item<double>();
  }
  return step;
}

CompareInputs load_compare_inputs(const CompareConfig& config) {
  const torch::Device device = parallel::job_device(config.runtime.device);
  CompareInputs inputs{load_run(config.checkpoint, device), {}};
  inputs.data = load_run_data(inputs.run, config.data_dir, config.max_examples);
  return inputs;
}

std::map<std::string, double> tune_step_sizes(CompareInputs& inputs,
                                              const CompareConfig& config) {
  const auto fixed = parse_step_sizes(config.step_sizes);
  std::map<std::string, double> steps;
  const int64_t n_train = inputs.data.train->size();
  const int64_t n_tune = std::min(config.tune_examples, n_train);
  for (const auto& name : config.procedures) {
    const Spec spec = parse_spec(name);
    if (!spec.has_optimizer) continue;
    if (fixed.count(spec.name)) {
      steps[spec.name] = fixed.at(spec.name);
      continue;
    }
    seed_everything(config.runtime.seed);
    auto x = inputs.data.train->range(n_train - n_tune, n_train);
    const auto start = Clock::now();
    auto search = search_step_size(
        *inputs.run.model,
        [&](double s) { return make_procedure(inputs.run, spec, s); }, x,
        default_step_size_grid(),
        std::min(config.tune_iterations, config.iterations),
        samples_of(inputs, config), inputs.run.header.config.batch_size);
    // Every rank runs the same search on the same examples; rank 0's
    // choice is everyone's.
    steps[spec.name] = agreed_step(search.best);
    if (parallel::is_root()) {
      std::printf(
          "  tuned %-16s step size %-7g (on %lld held-out training "
          "examples, %.1f s)\n",
          spec.name.c_str(), search.best, (long long)n_tune,
          std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  return steps;
}

std::vector<ComparisonCurve> compute_curves(
    CompareInputs& inputs, const CompareConfig& config,
    const std::map<std::string, double>& steps) {
  std::vector<ComparisonCurve> curves;
  // Rank 0 alone draws the progress line.
  report::ProgressLine progress = parallel::is_root()
                                      ? report::ProgressLine()
                                      : report::ProgressLine(false);
  for (const auto& name : config.procedures) {
    const Spec spec = parse_spec(name);
    const double step = spec.has_optimizer ? steps.at(spec.name) : 0.0;
    curves.push_back(compare_one(inputs, spec, step, config, progress));
  }
  return curves;
}

/// The height of the zoomed panel of compare_iterations.png, in nats.
constexpr double kZoomNats = 6.0;

std::string write_compare(const std::string& out_dir,
                          const std::vector<ComparisonCurve>& curves,
                          const std::string& title) {
  const std::string csv = (fs::path(out_dir) / "compare.csv").string();
  write_compare_csv(csv, curves);
  std::vector<report::PlotSeries> by_iteration, by_seconds;
  for (const auto& c : curves) {
    std::vector<double> ts(c.elbo.size());
    for (size_t t = 0; t < ts.size(); ++t) ts[t] = static_cast<double>(t + 1);
    by_iteration.push_back({c.name, ts, c.elbo});
    by_seconds.push_back({c.name, c.seconds, c.elbo});
  }
  std::string wrote = csv;
  if (report::gnuplot_available()) {
    const auto a = (fs::path(out_dir) / "compare_iterations.png").string();
    const auto b = (fs::path(out_dir) / "compare_seconds.png").string();
    // Below the whole curves, the top nats, where the comparison is decided.
    report::PlotOptions iterations{title, "inference iterations", "ELBO (nats)",
                                   /*log_x=*/true};
    iterations.zoom_top = kZoomNats;
    report::write_line_plot(a, by_iteration, iterations);
    report::write_line_plot(b, by_seconds,
                            {title, "wall time (s)", "ELBO (nats)", true});
    wrote += ", " + a + ", " + b;
  } else {
    std::fprintf(stderr,
                 "iai compare: gnuplot not found, no plots written "
                 "(install gnuplot-nox)\n");
  }
  return wrote;
}

std::vector<ComparisonCurve> run_compare(const CompareConfig& config) {
  const RuntimeScope runtime(config.runtime);
  IAI_CHECK(config.iterations > 0, "--iterations must be positive");
  IAI_CHECK(config.batch_size > 0, "--batch-size must be positive");
  IAI_CHECK(!config.procedures.empty(), "--procedures names nothing to run");
  for (const auto& name : config.procedures) parse_spec(name);
  parse_step_sizes(config.step_sizes);

  const int threads = runtime.threads();
  auto inputs = load_compare_inputs(config);
  const std::string out_dir =
      config.out.empty()
          ? (fs::path(inputs.run.path).parent_path() / "compare").string()
          : config.out;
  // Several processes: the test examples split across them, the sums
  // gathered; rank 0 alone prints and writes.
  const bool root = parallel::is_root();
  if (root) {
    fs::create_directories(out_dir);
    std::printf(
        "iai compare: %s, %lld test examples, %lld iterations, "
        "S=%lld, on %s, %s%d thread%s\n",
        inputs.run.path.c_str(), (long long)inputs.data.test->size(),
        (long long)config.iterations, (long long)samples_of(inputs, config),
        describe_device(device_of(*inputs.run.model)).c_str(),
        parallel::processes_label().c_str(), threads, threads == 1 ? "" : "s");
    std::fflush(stdout);
  }

  // Step sizes: given, or tuned on held-out training examples.
  const auto steps = tune_step_sizes(inputs, config);
  const auto curves = compute_curves(inputs, config, steps);
  if (!root) return curves;
  print_compare_table(curves, config.iterations);
  const std::string title = "Inference on " +
                            std::to_string(inputs.data.test->size()) +
                            " test examples (" + inputs.run.path + ")";
  std::printf("\nwrote %s\n", write_compare(out_dir, curves, title).c_str());
  return curves;
}

}  // namespace iai::analysis
