#pragma once
// A trained run as the analyses use it: its checkpoint's model and inference
// procedure in evaluation mode, with the config they were trained with.

#include "iai/data/example_source.h"
#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"
#include "iai/train/checkpoint/checkpoint.h"

#include <string>

namespace iai::analysis {

struct LoadedRun {
  std::string path;  // the checkpoint file
  train::CheckpointHeader header;
  model::GenerativeModel model{nullptr};
  inference::InferenceProcedure procedure;
};

/// Loads a run folder or checkpoint file onto `device` (resolve_device,
/// core/device.h), whatever device it was trained on; when that checkpoint
/// is unreadable, its checkpoint.prev.pt, with a warning on stderr saying
/// so. Throws iai::Error naming the path (both reasons when neither is
/// readable).
LoadedRun load_run(const std::string& run_or_file, const torch::Device& device);

/// The run's data set (from data_dir when not empty, else the folder it was
/// trained on), test split cut to max_test (0 = all); throws iai::Error when
/// its dimensions are not the model's.
data::ExampleSets load_run_data(const LoadedRun& run,
                                const std::string& data_dir, int64_t max_test);

}  // namespace iai::analysis
