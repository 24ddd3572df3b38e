// Importance-weighted log p(x) against the exact marginal of a linear-Gaussian
// model: p(z) = N(0, I), p(x | z) = N(W z + b, diag sigma^2)  =>
//   p(x) = N(x; b, W W^T + diag sigma^2).

#include <cmath>

#include "iai/inference/posterior.h"
#include "iai/model/elbo.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/objectives/importance_weighted.h"
#include "test_support.h"

namespace {

using iai::model::LatentGaussianModel;
using iai::model::LatentGaussianModelOptions;
using ImportanceWeightedTest = iai::testing::Seeded;

struct LinearGaussian {
  LatentGaussianModel model{nullptr};
  torch::Tensor W, b, var;  // (D,Z), (D), (D)
};

LinearGaussian make_model(int64_t d, int64_t z) {
  LinearGaussian lg;
  lg.model =
      LatentGaussianModel(LatentGaussianModelOptions(d, z).layers(0).likelihood(
          iai::model::Likelihood::kGaussian));
  lg.model->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  lg.model->head->linear->bias.uniform_(-1, 1);
  lg.model->output_logvar.fill_(std::log(0.3));
  lg.W = lg.model->head->linear->weight.detach();
  lg.b = lg.model->head->linear->bias.detach();
  lg.var = lg.model->output_logvar.detach().exp();
  return lg;
}

/// Exact log p(x) for each row of x (B,D).
torch::Tensor exact_log_px(const LinearGaussian& lg, const torch::Tensor& x) {
  auto cov = lg.W.matmul(lg.W.t()) + torch::diag(lg.var);
  auto d = x - lg.b;
  auto solved = torch::linalg_solve(cov, d.t()).t();
  const double dim = static_cast<double>(x.size(1));
  return -0.5 *
         (dim * std::log(2 * M_PI) + torch::logdet(cov) + (d * solved).sum(1));
}

/// A diagonal q near the true posterior N(m, C): exact mean, variances of C's
/// diagonal widened by 50% (so q is imperfect and the bound is not tight).
iai::inference::Posterior near_posterior(const LinearGaussian& lg,
                                         const torch::Tensor& x) {
  const int64_t z = lg.W.size(1);
  auto precision = torch::eye(z, torch::kDouble) +
                   lg.W.t().matmul(lg.W / lg.var.unsqueeze(1));
  auto C = torch::inverse(precision);
  auto m = ((x - lg.b) / lg.var).matmul(lg.W).matmul(C);
  auto logvar = (torch::diag(C) * 1.5).log().expand_as(m).contiguous();
  return {m, logvar};
}

TEST_F(ImportanceWeightedTest, ConvergesToExactMarginalAndBoundsTheElbo) {
  auto lg = make_model(4, 2);
  auto x = torch::randn({3, 4}, torch::kDouble) + lg.b;
  auto exact = exact_log_px(lg, x);
  auto q = near_posterior(lg, x);

  auto iw =
      iai::objectives::importance_weighted_log_px(*lg.model, x, q, 20000, 777);
  EXPECT_TRUE(torch::allclose(iw, exact, 0, 0.01)) << "IW:\n"
                                                   << iw << "\nexact:\n"
                                                   << exact;

  // The ELBO of the same q is a looser bound, strictly below log p(x).
  auto elbo = iai::model::elbo(*lg.model, x, q.mu, q.logvar, 20000).elbo;
  EXPECT_TRUE((elbo < exact - 0.02).all().item<bool>()) << elbo << exact;
  EXPECT_TRUE((iw > elbo).all().item<bool>());

  // K = 1 is, in expectation, the ELBO: the mean of many single-sample
  // draws (each example repeated, one call) lies within 4 standard errors
  // of it. A single draw's log w has a standard deviation of about 3 here,
  // so 100000 draws give a standard error near 0.01: a bias of 0.1 nats
  // in the K = 1 estimate (log(K + 0.1) for log K) fails, where 4000 draws
  // and a tolerance of 0.15 let it pass.
  const int64_t repeats = 100000;
  const iai::inference::Posterior qs{q.mu.repeat({repeats, 1}),
                                     q.logvar.repeat({repeats, 1})};
  const auto k1 = iai::objectives::importance_weighted_log_px(
                      *lg.model, x.repeat({repeats, 1}), qs, 1, 1)
                      .view({repeats, x.size(0)});
  const auto mean = k1.mean(0);
  const auto error = k1.std(0) / std::sqrt(static_cast<double>(repeats));
  // The ELBO of 20000 samples has an error of its own, below K = 1's.
  EXPECT_TRUE(((mean - elbo).abs() < 4 * error).all().item<bool>())
      << "mean K=1:\n"
      << mean << "\nELBO:\n"
      << elbo << "\nstandard error:\n"
      << error;
  EXPECT_TRUE((error < 0.02).all().item<bool>()) << error;
  // log p(x) lies 1.3 nats above the ELBO: far outside those errors.
  EXPECT_TRUE((exact - elbo > 40 * error).all().item<bool>())
      << "gap:\n"
      << exact - elbo << "\nstandard error:\n"
      << error;
}

TEST_F(ImportanceWeightedTest, RejectsNonPositiveSampleCounts) {
  auto lg = make_model(3, 1);
  auto x = torch::zeros({1, 3}, torch::kDouble);
  auto q = near_posterior(lg, x);
  auto msg = iai::testing::error_of([&] {
    iai::objectives::importance_weighted_log_px(*lg.model, x, q, 0, 10);
  });
  EXPECT_TRUE(
      iai::testing::contains(msg, "importance samples must be positive"));
}

}  // namespace
