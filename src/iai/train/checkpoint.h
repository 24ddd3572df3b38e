#pragma once
// Checkpoints: model, inference procedure, both optimisers, epoch, RNG state
// and the full config in one LibTorch archive. Written to a temporary file and
// renamed, so an interrupted write never destroys the previous checkpoint.

#include "iai/train/config.h"

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <string>

namespace iai::train {

/// A run folder or a checkpoint file -> the checkpoint file's path; throws
/// iai::Error naming the path when there is none.
std::string checkpoint_path(const std::string& run_or_file);

struct CheckpointHeader {
  TrainConfig config;
  int64_t epoch = 0;       // epochs completed
  int64_t data_dim = 0;    // D the model was built for
};

/// Saves atomically (temporary file + rename).
void save_checkpoint(const std::string& path, const CheckpointHeader& header,
                     torch::nn::Module& model, torch::nn::Module& procedure,
                     torch::optim::Optimizer& model_optimizer,
                     torch::optim::Optimizer& procedure_optimizer);

/// Reads config, epoch and D without touching any module.
CheckpointHeader read_checkpoint_header(const std::string& path);

/// Loads parameters into modules built from the header's config; the
/// optimisers may be null (evaluation). With restore_rng, the generator's
/// state resumes where the checkpoint left it.
void load_checkpoint(const std::string& path, torch::nn::Module& model,
                     torch::nn::Module& procedure,
                     torch::optim::Optimizer* model_optimizer,
                     torch::optim::Optimizer* procedure_optimizer,
                     bool restore_rng);

}  // namespace iai::train
