#include "iai/inference/iterative_encoder.h"

#include "iai/core/error.h"
#include "iai/inference/gradient_encoding.h"

namespace iai::inference {

IterativeEncoderImpl::IterativeEncoderImpl(EncoderOptions options_)
    : options(std::move(options_)) {
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(input_features(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())));
  head = register_module(
      "head", nn::Dense(body->out_features(), 4 * options.latent_dim()));
}

int64_t IterativeEncoderImpl::input_features() const {
  return 6 * options.latent_dim() +
         (options.encode_data() ? options.data_dim() : 0);
}

Posterior IterativeEncoderImpl::update(const torch::Tensor& x,
                                       const Posterior& current,
                                       const Posterior& grad) {
  IAI_CHECK(grad.defined(),
            "IterativeEncoder::update needs the ELBO's gradient at lambda_t");
  std::vector<torch::Tensor> inputs = {encode_gradient(grad), current.mu,
                                       current.logvar};
  if (options.encode_data()) inputs.push_back(encode_data(x));
  auto out = head->forward(body->forward(torch::cat(inputs, 1))).chunk(4, 1);
  auto mu = highway_update(current.mu, out[0], torch::sigmoid(out[1]));
  auto logvar = highway_update(current.logvar, out[2], torch::sigmoid(out[3]));
  return {mu, logvar.clamp(kMinLogvar, kMaxLogvar)};
}

}  // namespace iai::inference
