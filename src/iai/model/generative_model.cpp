#include "iai/model/generative_model.h"

#include "iai/dist/gaussian.h"

#include <numeric>

namespace iai::model {

int64_t GenerativeModelImpl::latent_dim() const {
  const auto dims = latent_dims();
  return std::accumulate(dims.begin(), dims.end(), int64_t{0});
}

int64_t GenerativeModelImpl::levels() const {
  return static_cast<int64_t>(latent_dims().size());
}

std::vector<torch::Tensor> GenerativeModelImpl::split_levels(
    const torch::Tensor& t) const {
  const auto dims = latent_dims();
  if (dims.size() == 1) return {t};
  return t.split_with_sizes(dims, /*dim=*/-1);
}

torch::Tensor GenerativeModelImpl::decode(const torch::Tensor& z) {
  return generate(z).out;
}

torch::Tensor GenerativeModelImpl::output_mean(const torch::Tensor& z) {
  return output_expectation(decode(z));
}

torch::Tensor GenerativeModelImpl::log_joint(const torch::Tensor& x,
                                             const torch::Tensor& z) {
  // One pass over all S*B rows, then viewed per sample so x broadcasts.
  const int64_t batch = x.size(0);
  const auto per_sample = [&](const torch::Tensor& t) {
    return t.view({-1, batch, t.size(-1)});
  };
  auto pass = generate(z);
  auto log_p = output_log_prob(x, per_sample(pass.out));
  auto zs = split_levels(z);
  for (size_t l = 0; l < pass.prior_mu.size(); ++l) {
    log_p =
        log_p + dist::log_prob(per_sample(zs[l]), per_sample(pass.prior_mu[l]),
                               per_sample(pass.prior_logvar[l]));
  }
  return log_p + dist::standard_normal_log_prob(
                     zs.back().reshape({-1, batch, zs.back().size(-1)}));
}

std::pair<torch::Tensor, torch::Tensor> GenerativeModelImpl::prior(
    int64_t batch, int64_t samples) {
  torch::NoGradGuard no_grad;
  const auto params = parameters();
  const auto opts = params.empty() ? torch::TensorOptions().dtype(torch::kFloat)
                                   : params.front().options();
  auto mu = torch::zeros({batch, latent_dim()}, opts);
  auto logvar = torch::zeros({batch, latent_dim()}, opts);
  // Top-down: level l's lambda_0 is its prior given level l+1's lambda_0,
  // which is set by then. Levels at and below l hold zeros meanwhile; the
  // prior of level l does not read them.
  auto mus = split_levels(mu), logvars = split_levels(logvar);
  for (int64_t l = levels() - 1; l >= 1; --l) {
    auto z = samples > 0 ? dist::rsample(mu, logvar, samples) : mu;
    auto pass = generate(z, /*with_output=*/false);
    const int64_t dim = mus[l - 1].size(1);
    mus[l - 1].copy_(pass.prior_mu[l - 1].view({-1, batch, dim}).mean(0));
    logvars[l - 1].copy_(
        pass.prior_logvar[l - 1].view({-1, batch, dim}).mean(0));
  }
  return {mu, logvar};
}

}  // namespace iai::model
