#include "iai/train/factory.h"

#include "iai/core/error.h"
#include "iai/inference/hierarchical_iterative_encoder.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/ladder_encoder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/refined_procedure.h"
#include "iai/inference/standard_encoder.h"

namespace iai::train {

model::LatentGaussianModel build_model(const TrainConfig& c,
                                       int64_t data_dim) {
  return model::LatentGaussianModel(
      model::LatentGaussianModelOptions(data_dim, c.latent)
          .hidden(c.decoder_hidden)
          .layers(c.decoder_layers)
          .kind(nn::parse_mlp_kind(c.decoder_kind))
          .likelihood(model::parse_likelihood(
              c.likelihood.empty() ? "bernoulli" : c.likelihood))
          .output_variance(model::parse_output_variance(c.output_variance))
          .sigmoid_mean(c.gaussian_mean == "sigmoid")
          .upper_latent_dims(c.upper_latent)
          .upper_hidden(c.upper_hidden)
          .deterministic(c.deterministic)
          .batch_norm(c.batch_norm)
          .concat_latents(c.concat_latents));
}

inference::InferenceProcedure build_procedure(
    const TrainConfig& c, int64_t data_dim,
    const model::LatentGaussianModel& model) {
  auto options = inference::EncoderOptions(data_dim, c.latent)
                     .hidden(c.encoder_hidden)
                     .layers(c.encoder_layers)
                     .kind(nn::parse_mlp_kind(c.encoder_kind))
                     .point_estimate(c.posterior == "point")
                     .encode_data(c.encode_data)
                     .encoding(inference::parse_feedback_kind(c.encoding))
                     .normalization(inference::parse_normalization(c.normalization))
                     .update(inference::parse_update_form(c.update))
                     .recurrent(c.recurrent)
                     .batch_norm(c.batch_norm)
                     .center_data(c.likelihood != "multinomial")
                     .upper_latent_dims(c.upper_latent)
                     .upper_hidden(c.upper_hidden);
  if (c.inference == "standard") {
    return std::make_shared<inference::StandardEncoderImpl>(options);
  }
  if (c.inference == "semi-amortized") {
    // SGD on each example's own ELBO: the gradient arrives as the
    // batch-mean one, so scale it back by the batch size.
    auto sgd = inference::OptimizerOptions(inference::OptimizerKind::kSgd)
                   .lr(c.refine_lr)
                   .gradient_scale(static_cast<double>(c.batch_size));
    return std::make_shared<inference::RefinedProcedureImpl>(
        std::make_shared<inference::StandardEncoderImpl>(options),
        std::make_shared<inference::OptimizerInferenceImpl>(sgd));
  }
  if (c.inference == "iterative") {
    if (!c.upper_latent.empty()) {
      return std::make_shared<inference::HierarchicalIterativeEncoderImpl>(
          options);
    }
    return std::make_shared<inference::IterativeEncoderImpl>(options);
  }
  if (c.inference == "ladder") {
    return std::make_shared<inference::LadderEncoderImpl>(options, model);
  }
  throw Error(message("unknown --inference '", c.inference, "'"));
}

}  // namespace iai::train
