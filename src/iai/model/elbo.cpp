#include "iai/model/elbo.h"

#include "iai/dist/gaussian.h"

namespace iai::model {

ElboTerms ElboTerms::detached() const {
  ElboTerms out{elbo.detach(), reconstruction.detach(), kl.detach(), {}};
  for (const auto& k : kl_levels) out.kl_levels.push_back(k.detach());
  return out;
}

ElboTerms elbo(GenerativeModelImpl& model, const torch::Tensor& x,
               const torch::Tensor& mu, const torch::Tensor& logvar,
               int64_t samples, PredictionErrors* errors) {
  const bool point = !logvar.defined();
  const int64_t batch = x.size(0);
  // (S*B,Z) sample-major; a point estimate has the one z = mu.
  auto z = point ? mu : dist::rsample(mu, logvar, samples);
  auto pass = model.generate(z);
  auto out = pass.out.view({-1, batch, model.output_width()});
  auto reconstruction = model.output_log_prob(x, out).mean(0);  // (B)

  const auto zs = model.split_levels(z);
  const auto mus = model.split_levels(mu);
  const auto logvars =
      point ? std::vector<torch::Tensor>() : model.split_levels(logvar);
  const auto per_sample = [&](const torch::Tensor& t) {
    return t.view({-1, batch, t.size(-1)});  // (S,B,Z_l)
  };
  ElboTerms terms;
  std::vector<torch::Tensor> error_z;
  // Lower levels: KL(q || p(z_l | z_{l+1})) from the samples; for a point
  // estimate -log p(mu_l | mu_{l+1}).
  for (size_t l = 0; l < pass.prior_mu.size(); ++l) {
    auto zl = per_sample(zs[l]);
    auto prior_mu = per_sample(pass.prior_mu[l]);
    auto prior_logvar = per_sample(pass.prior_logvar[l]);
    auto log_p = dist::log_prob(zl, prior_mu, prior_logvar);  // (S,B)
    auto kl = point ? -log_p : dist::log_prob(zl, mus[l], logvars[l]) - log_p;
    terms.kl_levels.push_back(kl.mean(0));
    if (errors) {
      torch::NoGradGuard no_grad;
      auto e = zl - prior_mu;
      if (errors->precision_weighted) e = e * torch::exp(-prior_logvar);
      error_z.push_back(e.detach().mean(0));
    }
  }
  // Top level, p = N(0, I): analytic KL for a Gaussian q, -log p(mu) for a
  // point.
  const auto& mu_top = mus.back();
  terms.kl_levels.push_back(
      point ? -dist::standard_normal_log_prob(mu_top)
            : dist::kl_standard_normal(mu_top, logvars.back()));
  if (errors) {
    torch::NoGradGuard no_grad;
    errors->error_x = (errors->precision_weighted
                           ? model.output_error(x, out.detach())
                           : x - model.output_expectation(out.detach()))
                          .mean(0);
    // E_q[(z_L - 0) / 1] = mu_L exactly; no need to estimate it.
    error_z.push_back(mu_top.detach());
    errors->error_z = error_z.size() == 1 ? error_z[0] : torch::cat(error_z, 1);
  }
  terms.kl = terms.kl_levels[0];
  for (size_t l = 1; l < terms.kl_levels.size(); ++l) {
    terms.kl = terms.kl + terms.kl_levels[l];
  }
  terms.reconstruction = reconstruction;
  terms.elbo = reconstruction - terms.kl;
  return terms;
}

}  // namespace iai::model
