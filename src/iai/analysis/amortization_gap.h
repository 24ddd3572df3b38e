#pragma once
// `iai gap` (Cremer et al. 2018): how far a trained inference procedure's q
// is from the best q of its family, and how far that is from log p(x):
//   amortisation gap  = L(lambda*) - L(lambda_model)
//   approximation gap = log p(x) - L(lambda*)
// where lambda* is the model's lambda refined per example by an optimiser
// until the ELBO stops improving, and log p(x) is importance-weighted with q*.

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
  uint64_t seed = 1;
  int threads = 0;
};

/// Prints the gaps and writes gap.json; returns what it wrote.
nlohmann::json run_gap(const GapConfig& config);

}  // namespace iai::analysis
