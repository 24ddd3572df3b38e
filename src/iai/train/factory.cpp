#include "iai/train/factory.h"

#include "iai/data/dataset.h"
#include "iai/train/inference_registry.h"

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
  return inference_entry(c).build(c, options, model);
}

}  // namespace iai::train

namespace iai::train {

namespace {
void cut(data::ImageSplit& split, int64_t max) {
  if (max <= 0 || max >= split.images.size(0)) return;
  split.images = split.images.slice(0, 0, max);
  split.labels = split.labels.slice(0, 0, max);
}
void cut(data::TextSplit& split, int64_t max) {
  if (max <= 0 || max >= split.size()) return;
  const int64_t nnz = split.offsets[max].item<int64_t>();
  split.offsets = split.offsets.slice(0, 0, max + 1);
  split.ids = split.ids.slice(0, 0, nnz);
  split.counts = split.counts.slice(0, 0, nnz);
  split.labels = split.labels.slice(0, 0, max);
}
}  // namespace

data::ExampleSets load_data(const TrainConfig& c) {
  if (data::is_text_dataset(c.dataset)) {
    auto text = data::load_text_dataset(c.dataset, c.data_dir);
    cut(text.train, c.max_train);
    cut(text.test, c.max_test);
    return {data::count_examples(std::move(text.train)),
            data::count_examples(std::move(text.test)), text.name};
  }
  auto data = data::load_image_dataset(
      c.dataset, {c.data_dir, c.train_images, c.test_images, "", ""});
  cut(data.train, c.max_train);
  cut(data.test, c.max_test);
  const auto preprocessing = preprocessing_of(c);
  return {data::image_examples(std::move(data.train), preprocessing),
          data::image_examples(std::move(data.test), preprocessing), data.name};
}

data::Preprocessing preprocessing_of(const TrainConfig& c) {
  return c.likelihood == "gaussian" ? data::Preprocessing::kDequantize
                                    : data::Preprocessing::kBinarize;
}

}  // namespace iai::train
