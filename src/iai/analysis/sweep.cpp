#include "iai/analysis/sweep.h"

#include "iai/analysis/loaded_run.h"
#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/core/precision.h"
#include "iai/core/rng.h"
#include "iai/objectives/evaluation.h"
#include "iai/report/line_plot.h"
#include "iai/train/config/inference_registry.h"
#include "iai/train/config/training_data.h"
#include "iai/train/trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace iai::analysis {

namespace fs = std::filesystem;

namespace {

const std::set<std::string> kVariants = {"gradient", "gradient-nodata", "error",
                                         "error-nodata", "standard"};

train::TrainConfig config_for(const SweepConfig& sweep,
                              const std::string& variant, int64_t t,
                              int64_t s) {
  auto c = sweep.base;
  c.samples = s;
  using train::InferenceKind;
  if (variant == "standard") {
    c.inference = train::inference_entry(InferenceKind::kStandard).name;
    c.iterations = 1;
  } else {
    c.inference = train::inference_entry(InferenceKind::kIterative).name;
    c.iterations = t;
    const bool errors = variant.rfind("error", 0) == 0;
    c.encoding = errors ? "error" : "gradient";
    // The reference feeds the errors themselves; gradients log-sign
    // normalised.
    c.normalization = errors ? "none" : "log-sign";
    c.encode_data = variant.find("nodata") == std::string::npos;
  }
  c.out =
      (fs::path(sweep.out) / (variant + "-T" + std::to_string(c.iterations) +
                              "-S" + std::to_string(s)))
          .string();
  return c;
}

void check_sweep(const SweepConfig& sweep) {
  IAI_CHECK(!sweep.variants.empty(), "--variants names nothing to train");
  for (const auto& v : sweep.variants) {
    IAI_CHECK(kVariants.count(v), "--variants: unknown variant '", v,
              "' (expected gradient, gradient-nodata, error, error-nodata or "
              "standard)");
  }
  for (auto t : sweep.t_values) IAI_CHECK(t > 0, "--t-values must be positive");
  for (auto s : sweep.s_values) IAI_CHECK(s > 0, "--s-values must be positive");
  IAI_CHECK(sweep.fixed_samples > 0 && sweep.fixed_iterations > 0,
            "--fixed-samples and --fixed-iterations must be positive");
  train::resolve(sweep.base);  // bad shared settings fail before any training
}

/// Trains the setting's run, or resumes it (a no-op when it has finished);
/// returns the seconds it took.
double train_setting(const train::TrainConfig& c) {
  const auto start = std::chrono::steady_clock::now();
  if (fs::exists(fs::path(c.out) / "checkpoint.pt")) {
    train::resume_train(c.out, c.epochs, c.threads);
  } else {
    train::run_train(c);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

void print_sweep_table(const std::vector<SweepPoint>& points) {
  std::printf("\n%-16s %4s %4s %11s %10s\n", "variant", "T", "S", "test ELBO",
              "seconds");
  for (const auto& p : points) {
    std::printf("%-16s %4lld %4lld %11.2f %10.1f\n", p.variant.c_str(),
                (long long)p.iterations, (long long)p.samples, p.test_elbo,
                p.train_seconds);
  }
}

void write_sweep_csv(const std::string& csv,
                     const std::vector<SweepPoint>& points) {
  std::ofstream f(csv);
  IAI_CHECK(f.good(), "cannot write '", csv, "'");
  f << "variant,iterations,samples,test_elbo,train_seconds,epochs\n";
  f.precision(10);
  for (const auto& p : points) {
    f << p.variant << ',' << p.iterations << ',' << p.samples << ','
      << p.test_elbo << ',' << p.train_seconds << ',' << p.epochs << '\n';
  }
  IAI_CHECK(f.good(), "failed writing '", csv, "'");
}

/// One line per variant, sorted by x; "" when there is nothing to draw or
/// no gnuplot, else ", <path>".
std::string plot_lines(const std::map<std::string, report::PlotSeries>& lines,
                       const std::string& path, const std::string& title,
                       const std::string& x_label) {
  std::vector<report::PlotSeries> series;
  for (const auto& [_, s] : lines) series.push_back(report::sorted_by_x(s));
  if (series.empty() || !report::gnuplot_available()) return "";
  report::write_line_plot(path, series,
                          {title, x_label, "test ELBO (nats)", false});
  return ", " + path;
}

}  // namespace

std::vector<SweepSetting> sweep_settings(const SweepConfig& sweep) {
  check_sweep(sweep);
  // The settings, without duplicates (the two sweeps share a point).
  std::vector<SweepSetting> settings;
  std::set<std::string> seen;
  auto add = [&](const std::string& v, int64_t t, int64_t s) {
    auto c = config_for(sweep, v, t, s);
    if (seen.insert(c.out).second) settings.push_back({v, c.iterations, s});
  };
  for (const auto& v : sweep.variants) {
    if (v == "standard") continue;
    for (auto t : sweep.t_values) add(v, t, sweep.fixed_samples);
  }
  for (const auto& v : sweep.variants) {
    for (auto s : sweep.s_values) add(v, sweep.fixed_iterations, s);
  }
  return settings;
}

SweepPoint run_setting(const SweepConfig& sweep, const SweepSetting& setting) {
  const auto c =
      config_for(sweep, setting.variant, setting.iterations, setting.samples);
  const double seconds = train_setting(c);
  const torch::Device device = resolve_device(c.device);
  const PrecisionScope precision(c.precision, device);
  auto run = load_run(c.out, device);
  const int64_t epochs = run.header.epoch;
  // The run's last evaluation, when it is of these epochs and examples.
  const auto kept_path = fs::path(c.out) / "sweep-eval.json";
  if (fs::exists(kept_path)) {
    try {
      std::ifstream in(kept_path);
      const auto kept = nlohmann::json::parse(in);
      if (kept.at("epochs").get<int64_t>() == epochs &&
          kept.at("eval_examples").get<int64_t>() == sweep.eval_examples) {
        SweepPoint point{setting.variant, setting.iterations,
                         setting.samples, kept.at("test_elbo").get<double>(),
                         seconds,         epochs};
        std::printf("  test ELBO %.2f (kept: the run is still at epoch %lld)\n",
                    point.test_elbo, (long long)epochs);
        return point;
      }
    } catch (const std::exception&) {
      // Unreadable: evaluate again and rewrite it.
    }
  }
  auto data_config = run.header.config;
  data_config.max_test = sweep.eval_examples;
  auto data = train::load_data(data_config);
  seed_everything(c.seed);
  objectives::EvaluationOptions options;
  options.iterations = run.header.config.iterations;
  options.samples = run.header.config.samples;
  options.gradient_batch = run.header.config.batch_size;
  auto eval =
      objectives::evaluate(*run.model, *run.procedure, *data.test, options);
  SweepPoint point{setting.variant, setting.iterations,
                   setting.samples, eval.per_iteration.back().elbo,
                   seconds,         epochs};
  std::printf("  test ELBO %.2f (%lld examples)\n", point.test_elbo,
              (long long)eval.examples);
  const nlohmann::json kept = {{"epochs", epochs},
                               {"eval_examples", sweep.eval_examples},
                               {"test_elbo", point.test_elbo}};
  std::ofstream out(kept_path);
  out << kept.dump() << '\n';
  return point;
}

std::string write_sweep(const SweepConfig& sweep,
                        const std::vector<SweepPoint>& points) {
  const std::string csv = (fs::path(sweep.out) / "sweep.csv").string();
  write_sweep_csv(csv, points);
  // Figure 7: ELBO against T at the fixed S, and against S at the fixed T.
  std::map<std::string, report::PlotSeries> by_t, by_s;
  for (const auto& p : points) {
    if (p.variant != "standard" && p.samples == sweep.fixed_samples) {
      auto& series = by_t[p.variant];
      series.label = p.variant;
      series.x.push_back(static_cast<double>(p.iterations));
      series.y.push_back(p.test_elbo);
    }
    if (p.variant == "standard" || p.iterations == sweep.fixed_iterations) {
      auto& series = by_s[p.variant];
      series.label = p.variant;
      series.x.push_back(static_cast<double>(p.samples));
      series.y.push_back(p.test_elbo);
    }
  }
  std::string wrote = csv;
  wrote +=
      plot_lines(by_t, (fs::path(sweep.out) / "sweep_iterations.png").string(),
                 "Test ELBO vs inference iterations (S = " +
                     std::to_string(sweep.fixed_samples) + ")",
                 "inference iterations T during training");
  wrote += plot_lines(
      by_s, (fs::path(sweep.out) / "sweep_samples.png").string(),
      "Test ELBO vs samples (T = " + std::to_string(sweep.fixed_iterations) +
          ")",
      "samples S during training");
  return wrote;
}

std::vector<SweepPoint> run_sweep(const SweepConfig& sweep) {
  const auto settings = sweep_settings(sweep);
  std::printf("iai sweep: %zu training runs in %s\n", settings.size(),
              sweep.out.c_str());
  std::vector<SweepPoint> points;
  // A sweep that fails before its first run wrote anything (no data, a bad
  // setting) leaves no folder behind: each run removes its own empty
  // folder, and this the sweep's, if it made it.
  std::error_code ec;
  const bool made_folder = !fs::exists(sweep.out, ec);
  try {
    for (size_t i = 0; i < settings.size(); ++i) {
      const auto& s = settings[i];
      std::printf(
          "\n[%zu/%zu] %s, T=%lld, S=%lld -> %s\n", i + 1, settings.size(),
          s.variant.c_str(), (long long)s.iterations, (long long)s.samples,
          config_for(sweep, s.variant, s.iterations, s.samples).out.c_str());
      std::fflush(stdout);
      points.push_back(run_setting(sweep, s));
      // What is finished survives a stop before the sweep's end.
      write_sweep_csv((fs::path(sweep.out) / "sweep.csv").string(), points);
    }
  } catch (...) {
    if (made_folder) fs::remove(sweep.out, ec);  // only while empty
    throw;
  }
  print_sweep_table(points);
  std::printf("\nwrote %s\n", write_sweep(sweep, points).c_str());
  return points;
}

}  // namespace iai::analysis
