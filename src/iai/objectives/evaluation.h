#pragma once
// Test-set evaluation of (model, inference procedure): the ELBO after every
// inference iteration and, optionally, the importance-weighted log p(x) from
// the final q. Data are dynamically binarised or dequantised (a fresh draw,
// as in training).

#include "iai/data/example_source.h"
#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"
#include "iai/objectives/running_mean.h"
#include "iai/parallel/process_group.h"

#include <functional>
#include <string>
#include <vector>

namespace iai::objectives {

struct EvaluationOptions {
  /// T: inference iterations to run.
  int64_t iterations = 1;
  /// S: samples per ELBO estimate (and per gradient the procedure reads).
  int64_t samples = 1;
  /// Examples per batch.
  int64_t batch_size = 256;
  /// The training batch size B: gradients fed to an iterative model are
  /// scaled as in training (see run_inference.h). 0 = batch_size.
  int64_t gradient_batch = 0;
  /// K: importance samples for log p(x); 0 skips it.
  int64_t iw_samples = 0;
  /// Decoder rows per importance-sampling call: chunks of K are sized so
  /// batch * chunk <= this, which bounds memory; 0 = the device's
  /// default_iw_rows (importance_weighted.h says why they differ).
  int64_t iw_rows = 0;
  /// Keep every example's final lambda and per-iteration ELBO.
  bool keep_per_example = false;
  /// On a GPU in one process: each full batch's inference and importance
  /// sampling replayed from a CUDA graph (objectives/batch_graph.h); false
  /// runs every kernel eagerly.
  bool cuda_graph = true;
  /// Called after each batch with (examples done, total).
  std::function<void(int64_t, int64_t)> on_batch;
  /// Set (several processes): each batch is split across the ranks, each
  /// drawing its rows' noise as the whole batch's (parallel/batch_shard.h), and
  /// the sums are added over the ranks at the end, so every rank returns
  /// the single-process numbers. Not with keep_per_example.
  parallel::ProcessGroup* group = nullptr;
};

/// Means over the evaluated examples, per inference iteration.
using IterationMeans = TermValues;

struct Evaluation {
  int64_t examples = 0;
  std::vector<IterationMeans> per_iteration;  // t = 1..T
  /// Total of every example's sum of x: the words of a bag-of-words set
  /// (perplexity's denominator).
  double total_x = 0;
  /// Mean importance-weighted log p(x); 0.0 when not computed (see
  /// has_log_px).
  double log_px = 0;
  bool has_log_px = false;
  /// keep_per_example only: final mu, logvar (N,Z); ELBO (N,T); on the CPU.
  torch::Tensor mu, logvar, elbo_per_iteration;
  /// How the batches ran on the device: "captured (batches of 250)",
  /// "eager (not on a GPU)", "off" (objectives/batch_graph.h).
  std::string cuda_graph;
  /// keep_per_example with iw_samples > 0: each example's importance-
  /// weighted log p(x), (N), on the CPU.
  torch::Tensor log_px_per_example;
};

/// Every example of `examples` is evaluated once, in order, on the model's
/// device (batches drawn on the host, copied there).
Evaluation evaluate(model::GenerativeModelImpl& model,
                    inference::InferenceProcedureImpl& procedure,
                    const data::ExampleSource& examples,
                    const EvaluationOptions& options);

}  // namespace iai::objectives
