#pragma once
// `iai gap` (Cremer et al. 2018): how far a trained inference procedure's q
// is from the best q of its family, and how far that is from log p(x):
//   amortisation gap  = L(lambda*) - L(lambda_model)
//   approximation gap = log p(x) - L(lambda*)
// where lambda* is the model's lambda refined per example by an optimiser
// until the ELBO stops improving, and log p(x) is importance-weighted with q*.

#include "iai/analysis/loaded_run.h"
#include "iai/core/runtime.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace iai::analysis {

struct GapConfig {
  /// Run folder or checkpoint file.
  std::string checkpoint;
  /// Test examples (0 = all).
  int64_t max_examples = 500;
  int64_t batch_size = 250;
  /// Refinement: optimiser, its step size (0 = tuned), its iterations.
  std::string optimizer = "adam";
  double step_size = 0;
  int64_t refine_iterations = 500;
  /// S for the refinement's gradients (0 = the model's training S).
  int64_t samples = 0;
  /// Samples for the reported ELBOs (many, so the gaps are not noise).
  int64_t elbo_samples = 100;
  /// K for log p(x).
  int64_t iw_samples = 5000;
  int64_t tune_examples = 100;
  int64_t tune_iterations = 100;
  /// gap.json goes here (empty = the run folder).
  std::string out;
  std::string data_dir;
  /// --seed, --threads.
  RuntimeOptions runtime;
};

/// Prints the gaps and writes gap.json; returns what it wrote. Several
/// processes (parallel::world()): the test examples split across them, the
/// sums gathered, rank 0 alone prints and writes. The stages
/// below, in this order.
nlohmann::json run_gap(const GapConfig& config);

/// The run (a Gaussian q) and its data (test split cut to max_examples).
struct GapInputs {
  LoadedRun run;
  data::ExampleSets data;
};
GapInputs load_gap_inputs(const GapConfig& config);

/// The run's procedure for its training T, then the optimiser with `step`.
inference::InferenceProcedure refined_procedure(const GapInputs& inputs,
                                                const GapConfig& config,
                                                double step);

/// config.step_size, or the best of a grid on the last tune_examples
/// training examples (seeded with config.runtime.seed).
double tune_refine_step(GapInputs& inputs, const GapConfig& config);

/// Means over the test examples.
struct GapResult {
  int64_t examples = 0;
  double step_size = 0;
  double elbo_model = 0;      // L at the model's q
  double elbo_optimised = 0;  // L at q*
  double log_px = 0;          // importance-weighted with q*
  double seconds = 0;         // set by run_gap: tuning and computing
};
/// Reseeds with config.runtime.seed, refines every test example and sums the
/// ELBOs and log p(x) (a progress line while it runs).
GapResult compute_gap(GapInputs& inputs, const GapConfig& config, double step);

/// gap.json's content.
nlohmann::json gap_json(const GapInputs& inputs, const GapConfig& config,
                        const GapResult& result);

}  // namespace iai::analysis
