#pragma once
// The inference procedures a training run can name (--inference), one entry
// each: what resolve() fills in and checks for it, which training step it
// needs and how it is built. Adding a procedure is adding an entry here
// (and its name to nothing else): the config, the CLI, the factory, the
// trainer and the analyses all ask the entry.

#include "iai/inference/encoder_options.h"
#include "iai/inference/inference_procedure.h"
#include "iai/model/generative_model.h"
#include "iai/train/config/config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iai::train {

enum class InferenceKind { kStandard, kIterative, kSemiAmortized, kLadder };

/// How a procedure's parameters are trained (train/step/training_step.h).
enum class TrainingStep {
  kDetached,  // inputs detached, encoder gradient averaged over T (paper)
  kUnrolled,  // backpropagated through all T steps (SA-VAE)
};

struct InferenceEntry {
  InferenceKind kind;
  /// The --inference name, also config.json's value.
  std::string name;
  /// What it is, for --help ("one pass from x").
  std::string help;
  /// Maps x to lambda in one pass: T is 1.
  bool one_pass = false;
  TrainingStep training_step = TrainingStep::kDetached;
  /// Non-empty: needs --model hierarchical, for this reason.
  std::string needs_hierarchical;
  /// Needs --posterior gaussian (a point estimate has no variance to refine
  /// or to precision-weight).
  bool needs_gaussian_posterior = false;
  /// Checks of the config this procedure alone makes (before T and S are
  /// filled in); throws iai::Error naming the flag.
  void (*check)(const TrainConfig& config) = nullptr;
  /// T and S when the config leaves them at 0.
  int64_t (*default_iterations)(const TrainConfig& config) = nullptr;
  int64_t default_samples = 1;
  /// The procedure, from the encoder options the config gives (a ladder
  /// encoder also reads the model's priors).
  inference::InferenceProcedure (*build)(
      const TrainConfig& config, const inference::EncoderOptions& options,
      const model::GenerativeModel& model) = nullptr;
};

/// Every entry, in --help's order: standard, iterative, semi-amortized,
/// ladder.
const std::vector<InferenceEntry>& inference_entries();
/// Their names.
const std::vector<std::string>& inference_names();
/// --inference's help: each name with its entry's help.
std::string inference_help();
/// The entry of a kind / of an --inference name (throws iai::Error listing
/// the names).
const InferenceEntry& inference_entry(InferenceKind kind);
const InferenceEntry& inference_entry(const std::string& name);
/// The entry the config names.
const InferenceEntry& inference_entry(const TrainConfig& config);

}  // namespace iai::train
