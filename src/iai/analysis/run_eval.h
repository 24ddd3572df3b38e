#pragma once
// `iai eval` and `iai infer` as library calls: evaluate a checkpoint on the
// test split (ELBO after each inference iteration, importance-weighted
// log p(x), Figure 5's reconstruction grid), or write per-example inference
// results to CSV.

#include "iai/analysis/loaded_run.h"
#include "iai/core/runtime.h"
#include "iai/objectives/evaluation.h"

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <optional>
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
  /// --seed, --threads.
  RuntimeOptions runtime;
  /// Rows of the reconstruction grid (0 = no grid).
  int64_t grid_examples = 8;
  /// Examples per batch.
  int64_t batch_size = 250;
  /// --cuda-graph: auto replays each full batch from a CUDA graph on a GPU;
  /// off runs every kernel eagerly.
  std::string cuda_graph = "auto";
};

/// Runs the evaluation, prints a table, writes eval.json (and the grid);
/// returns what it wrote to eval.json. The stages below, in this order.
nlohmann::json run_eval(const EvalConfig& config);

/// The run, its config (data_dir as given) and its data (test split cut to
/// max_examples).
struct EvalInputs {
  LoadedRun run;
  train::TrainConfig train_config;
  data::ExampleSets data;
};
EvalInputs load_eval_inputs(const EvalConfig& config);

/// T, S, K and batches of the evaluation (K = 0 for a point estimate).
objectives::EvaluationOptions eval_options(const EvalInputs& inputs,
                                           const EvalConfig& config);

struct EvalOutcome {
  objectives::Evaluation evaluation;
  double seconds = 0;  // of the evaluation
  /// Figure 5, (rows, T+1, [C,] H, W); undefined without images or rows.
  torch::Tensor grid;
};
/// Seeds the RNG with config.seed, evaluates (a progress line while it
/// runs), then infers the reconstruction grid.
EvalOutcome compute_eval(EvalInputs& inputs,
                         objectives::EvaluationOptions options,
                         const EvalConfig& config);

/// Figure 5: reconstructions of the first `rows` examples after each of
/// `iterations` inference iterations, the data in the last column.
torch::Tensor reconstruction_grid(LoadedRun& run,
                                  const data::ExampleSource& examples,
                                  int64_t rows, int64_t iterations,
                                  int64_t samples);

/// eval.json's content (without the grid's path).
nlohmann::json eval_json(const EvalInputs& inputs,
                         const objectives::EvaluationOptions& options,
                         const EvalOutcome& outcome, const EvalConfig& config);

struct InferConfig {
  std::string checkpoint;
  /// IDX image file (N,H,W); empty = the model's test split.
  std::string images;
  /// CSV to write.
  std::string out = "inference.csv";
  int64_t iterations = 0;
  int64_t samples = 0;
  int64_t max_examples = 0;
  /// --seed, --threads.
  RuntimeOptions runtime;
  /// --cuda-graph, as EvalConfig's.
  std::string cuda_graph = "auto";
};

/// Writes one CSV row per example: index, ELBO after each iteration, final
/// mu and logvar. Returns the number of rows. Its numbers come from
/// infer_examples below.
int64_t run_infer(const InferConfig& config);

/// What inference on a set of examples runs with: `iai infer`'s numbers and
/// the Python package's arguments.
struct InferenceSettings {
  /// T and S (0 = the run's training T and S).
  int64_t iterations = 0;
  int64_t samples = 0;
  /// K: importance samples for each example's log p(x) (0 = none).
  int64_t iw_samples = 0;
  /// Examples per batch (`iai infer`: 256, `iai eval`: 250); the samples
  /// drawn depend on it.
  int64_t batch_size = 256;
  /// Seeds the generator first (binarisation, sampling); unset, draws go
  /// on from its present state (the Python package's default, as torch's
  /// own functions do).
  std::optional<uint64_t> seed = 1;
  /// On a GPU, each full batch replayed from a CUDA graph (a run with a
  /// TorchScript decoder always runs eagerly).
  bool cuda_graph = true;
};

/// Seeds (when asked), then runs the run's inference procedure on every example
/// in order (objectives::evaluate with keep_per_example): each example's final
/// lambda, its ELBO after each iteration and, with iw_samples, its log p(x).
/// Throws iai::Error for log p(x) of a run that infers point estimates.
objectives::Evaluation infer_examples(LoadedRun& run,
                                      const data::ExampleSource& examples,
                                      const InferenceSettings& settings);

/// The examples `iai infer` reads: config.images, else the run's test split
/// (both cut to max_examples); throws when their D is not the model's.
data::Examples load_infer_examples(const LoadedRun& run,
                                   const InferConfig& config);

/// The CSV of run_infer from a keep_per_example evaluation.
void write_inference_csv(const std::string& path,
                         const objectives::Evaluation& eval,
                         int64_t iterations);

}  // namespace iai::analysis
