#include "iai/train/config/factory.h"

#include "iai/core/error.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/config/inference_registry.h"

namespace iai::train {

model::GenerativeModel build_model(const TrainConfig& c, int64_t data_dim) {
  IAI_CHECK(c.decoder.empty() || !c.decoder_script.empty(), "the decoder '",
            c.decoder, "' was not read (train reads it when a run starts)");
  return model::LatentGaussianModel(
             model::LatentGaussianModelOptions(data_dim, c.latent)
                 .hidden(c.decoder_hidden)
                 .layers(c.decoder_layers)
                 .kind(nn::parse_mlp_kind(c.decoder_kind))
                 .likelihood(model::parse_likelihood(
                     c.likelihood.empty() ? "bernoulli" : c.likelihood))
                 .output_variance(
                     model::parse_output_variance(c.output_variance))
                 .sigmoid_mean(c.gaussian_mean == "sigmoid")
                 .upper_latent_dims(c.upper_latent)
                 .upper_hidden(c.upper_hidden)
                 .deterministic(c.deterministic)
                 .batch_norm(c.batch_norm)
                 .concat_latents(c.concat_latents)
                 .decoder_script(c.decoder_script)
                 .decoder_source(c.decoder))
      .ptr();
}

inference::InferenceProcedure build_procedure(
    const TrainConfig& c, int64_t data_dim,
    const model::GenerativeModel& model) {
  auto options =
      inference::EncoderOptions(data_dim, c.latent)
          .hidden(c.encoder_hidden)
          .layers(c.encoder_layers)
          .kind(nn::parse_mlp_kind(c.encoder_kind))
          .point_estimate(c.posterior == "point")
          .encode_data(c.encode_data)
          .encoding(inference::parse_feedback_kind(c.encoding))
          .error_weighting(inference::parse_error_weighting(c.error_weighting))
          .normalization(inference::parse_normalization(c.normalization))
          .update(inference::parse_update_form(c.update))
          .recurrent(c.recurrent)
          .batch_norm(c.batch_norm)
          .center_data(c.likelihood != "multinomial")
          .upper_latent_dims(c.upper_latent)
          .upper_hidden(c.upper_hidden);
  return inference_entry(c).build(c, options, model);
}

}  // namespace iai::train
