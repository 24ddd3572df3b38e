#pragma once
// `iai sweep` (Figure 7): how the test ELBO depends on the inference
// iterations T and the samples S used in training, for gradient- and
// error-encoding iterative models with and without the data, and the
// standard model at the same S. Each setting is an ordinary training run in
// its own folder, so an interrupted sweep resumes where it stopped.

#include "iai/train/config/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iai::analysis {

struct SweepConfig {
  /// Training settings shared by every run (architecture, epochs, data...).
  /// inference, encoding, encode_data, iterations, samples and out are set
  /// per run.
  train::TrainConfig base;
  /// Model variants: gradient, gradient-nodata, error, error-nodata,
  /// standard (the standard model joins the S sweep only).
  std::vector<std::string> variants = {"gradient", "gradient-nodata", "error",
                                       "error-nodata", "standard"};
  /// T values (at S = fixed_samples) and S values (at T = fixed_iterations).
  std::vector<int64_t> t_values = {2, 5, 10, 16};
  std::vector<int64_t> s_values = {1, 5, 10, 20};
  int64_t fixed_samples = 1;
  int64_t fixed_iterations = 5;
  /// Test examples for each run's final ELBO (0 = all).
  int64_t eval_examples = 1000;
  /// Folder holding one run folder per setting, sweep.csv and the plots.
  std::string out = "runs/sweep";
};

struct SweepPoint {
  std::string variant;
  int64_t iterations = 0, samples = 0;
  double test_elbo = 0;
  double train_seconds = 0;
  /// The epochs the run had trained when it was evaluated.
  int64_t epochs = 0;
};

/// Trains (or resumes) every setting, evaluates it, prints a table and
/// writes sweep.csv, sweep_iterations.png and sweep_samples.png. The stages
/// below, in this order. sweep.csv is rewritten after every setting, so a
/// sweep stopped part-way leaves the settings it finished; a setting whose
/// run has not trained further since its last evaluation keeps that
/// evaluation (sweep-eval.json in its folder) instead of repeating it.
std::vector<SweepPoint> run_sweep(const SweepConfig& config);

/// One training run of the sweep.
struct SweepSetting {
  std::string variant;
  int64_t iterations = 0, samples = 0;
};

/// Checks the config (throws iai::Error before any training) and lists the
/// settings: the T sweep, then the S sweep, without duplicates.
std::vector<SweepSetting> sweep_settings(const SweepConfig& config);

/// Trains or resumes the setting's run in its folder, then evaluates its
/// test ELBO on eval_examples examples.
SweepPoint run_setting(const SweepConfig& config, const SweepSetting& setting);

/// Writes sweep.csv and, when gnuplot is there, Figure 7's two plots;
/// returns the paths written, comma-separated.
std::string write_sweep(const SweepConfig& config,
                        const std::vector<SweepPoint>& points);

}  // namespace iai::analysis
