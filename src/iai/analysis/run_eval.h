#pragma once
// `iai eval` and `iai infer` as library calls: evaluate a checkpoint on the
// test split (ELBO after each inference iteration, importance-weighted
// log p(x), Figure 5's reconstruction grid), or write per-example inference
// results to CSV.

#include <nlohmann/json.hpp>

#include <string>

namespace iai::analysis {

struct EvalConfig {
  /// Run folder or checkpoint file.
  std::string checkpoint;
  /// K: importance samples for log p(x) (0 skips it). Paper: 5000.
  int64_t iw_samples = 5000;
  /// Evaluate only the first N test examples (0 = all).
  int64_t max_examples = 0;
  /// T: inference iterations (0 = the model's training T).
  int64_t iterations = 0;
  /// S: samples per ELBO estimate (0 = the model's training S).
  int64_t samples = 0;
  /// Data folder (empty = the one the model was trained on).
  std::string data_dir;
  /// Where eval.json and reconstructions.png go (empty = the run folder).
  std::string out;
  uint64_t seed = 1;
  int threads = 0;
  /// Rows of the reconstruction grid (0 = no grid).
  int64_t grid_examples = 8;
  /// Examples per batch.
  int64_t batch_size = 250;
};

/// Runs the evaluation, prints a table, writes eval.json (and the grid);
/// returns what it wrote to eval.json.
nlohmann::json run_eval(const EvalConfig& config);

struct InferConfig {
  std::string checkpoint;
  /// IDX image file (N,H,W); empty = the model's test split.
  std::string images;
  /// CSV to write.
  std::string out = "inference.csv";
  int64_t iterations = 0;
  int64_t samples = 0;
  int64_t max_examples = 0;
  uint64_t seed = 1;
  int threads = 0;
};

/// Writes one CSV row per example: index, ELBO after each iteration, final
/// mu and logvar. Returns the number of rows.
int64_t run_infer(const InferConfig& config);

}  // namespace iai::analysis
