#pragma once
// A training run: starting one (the config's checks, the device, the run
// folder, config.json) and resuming one (which checkpoint, what may change,
// metrics.jsonl and gradients.jsonl cut back to it); the epochs themselves
// are epoch_loop.h's, each step the paper's procedure (step/training_step.h).

#include "iai/train/config/config.h"

#include <optional>
#include <set>
#include <string>

namespace iai::parallel {
class ProcessGroup;
}

namespace iai::train {

struct TrainResult {
  std::string run_dir;
  int64_t epochs_done = 0;
};

/// Starts a new run in config.out (which must not hold a run already).
/// Throws iai::Error on bad input, a non-finite loss (the last good
/// checkpoint stays intact) or SIGINT/SIGTERM (after a checkpoint at the
/// current step; the message says how to resume). `group`: the job's
/// processes (each trains its share of every batch; rank 0 writes the run
/// folder), or nullptr for one process.
TrainResult run_train(const TrainConfig& config, parallel::ProcessGroup* group);
/// The same in this process's job (parallel::world(), set at launch).
TrainResult run_train(const TrainConfig& config);

/// What a resume changes: the options named in `given` (field names, each
/// one the options table marks resumable) take their values from `values`.
/// The device is the resuming machine's: `values.device` when "device" is
/// given, else auto (its GPU, else its CPU).
struct ResumeChanges {
  TrainConfig values;
  std::set<std::string> given;
};

/// Continues the run in `run_dir` from its checkpoint (at an epoch's end or
/// inside an epoch) with its saved config; bit-identical on CPU with the
/// same thread count to a run that never stopped. When the newest checkpoint
/// is unreadable, continues from checkpoint.prev.pt and says so on stderr.
TrainResult resume_train(const std::string& run_dir,
                         const ResumeChanges& changes,
                         parallel::ProcessGroup* group);
/// The same in this process's job with only `epochs` and `threads` changed.
TrainResult resume_train(const std::string& run_dir,
                         std::optional<int64_t> epochs,
                         std::optional<int> threads);

/// Prints the resolved config, one "key = value" per line.
void print_config(const TrainConfig& config);

}  // namespace iai::train
