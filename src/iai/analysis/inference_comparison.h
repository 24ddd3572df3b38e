#pragma once
// `iai compare` (Figure 4): a trained model's own inference procedure against
// plain optimisers acting on lambda (each with a tuned step size) and hybrids,
// all from the same lambda_0 on the same test examples. Writes the mean ELBO
// after every iteration and the wall time it took to reach it.

#include "iai/analysis/loaded_run.h"
#include "iai/core/runtime.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace iai::analysis {

struct CompareConfig {
  /// Run folder or checkpoint file.
  std::string checkpoint;
  /// Procedures: "model" (the run's own), an optimiser (sgd, momentum,
  /// nesterov, rmsprop, adagrad, adam), or "model+<optimiser>" (the run's
  /// procedure for its training T, then the optimiser).
  std::vector<std::string> procedures = {
      "model", "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam"};
  /// Iterations of every procedure.
  int64_t iterations = 500;
  /// S per ELBO estimate (0 = the model's training S).
  int64_t samples = 0;
  /// Test examples compared (0 = all).
  int64_t max_examples = 500;
  int64_t batch_size = 250;
  /// Fixed step sizes, "name=value" (e.g. adam=0.1); the others are tuned.
  std::vector<std::string> step_sizes;
  /// Tuning: the last N training examples, each candidate run this long.
  int64_t tune_examples = 100;
  int64_t tune_iterations = 100;
  /// Output folder (empty = <run>/compare).
  std::string out;
  std::string data_dir;
  /// --seed, --threads.
  RuntimeOptions runtime;
};

/// One procedure's curve: mean ELBO and cumulative seconds per iteration.
struct ComparisonCurve {
  std::string name;
  double step_size = 0;  // 0 for the model's own procedure
  std::vector<double> elbo;
  std::vector<double> seconds;
};

/// Runs the comparison; prints a table, writes compare.csv,
/// compare_iterations.png and compare_seconds.png to the output folder.
/// Several processes (parallel::world()): the test examples split across
/// them, rank 0 alone prints and writes (the others return their curves
/// with their own seconds).
/// The stages below, in this order.
std::vector<ComparisonCurve> run_compare(const CompareConfig& config);

/// The run and its data (test split cut to max_examples).
struct CompareInputs {
  LoadedRun run;
  data::ExampleSets data;
};
CompareInputs load_compare_inputs(const CompareConfig& config);

/// Several processes: rank 0's `step` on every rank (a broadcast); else
/// `step` itself.
double agreed_step(double step);

/// Each optimiser procedure's step size: fixed by config.step_sizes, else
/// the best of a grid on the last tune_examples training examples (seeded
/// with config.runtime.seed; prints one line per tuned procedure).
std::map<std::string, double> tune_step_sizes(CompareInputs& inputs,
                                              const CompareConfig& config);

/// Every procedure's curve on the test examples, from the same lambda_0 and
/// the same binarised data (the RNG is reseeded per procedure).
std::vector<ComparisonCurve> compute_curves(
    CompareInputs& inputs, const CompareConfig& config,
    const std::map<std::string, double>& steps);

/// Writes compare.csv and, when gnuplot is there, the two plots to
/// out_dir; returns the paths written, comma-separated.
std::string write_compare(const std::string& out_dir,
                          const std::vector<ComparisonCurve>& curves,
                          const std::string& title);

}  // namespace iai::analysis
