#pragma once
// Checkpoints: model, inference procedure, both optimisers, the position in
// the run (epochs done, steps into the next epoch with its data order's RNG
// state and running sums), RNG state and the full config in one LibTorch
// archive, behind a checksum (checkpoint_file.h). Written to a temporary
// file and renamed, keeping the one before as checkpoint.prev.pt, so a
// process killed at any moment leaves a complete checkpoint.

#include "iai/objectives/running_mean.h"
#include "iai/train/config/config.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <string>

namespace iai::train {

/// A run folder or a checkpoint file -> the checkpoint file's path; throws
/// iai::Error naming the path when there is none.
std::string checkpoint_path(const std::string& run_or_file);

/// Where an epoch stood when a checkpoint was taken in its middle.
struct EpochProgress {
  /// The generator's state when the epoch began, before it drew its data
  /// order: a resume draws the same order from it.
  torch::Tensor epoch_rng;
  /// The epoch's running sums and training seconds so far, so its metrics
  /// line comes out as if it had never stopped.
  objectives::TermValues sums;
  int64_t examples = 0;
  double seconds = 0;
  /// Batches of the epoch skipped so far for a non-finite value.
  int64_t skipped_nonfinite = 0;
};

struct CheckpointHeader {
  TrainConfig config;
  int64_t epoch = 0;     // epochs completed
  int64_t data_dim = 0;  // D the model was built for
  /// Steps of epoch `epoch + 1` already taken (0: taken at an epoch's end,
  /// as every checkpoint of format version 1 was); `progress` holds that
  /// epoch's state when it is > 0.
  int64_t step = 0;
  EpochProgress progress;
  /// metrics.jsonl's line of epoch `epoch` ("" if none), so a resume can
  /// restore a line that a kill cut off after the checkpoint was written.
  std::string last_metrics;
  /// Batches skipped for a non-finite value in the whole run so far
  /// (--skip-nonfinite's budget, kept across resumes; 0 in checkpoints
  /// written before it was kept).
  int64_t skipped_nonfinite = 0;
};

/// Saves atomically (temporary file + rename), keeping the checkpoint it
/// replaces as previous_checkpoint_path(path). Every tensor is written as a
/// CPU tensor, wherever the modules compute, so a GPU run's checkpoint
/// evaluates and resumes on a CPU and the other way round.
void save_checkpoint(const std::string& path, const CheckpointHeader& header,
                     torch::nn::Module& model, torch::nn::Module& procedure,
                     torch::optim::Optimizer& model_optimizer,
                     torch::optim::Optimizer& procedure_optimizer);

/// Reads config, position and D without touching any module. Throws
/// iai::Error naming the file when it is corrupted (checksum), from a newer
/// format version, or not a checkpoint.
CheckpointHeader read_checkpoint_header(const std::string& path);

/// The checkpoint a resume (or an evaluation) of `run_or_file` should
/// start from: the newest when readable, else checkpoint.prev.pt beside it,
/// with `fallback_note` set to a line saying why and what is done instead
/// ("<action> the previous one, ..."; left empty otherwise). Throws
/// iai::Error with both reasons when neither is readable.
std::string resumable_checkpoint(const std::string& run_or_file,
                                 std::string* fallback_note,
                                 const std::string& action = "resuming from");

/// Loads parameters into modules built from the header's config, with every
/// tensor put on the device `model` is on (checkpoints hold CPU tensors; one
/// holding another device's loads the same); the
/// optimisers may be null (evaluation). With restore_rng, the generator's
/// state resumes where the checkpoint left it.
void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::nn::Module& procedure,
                     torch::optim::Optimizer* model_optimizer,
                     torch::optim::Optimizer* procedure_optimizer,
                     bool restore_rng);

}  // namespace iai::train
