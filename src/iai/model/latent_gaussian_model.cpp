#include "iai/model/latent_gaussian_model.h"

#include "iai/core/error.h"
#include "iai/dist/bernoulli.h"
#include "iai/dist/gaussian.h"

namespace iai::model {

Likelihood parse_likelihood(const std::string& name) {
  if (name == "bernoulli") return Likelihood::kBernoulli;
  if (name == "gaussian") return Likelihood::kGaussian;
  throw Error(message("unknown likelihood '", name,
                      "' (expected bernoulli or gaussian)"));
}

std::string to_string(Likelihood likelihood) {
  return likelihood == Likelihood::kGaussian ? "gaussian" : "bernoulli";
}

LatentGaussianModelImpl::LatentGaussianModelImpl(
    LatentGaussianModelOptions options_)
    : options(std::move(options_)) {
  reset();
}

void LatentGaussianModelImpl::reset() {
  body = register_module(
      "body", nn::Mlp(nn::MlpOptions(options.latent_dim(), options.hidden(),
                                     options.layers())
                          .kind(options.kind())));
  head = register_module("head",
                         nn::Dense(body->out_features(), options.data_dim()));
  if (options.likelihood() == Likelihood::kGaussian) {
    output_logvar = register_parameter("output_logvar",
                                       torch::zeros({options.data_dim()}));
  }
}

torch::Tensor LatentGaussianModelImpl::decode(const torch::Tensor& z) {
  return head->forward(body->forward(z));
}

torch::Tensor LatentGaussianModelImpl::log_likelihood(const torch::Tensor& x,
                                                      const torch::Tensor& z) {
  // One decoder call over all S*B rows, then viewed as (S,B,D) so x
  // broadcasts over the samples.
  return output_log_prob(
      x, decode(z).view({-1, x.size(0), options.data_dim()}));
}

torch::Tensor LatentGaussianModelImpl::output_log_prob(const torch::Tensor& x,
                                                       const torch::Tensor& out) {
  if (options.likelihood() == Likelihood::kBernoulli) {
    return dist::bernoulli_log_prob(x.unsqueeze(0), out);
  }
  return dist::log_prob(x.unsqueeze(0), out, output_logvar);
}

torch::Tensor LatentGaussianModelImpl::output_error(const torch::Tensor& x,
                                                    const torch::Tensor& out) {
  if (options.likelihood() == Likelihood::kBernoulli) {
    return x.unsqueeze(0) - torch::sigmoid(out);
  }
  return (x.unsqueeze(0) - out) * torch::exp(-output_logvar);
}

torch::Tensor LatentGaussianModelImpl::output_mean(const torch::Tensor& z) {
  auto out = decode(z);
  return options.likelihood() == Likelihood::kBernoulli ? torch::sigmoid(out)
                                                        : out;
}

std::pair<torch::Tensor, torch::Tensor> LatentGaussianModelImpl::prior(
    int64_t batch) const {
  auto opts = head->linear->weight.options();
  return {torch::zeros({batch, options.latent_dim()}, opts),
          torch::zeros({batch, options.latent_dim()}, opts)};
}

}  // namespace iai::model
