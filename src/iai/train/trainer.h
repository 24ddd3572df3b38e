#pragma once
// A training run: the paper's procedure (training_step.h) over epochs, with a
// test-set ELBO per epoch, metrics.jsonl, a checkpoint per epoch and resume.

#include "iai/train/config.h"

#include <optional>
#include <string>

namespace iai::train {

struct TrainResult {
  std::string run_dir;
  int64_t epochs_done = 0;
};

/// Starts a new run in config.out (which must not hold a run already).
/// Throws iai::Error on bad input, a non-finite loss (the last good
/// checkpoint stays intact) or an interrupt (after saving nothing half-made).
TrainResult run_train(const TrainConfig& config);

/// Continues the run in `run_dir` from its checkpoint with its saved config;
/// `epochs` may raise the total, `threads` may change.
TrainResult resume_train(const std::string& run_dir,
                         std::optional<int64_t> epochs,
                         std::optional<int> threads);

/// Prints the resolved config, one "key = value" per line.
void print_config(const TrainConfig& config);

}  // namespace iai::train
