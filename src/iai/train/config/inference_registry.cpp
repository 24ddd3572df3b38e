#include "iai/train/config/inference_registry.h"

#include "iai/core/error.h"
#include "iai/inference/hierarchical_iterative_encoder.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/ladder_encoder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/standard_encoder.h"

namespace iai::train {

namespace {

using inference::EncoderOptions;
using inference::InferenceProcedure;
using model::GenerativeModel;

int64_t one(const TrainConfig&) {
  return 1;
}

// A one-pass procedure maps x to lambda once: T = 1 and nothing else.
void check_one_pass(const TrainConfig& c) {
  IAI_CHECK(c.iterations == 0 || c.iterations == 1,
            "--iterations must be 1 with --inference ", c.inference,
            " (it maps x to lambda in one pass); got ", c.iterations);
}

InferenceEntry standard() {
  InferenceEntry e{InferenceKind::kStandard, "standard", "one pass from x"};
  e.one_pass = true;
  e.check = check_one_pass;
  e.default_iterations = one;
  e.build = [](const TrainConfig&, const EncoderOptions& options,
               const GenerativeModel&) -> InferenceProcedure {
    return std::make_shared<inference::StandardEncoderImpl>(options);
  };
  return e;
}

InferenceEntry iterative() {
  InferenceEntry e{InferenceKind::kIterative, "iterative",
                   "Section 4: --encoding, --update, --recurrent ..."};
  e.check = [](const TrainConfig& c) {
    IAI_CHECK(c.encoding != "none" || c.encode_data,
              "--encoding none needs --encode-data: the model would have no "
              "input");
  };
  e.default_iterations = [](const TrainConfig&) -> int64_t { return 5; };
  e.default_samples = 10;
  e.build = [](const TrainConfig& c, const EncoderOptions& options,
               const GenerativeModel&) -> InferenceProcedure {
    // One iterative model per level when hierarchical.
    if (!c.upper_latent.empty()) {
      return std::make_shared<inference::HierarchicalIterativeEncoderImpl>(
          options);
    }
    return std::make_shared<inference::IterativeEncoderImpl>(options);
  };
  return e;
}

InferenceEntry semi_amortized() {
  InferenceEntry e{
      InferenceKind::kSemiAmortized, "semi-amortized",
      "standard + --refine-steps SGD steps, trained through them: SA-VAE"};
  // Trained through its SGD steps, as in SA-VAE.
  e.training_step = TrainingStep::kUnrolled;
  e.needs_gaussian_posterior = true;
  e.check = [](const TrainConfig& c) {
    // The encoder's pass, then the SGD steps: T counts both.
    IAI_CHECK(c.iterations == 0 || c.iterations == 1 + c.refine_steps,
              "--iterations of a semi-amortized model is 1 + --refine-steps (",
              1 + c.refine_steps, "); got ", c.iterations);
  };
  e.default_iterations = [](const TrainConfig& c) {
    return 1 + c.refine_steps;
  };
  e.build = [](const TrainConfig& c, const EncoderOptions& options,
               const GenerativeModel&) -> InferenceProcedure {
    // SGD on each example's own ELBO: the gradient arrives as the
    // batch-mean one, so scale it back by the batch size.
    auto sgd = inference::OptimizerOptions(inference::OptimizerKind::kSgd)
                   .lr(c.refine_lr)
                   .gradient_scale(static_cast<double>(c.batch_size));
    return std::make_shared<inference::RefinedProcedureImpl>(
        std::make_shared<inference::StandardEncoderImpl>(options),
        std::make_shared<inference::OptimizerInferenceImpl>(sgd));
  };
  return e;
}

InferenceEntry ladder() {
  InferenceEntry e{
      InferenceKind::kLadder, "ladder",
      "hierarchical models: bottom-up estimates precision-weighted with "
      "the top-down priors, Ladder VAE"};
  // Like the standard encoder, one pass from x.
  e.one_pass = true;
  e.needs_hierarchical =
      "a single-level model has no top-down prior to combine with";
  e.needs_gaussian_posterior = true;
  e.check = check_one_pass;
  e.default_iterations = one;
  e.build = [](const TrainConfig&, const EncoderOptions& options,
               const GenerativeModel& model) -> InferenceProcedure {
    return std::make_shared<inference::LadderEncoderImpl>(options, model);
  };
  return e;
}

}  // namespace

const std::vector<InferenceEntry>& inference_entries() {
  static const std::vector<InferenceEntry> entries = {
      standard(), iterative(), semi_amortized(), ladder()};
  return entries;
}

const std::vector<std::string>& inference_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& e : inference_entries()) out.push_back(e.name);
    return out;
  }();
  return names;
}

const InferenceEntry& inference_entry(InferenceKind kind) {
  for (const auto& e : inference_entries()) {
    if (e.kind == kind) return e;
  }
  throw Error(message("no inference entry of kind ", static_cast<int>(kind)));
}

std::string inference_help() {
  std::string help = "Inference model: ";
  const auto& entries = inference_entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    help += (i == 0                    ? ""
             : i + 1 == entries.size() ? " or "
                                       : ", ") +
            entries[i].name + " (" + entries[i].help + ")";
  }
  return help;
}

const InferenceEntry& inference_entry(const std::string& name) {
  for (const auto& e : inference_entries()) {
    if (e.name == name) return e;
  }
  throw Error(message("unknown --inference '", name, "' (expected ",
                      or_list(inference_names()), ")"));
}

const InferenceEntry& inference_entry(const TrainConfig& config) {
  return inference_entry(config.inference);
}

}  // namespace iai::train
