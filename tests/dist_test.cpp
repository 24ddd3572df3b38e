// Distributions against closed forms and hand computations.

#include <algorithm>
#include <cmath>
#include <limits>

#include "iai/dist/bernoulli.h"
#include "iai/dist/bernoulli_rows.h"
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
  const double mc =
      (iai::dist::log_prob(z, mu_q, lv_q) - iai::dist::log_prob(z, mu_p, lv_p))
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
  EXPECT_NEAR(iai::dist::bernoulli_log_prob(x, logits).item<double>(), expected,
              1e-12);
  // Saturated logits stay finite (no log(0)).
  auto big = torch::tensor({{80.0, -80.0}}, torch::kDouble);
  auto xs = torch::tensor({{0.0, 1.0}}, torch::kDouble);
  EXPECT_NEAR(iai::dist::bernoulli_log_prob(xs, big).item<double>(), -160.0,
              1e-9);
}

// The float32 CPU path is one hand-vectorised pass (dist/bernoulli_rows.cpp);
// its row sums and gradient must be the composite formula's, computed in
// double, for logits over the whole range (saturated ones included) and for
// x broadcast over samples as the decoder's (S, B, D) against (1, B, D).
TEST_F(DistTest, FusedBernoulliMatchesTheFormulaInDouble) {
  const int64_t S = 3, B = 5, D = 784;
  auto logits = (torch::randn({S, B, D}) * 8).to(torch::kFloat);
  logits.index_put_({0, 0, torch::indexing::Slice(0, 6)},
                    torch::tensor({0.0f, 30.0f, -30.0f, 95.0f, -95.0f, 1e-7f}));
  auto x = torch::rand({1, B, D}).to(torch::kFloat);  // intensities too
  x.index_put_({0, 1}, torch::bernoulli(x[0][1]));
  auto l32 = logits.clone().requires_grad_(true);
  auto fused = iai::dist::bernoulli_log_prob(x, l32);
  auto l64 = logits.to(torch::kDouble).requires_grad_(true);
  auto x64 = x.to(torch::kDouble);
  auto exact = (x64 * l64 - torch::softplus(l64, 1, 1e9)).sum(-1);
  ASSERT_EQ(fused.sizes(), exact.sizes());
  EXPECT_TRUE(torch::allclose(fused.to(torch::kDouble), exact, 1e-6, 1e-3))
      << (fused.to(torch::kDouble) - exact).abs().max();
  auto seed = torch::randn({S, B});
  auto g32 = torch::autograd::grad({fused}, {l32}, {seed})[0];
  auto g64 =
      torch::autograd::grad({exact}, {l64}, {seed.to(torch::kDouble)})[0];
  EXPECT_TRUE(torch::allclose(g32.to(torch::kDouble), g64, 1e-5, 1e-6))
      << (g32.to(torch::kDouble) - g64).abs().max();
  // Without a gradient the same sums come from the pass without residuals.
  torch::Tensor plain;
  {
    torch::NoGradGuard no_grad;
    plain = iai::dist::bernoulli_log_prob(x, logits);
  }
  EXPECT_TRUE(torch::equal(plain, fused.detach()));
}

// Unrolled training differentiates the likelihood's gradient again: the
// fused path's backward must then be differentiable, d2/dl2 = -s (1 - s).
TEST_F(DistTest, FusedBernoulliGradientIsDifferentiable) {
  auto l = torch::randn({2, 7}).requires_grad_(true);
  auto x = torch::bernoulli(torch::full({1, 7}, 0.5));
  auto g = torch::autograd::grad({iai::dist::bernoulli_log_prob(x, l).sum()},
                                 {l}, {}, true, true)[0];
  auto h = torch::autograd::grad({g.sum()}, {l})[0];
  auto s = torch::sigmoid(l.detach());
  EXPECT_TRUE(torch::allclose(h, -s * (1 - s), 1e-5, 1e-6)) << h;
}

// Every compiled variant this CPU runs (AVX-512, AVX2, baseline) against the
// formula in double, row by row, logits from -95 to 95; and non-finite
// logits stay visible: a NaN makes its row's sum and residual NaN (the
// finiteness checks read them), never a number.
TEST_F(DistTest, EveryBernoulliRowVariantMatchesTheFormula) {
  const int64_t n = 1003;  // not a multiple of any vector width
  std::vector<float> l(n), x(n), r(n);
  for (int64_t i = 0; i < n; ++i) {
    l[i] = -95.0f + 190.0f * static_cast<float>(i) / (n - 1);
    x[i] = (i % 3 == 0) ? 1.0f : (i % 3 == 1 ? 0.0f : 0.25f);
  }
  double exact = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double li = l[i];
    exact +=
        x[i] * li - (std::max(li, 0.0) + std::log1p(std::exp(-std::abs(li))));
  }
  const auto& kernels = iai::dist::bernoulli_row_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_STREQ(kernels.back().isa, "baseline");
  for (const auto& k : kernels) {
    SCOPED_TRACE(k.isa);
    EXPECT_NEAR(k.row(l.data(), x.data(), r.data(), n), exact,
                1e-6 * std::abs(exact));
    EXPECT_NEAR(k.row(l.data(), x.data(), nullptr, n), exact,
                1e-6 * std::abs(exact));
    for (int64_t i = 0; i < n; ++i) {
      const double sig = 1.0 / (1.0 + std::exp(-static_cast<double>(l[i])));
      ASSERT_NEAR(r[i], x[i] - sig, 2e-7) << "logit " << l[i];
    }
    std::vector<float> bad = l;
    bad[500] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(k.row(bad.data(), x.data(), r.data(), n)));
    EXPECT_TRUE(std::isnan(r[500]));
    EXPECT_FALSE(std::isnan(r[499]));
  }
}

// log p(x | logits) per row with its residual x - sigmoid(logits): one pass
// on contiguous CPU tensors, LibTorch's operators anywhere else (a GPU, here
// logits that are a column block of a wider tensor). Row i of logits (S B
// rows) reads row i mod B of x.
TEST_F(DistTest, BernoulliLogProbAndResidualIsTheSameInEitherPath) {
  const int64_t S = 3, B = 4, D = 50;
  const auto x = torch::bernoulli(torch::full({B, D}, 0.4));
  const auto wide = torch::randn({S * B, D + 5}) * 4;
  const auto logits = wide.narrow(1, 0, D);
  ASSERT_FALSE(logits.is_contiguous());
  auto fused_residual = torch::empty({S * B, D});
  const auto fused = iai::dist::bernoulli_log_prob_and_residual(
      x, logits.contiguous(), fused_residual);
  auto residual = torch::empty({S * B, D});
  const auto generic =
      iai::dist::bernoulli_log_prob_and_residual(x, logits, residual);
  ASSERT_EQ(generic.sizes(), fused.sizes());
  EXPECT_TRUE(torch::allclose(generic, fused, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(residual, fused_residual, 1e-6, 1e-6));
  // The formula in double, x's rows repeated for every sample.
  const auto xd = x.repeat({S, 1}).to(torch::kDouble);
  const auto ld = logits.to(torch::kDouble);
  const auto expected = (xd * ld - torch::softplus(ld)).sum(-1);
  EXPECT_TRUE(
      torch::allclose(generic.to(torch::kDouble), expected, 1e-5, 1e-4));
  EXPECT_TRUE(torch::allclose(residual.to(torch::kDouble),
                              xd - torch::sigmoid(ld), 1e-6, 1e-6));
}

}  // namespace
