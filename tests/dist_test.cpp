// Distributions against closed forms and hand computations.

#include <cmath>

#include "iai/dist/bernoulli.h"
#include "iai/dist/gaussian.h"
#include "test_support.h"

namespace {

using iai::testing::Seeded;
using DistTest = Seeded;

TEST_F(DistTest, GaussianLogProbMatchesHandValue) {
  // One 2-D point: log N([1, -1]; [0.5, 0], diag(e^0, e^1)).
  auto z = torch::tensor({{1.0, -1.0}}, torch::kDouble);
  auto mu = torch::tensor({{0.5, 0.0}}, torch::kDouble);
  auto logvar = torch::tensor({{0.0, 1.0}}, torch::kDouble);
  const double expected =
      -0.5 * (std::log(2 * M_PI) + 0.0 + 0.25) -
      0.5 * (std::log(2 * M_PI) + 1.0 + 1.0 / std::exp(1.0));
  EXPECT_NEAR(iai::dist::log_prob(z, mu, logvar).item<double>(), expected,
              1e-12);
  EXPECT_NEAR(iai::dist::standard_normal_log_prob(z).item<double>(),
              -std::log(2 * M_PI) - 1.0, 1e-12);
}

TEST_F(DistTest, KlMatchesMonteCarloEstimate) {
  auto mu_q = torch::tensor({{0.3, -1.2, 2.0}}, torch::kDouble);
  auto lv_q = torch::tensor({{-0.5, 0.4, -1.5}}, torch::kDouble);
  auto mu_p = torch::tensor({{-0.2, 0.1, 1.0}}, torch::kDouble);
  auto lv_p = torch::tensor({{0.3, -0.2, 0.0}}, torch::kDouble);
  const double analytic =
      iai::dist::kl_divergence(mu_q, lv_q, mu_p, lv_p).item<double>();
  auto z = iai::dist::rsample(mu_q, lv_q, 400000);
  const double mc = (iai::dist::log_prob(z, mu_q, lv_q) -
                     iai::dist::log_prob(z, mu_p, lv_p))
                        .mean()
                        .item<double>();
  EXPECT_GT(analytic, 0.5);  // a KL far from zero, so the check has teeth
  EXPECT_NEAR(analytic, mc, 0.01);
  // The standard-normal special case agrees with the general formula.
  auto zeros = torch::zeros_like(mu_q);
  EXPECT_NEAR(iai::dist::kl_standard_normal(mu_q, lv_q).item<double>(),
              iai::dist::kl_divergence(mu_q, lv_q, zeros, zeros).item<double>(),
              1e-12);
}

TEST_F(DistTest, RsampleIsSampleMajorWithTheRightMoments) {
  auto mu = torch::tensor({{1.0, -2.0}, {5.0, 0.0}}, torch::kDouble);
  auto logvar = torch::tensor({{0.0, std::log(4.0)}, {std::log(0.25), 0.0}},
                              torch::kDouble);
  auto z = iai::dist::rsample(mu, logvar, 50000).view({50000, 2, 2});
  auto mean = z.mean(0), var = z.var(0);
  EXPECT_TRUE(torch::allclose(mean, mu, 0, 0.03)) << mean;
  EXPECT_TRUE(torch::allclose(var, logvar.exp(), 0.03, 0)) << var;
}

TEST_F(DistTest, BernoulliLogProbMatchesHandValue) {
  auto x = torch::tensor({{1.0, 0.0, 1.0}}, torch::kDouble);
  auto logits = torch::tensor({{2.0, -1.0, -3.0}}, torch::kDouble);
  auto sig = [](double l) { return 1.0 / (1.0 + std::exp(-l)); };
  const double expected =
      std::log(sig(2.0)) + std::log(1 - sig(-1.0)) + std::log(sig(-3.0));
  EXPECT_NEAR(iai::dist::bernoulli_log_prob(x, logits).item<double>(),
              expected, 1e-12);
  // Saturated logits stay finite (no log(0)).
  auto big = torch::tensor({{80.0, -80.0}}, torch::kDouble);
  auto xs = torch::tensor({{0.0, 1.0}}, torch::kDouble);
  EXPECT_NEAR(iai::dist::bernoulli_log_prob(xs, big).item<double>(), -160.0,
              1e-9);
}

}  // namespace
