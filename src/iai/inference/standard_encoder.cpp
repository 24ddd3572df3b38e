#include "iai/inference/standard_encoder.h"

namespace iai::inference {

torch::Tensor encode_data(const torch::Tensor& x) { return x - 0.5; }

StandardEncoderImpl::StandardEncoderImpl(EncoderOptions options_)
    : options(std::move(options_)) {
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(options.data_dim(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())));
  head = register_module(
      "head", nn::Dense(body->out_features(), 2 * options.latent_dim()));
}

Posterior StandardEncoderImpl::update(const torch::Tensor& x,
                                      const Posterior& /*current*/,
                                      const Posterior& /*grad*/) {
  auto out = head->forward(body->forward(encode_data(x))).chunk(2, 1);
  return {out[0], out[1].clamp(kMinLogvar, kMaxLogvar)};
}

}  // namespace iai::inference
