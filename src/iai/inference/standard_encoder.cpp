#include "iai/inference/standard_encoder.h"

namespace iai::inference {

StandardEncoderImpl::StandardEncoderImpl(EncoderOptions options_)
    : options(std::move(options_)) {
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(options.data_dim(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())));
  const int64_t outputs = options.point_estimate() ? 1 : 2;
  head = register_module(
      "head", nn::Dense(body->out_features(), outputs * options.latent_dim()));
}

Posterior StandardEncoderImpl::update(const torch::Tensor& x,
                                      const Posterior& /*current*/,
                                      const Feedback& /*feedback*/) {
  auto out = head->forward(body->forward(encode_data(x)));
  if (options.point_estimate()) return {out, {}};
  auto parts = out.chunk(2, 1);
  return {parts[0], parts[1].clamp(kMinLogvar, kMaxLogvar)};
}

}  // namespace iai::inference
