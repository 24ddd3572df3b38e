#pragma once
// The epoch loop of a training run: train_batch over each shuffled epoch,
// the test evaluation, a checkpoint, a metrics line and a summary line after
// each epoch, and checkpoints inside an epoch (every N steps, every M
// minutes, on SIGINT or SIGTERM) that hold the position in the epoch. What
// starts a run or resumes one (the run folder, the config's checks, the
// device) is trainer.h's.

#include "iai/data/example_source.h"
#include "iai/train/checkpoint/checkpoint.h"
#include "iai/train/config/config.h"
#include "iai/train/trainer.h"

#include <memory>
#include <string>

namespace iai::parallel {
class ProcessGroup;
}

namespace iai::train {

/// --batch-size is the global batch: each of `world` processes computes its
/// share, so it must split evenly. Throws iai::Error naming the flag.
void check_batch_splits(const TrainConfig& config, int world);

class EpochLoop {
 public:
  /// Builds the model, the procedure and their optimisers on the config's
  /// (resolved) device. `group`: the job's processes, or nullptr for one.
  EpochLoop(TrainConfig config, data::ExampleSets data,
            parallel::ProcessGroup* group);
  ~EpochLoop();
  EpochLoop(const EpochLoop&) = delete;
  EpochLoop& operator=(const EpochLoop&) = delete;

  /// Continues from the checkpoint at `path` (its header already read).
  void restore(const std::string& path, const CheckpointHeader& header);
  /// Trains to the config's epochs. Throws iai::Error on SIGINT/SIGTERM
  /// (after a checkpoint) or divergence (no update applied).
  TrainResult run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace iai::train
