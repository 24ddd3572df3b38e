#pragma once
// A trained run as the analyses use it: its checkpoint's model and inference
// procedure in evaluation mode, with the config they were trained with.

#include "iai/inference/inference_procedure.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/checkpoint.h"

#include <string>

namespace iai::analysis {

struct LoadedRun {
  std::string path;  // the checkpoint file
  train::CheckpointHeader header;
  model::LatentGaussianModel model{nullptr};
  inference::InferenceProcedure procedure;
};

/// Loads a run folder or checkpoint file; throws iai::Error naming the path.
LoadedRun load_run(const std::string& run_or_file);

}  // namespace iai::analysis
