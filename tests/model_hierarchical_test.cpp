// Hierarchical (two-level) latent Gaussian models, Section 4.1:
//   p(z_2) = N(0, I),  p(z_1 | z_2) = N(A z_2 + c, diag s^2),
//   p(x | z_1) = N(W z_1 + b, diag sigma^2)
// when every network is linear (layers 0) and the prior's log-variance head
// has zero weights. Checked against closed forms: eq. 13's gradient, the
// exact Gaussian marginal p(x), lambda_0 from the prior, and the reduction to
// the single-level model when the top level carries no information.

#include <torch/autograd.h>

#include <cmath>

#include "iai/dist/gaussian.h"
#include "iai/inference/posterior.h"
#include "iai/model/elbo.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/objectives/importance_weighted.h"
#include "test_support.h"

namespace {

using iai::model::LatentGaussianModel;
using iai::model::LatentGaussianModelOptions;
using iai::model::Likelihood;
using HierarchicalModelTest = iai::testing::Seeded;

struct LinearChain {
  LatentGaussianModel model{nullptr};
  torch::Tensor W, b, var_x;  // output: (D,Z1), (D), (D)
  torch::Tensor A, c, var_p;  // prior of level 1: (Z1,Z2), (Z1), (Z1)
};

LinearChain linear_chain(int64_t d, int64_t z1, int64_t z2) {
  LinearChain lc;
  lc.model = LatentGaussianModel(LatentGaussianModelOptions(d, z1)
                                     .layers(0)
                                     .likelihood(Likelihood::kGaussian)
                                     .upper_latent_dims({z2}));
  lc.model->to(torch::kDouble);
  torch::NoGradGuard no_grad;
  auto& out = lc.model->head->linear;
  out->bias.uniform_(-0.5, 0.5);
  lc.model->output_logvar.uniform_(-1.0, 0.0);
  auto& prior = lc.model->prior_heads[0]->as<iai::nn::DenseImpl>()->linear;
  // Rows [0, Z1) give mu_p, rows [Z1, 2 Z1) logvar_p: constant variances.
  prior->weight.slice(0, z1).zero_();
  prior->bias.slice(0, 0, z1).uniform_(-0.5, 0.5);
  prior->bias.slice(0, z1).uniform_(-1.0, 0.5);
  lc.W = out->weight.detach().clone();
  lc.b = out->bias.detach().clone();
  lc.var_x = lc.model->output_logvar.detach().exp();
  lc.A = prior->weight.slice(0, 0, z1).detach().clone();
  lc.c = prior->bias.slice(0, 0, z1).detach().clone();
  lc.var_p = prior->bias.slice(0, z1).detach().exp();
  return lc;
}

// Eq. 13: grad_{mu^l} L = J^l eps^{l-1} - eps^l, with eps^0 = eps_x (eq. 11)
// and eps^l = E[(z_l - mu_p^l) / sigma_p^l^2] (eq. 12 per level); for the
// linear chain J^1 = W^T and J^2 = A^T.
TEST_F(HierarchicalModelTest, MuGradientCombinesBottomUpAndTopDownErrors) {
  const int64_t B = 4, D = 6, Z1 = 3, Z2 = 2, S = 5;
  auto lc = linear_chain(D, Z1, Z2);
  auto x = torch::rand({B, D}, torch::kDouble);
  auto mu = torch::randn({B, Z1 + Z2}, torch::kDouble).requires_grad_();
  auto logvar =
      (0.3 * torch::randn({B, Z1 + Z2}, torch::kDouble)).requires_grad_();

  iai::model::PredictionErrors errors;
  auto terms = iai::model::elbo(*lc.model, x, mu, logvar, S, &errors);
  auto grad = torch::autograd::grad({terms.elbo.sum()}, {mu})[0];
  auto eps_z = errors.error_z.split_with_sizes({Z1, Z2}, 1);
  auto expected_1 = errors.error_x.matmul(lc.W) - eps_z[0];
  auto expected_2 = eps_z[0].matmul(lc.A) - eps_z[1];
  auto grads = grad.split_with_sizes({Z1, Z2}, 1);
  EXPECT_TRUE(torch::allclose(grads[0], expected_1, 1e-10, 1e-10))
      << "level 1, autograd:\n"
      << grads[0] << "\neq. 13:\n"
      << expected_1;
  EXPECT_TRUE(torch::allclose(grads[1], expected_2, 1e-10, 1e-10))
      << "level 2, autograd:\n"
      << grads[1] << "\neq. 13:\n"
      << expected_2;
  // Teeth: both terms matter at both levels, and the top-down error is the
  // precision-weighted one (the prior's variances are not 1).
  EXPECT_GT(errors.error_x.matmul(lc.W).abs().max().item<double>(), 0.1);
  EXPECT_GT(eps_z[0].matmul(lc.A).abs().max().item<double>(), 0.1);
  EXPECT_GT((lc.var_p - 1).abs().max().item<double>(), 0.1);
  EXPECT_TRUE(torch::allclose(eps_z[1], mu.detach().slice(1, Z1), 0, 0));
}

// The errors are eq. 11-12 computed from the ELBO's own samples: precision-
// weighted, or with error weighting "none" the raw x - E[x | z] and
// z_1 - mu_p (the prior's and the output's variances are not 1, so a
// weighting applied or left out wrongly would show). The top level's error
// is mu_L either way.
TEST_F(HierarchicalModelTest, PredictionErrorsComeFromTheElbosOwnSamples) {
  const int64_t B = 3, D = 4, Z1 = 2, Z2 = 2, S = 6;
  auto lc = linear_chain(D, Z1, Z2);
  auto x = torch::rand({B, D}, torch::kDouble);
  auto mu = torch::randn({B, Z1 + Z2}, torch::kDouble);
  auto logvar = 0.2 * torch::randn({B, Z1 + Z2}, torch::kDouble);
  EXPECT_GT((lc.var_p - 1).abs().max().item<double>(), 0.1);
  EXPECT_GT((lc.var_x - 1).abs().max().item<double>(), 0.1);
  for (const bool weighted : {true, false}) {
    SCOPED_TRACE(weighted ? "precision-weighted" : "raw");
    iai::model::PredictionErrors errors;
    errors.precision_weighted = weighted;
    torch::manual_seed(11);
    iai::model::elbo(*lc.model, x, mu, logvar, S, &errors);
    torch::manual_seed(11);
    auto z = iai::dist::rsample(mu, logvar, S).view({S, B, Z1 + Z2});
    auto z1 = z.slice(2, 0, Z1), z2 = z.slice(2, Z1);
    auto error_z = z1 - (z2.matmul(lc.A.t()) + lc.c);
    auto error_x = x - (z1.matmul(lc.W.t()) + lc.b);
    if (weighted) {
      error_z = error_z / lc.var_p;
      error_x = error_x / lc.var_x;
    }
    EXPECT_TRUE(torch::allclose(errors.error_z.slice(1, 0, Z1), error_z.mean(0),
                                1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(errors.error_x, error_x.mean(0), 1e-12, 1e-12));
    EXPECT_TRUE(
        torch::allclose(errors.error_z.slice(1, Z1), mu.slice(1, Z1), 0, 0));
  }
}

/// Exact log p(x) of the linear chain: x ~ N(W c + b,
/// W (A A^T + diag s^2) W^T + diag sigma^2).
torch::Tensor exact_log_px(const LinearChain& lc, const torch::Tensor& x) {
  auto cov_z1 = lc.A.matmul(lc.A.t()) + torch::diag(lc.var_p);
  auto cov = lc.W.matmul(cov_z1).matmul(lc.W.t()) + torch::diag(lc.var_x);
  auto d = x - (lc.W.matmul(lc.c) + lc.b);
  auto solved = torch::linalg_solve(cov, d.t()).t();
  const double dim = static_cast<double>(x.size(1));
  return -0.5 *
         (dim * std::log(2 * M_PI) + torch::logdet(cov) + (d * solved).sum(1));
}

/// The exact posterior p(z_1, z_2 | x) = N(mean, cov) of each example, from
/// the joint Gaussian of (z_1, z_2, x): mean (B,Z), cov (Z,Z) the same for
/// every x.
struct ExactPosterior {
  torch::Tensor mean, cov;
};

ExactPosterior exact_posterior(const LinearChain& lc, const torch::Tensor& x) {
  const int64_t z2 = lc.A.size(1);
  auto cov_11 = lc.A.matmul(lc.A.t()) + torch::diag(lc.var_p);
  auto cov_12 = lc.A;  // Cov(z1, z2)
  auto cov_zz =
      torch::cat({torch::cat({cov_11, cov_12}, 1),
                  torch::cat({cov_12.t(), torch::eye(z2, torch::kDouble)}, 1)},
                 0);
  auto lift =
      torch::cat({lc.W, torch::zeros({lc.W.size(0), z2}, torch::kDouble)}, 1);
  auto cov_xz = lift.matmul(cov_zz);  // Cov(x, z), x = W z1 + b + noise
  auto cov_xx = lc.W.matmul(cov_11).matmul(lc.W.t()) + torch::diag(lc.var_x);
  auto mean_z = torch::cat({lc.c, torch::zeros({z2}, torch::kDouble)});
  auto mean_x = lc.W.matmul(lc.c) + lc.b;
  auto gain = torch::linalg_solve(cov_xx, cov_xz).t();  // (Z,D)
  return {mean_z + (x - mean_x).matmul(gain.t()), cov_zz - gain.matmul(cov_xz)};
}

/// The exact posterior's means and marginal variances (a factorised q close
/// to it).
iai::inference::Posterior near_posterior(const ExactPosterior& p) {
  return {p.mean, torch::diag(p.cov).log().expand_as(p.mean).contiguous()};
}

/// The relative variance v = Var_q(w) / E_q[w]^2 of the importance weights
/// w = p(x, z) / q(z) when q = N(mean, Q) and the posterior N(mean, P) share
/// their mean: E_q[w^2] / E_q[w]^2 = integral p^2 / q
/// = |Q|^(1/2) / (|P| |2 P^-1 - Q^-1|^(1/2)), finite only where
/// 2 P^-1 - Q^-1 is positive definite (q not too narrow). Infinite is NaN.
double importance_weight_variance(const torch::Tensor& P,
                                  const torch::Tensor& Q) {
  auto m = 2 * torch::inverse(P) - torch::inverse(Q);
  if (torch::linalg_eigvalsh(m).min().item<double>() <= 0) return std::nan("");
  return std::exp(0.5 * torch::logdet(Q).item<double>() -
                  torch::logdet(P).item<double>() -
                  0.5 * torch::logdet(m).item<double>()) -
         1;
}

TEST_F(HierarchicalModelTest, ImportanceWeightedLogPxMatchesExactMarginal) {
  const int64_t B = 4, D = 3, Z1 = 2, Z2 = 1, K = 100000;
  auto lc = linear_chain(D, Z1, Z2);
  auto x = torch::randn({B, D}, torch::kDouble);
  const auto posterior = exact_posterior(lc, x);
  auto q = near_posterior(posterior);
  auto exact = exact_log_px(lc, x);
  auto estimate =
      iai::objectives::importance_weighted_log_px(*lc.model, x, q, K, 4096);
  // The tolerance is the estimator's own error on this instance: log of a
  // mean of K weights has standard error sqrt(v / K) (delta method) and
  // bias -v / (2K), v the weights' relative variance, here in closed form
  // (v = 2.03: the factorised q misses the posterior's correlation between
  // the levels). 4 standard errors plus the bias: 0.018 at K = 100,000. At
  // the former K = 20,000 and a fixed 0.02 the test passed or failed with
  // the instance: 0.02 was 2.6 standard errors for the one the fused init
  // drew (v = 1.17), 2.0 for this one (per-matrix init of the prior head,
  // a larger A), whose error was -0.0200 (measured; 20
  // repetitions at K = 100,000 erred at most 0.0086 = 1.9 standard
  // errors).
  const double v =
      importance_weight_variance(posterior.cov, torch::diag(q.logvar[0].exp()));
  ASSERT_TRUE(std::isfinite(v))
      << "the weights' variance is infinite: no standard error";
  EXPECT_NEAR(v, 2.03, 0.01) << "another instance: recheck the numbers above";
  const double tolerance = 4 * std::sqrt(v / K) + v / (2.0 * K);
  EXPECT_LT((estimate - exact).abs().max().item<double>(), tolerance)
      << "IW:\n"
      << estimate << "\nexact:\n"
      << exact;
  // Teeth: the ELBO at the same q is measurably below log p(x) (an
  // estimator that returned it would fail), and a model that left out the
  // level-1 prior would be far off.
  auto elbo = iai::model::elbo(*lc.model, x, q.mu, q.logvar, 20000).elbo;
  EXPECT_GT((exact - elbo).min().item<double>(), 10 * tolerance);
}

TEST_F(HierarchicalModelTest, InitialPosteriorIsThePriorGivenTheLevelAbove) {
  const int64_t B = 3, Z1 = 3, Z2 = 2;
  auto lc = linear_chain(4, Z1, Z2);
  // From the top level's mean (0): exactly (c, log s^2).
  auto [mu0, logvar0] = lc.model->prior(B, /*samples=*/0);
  EXPECT_TRUE(
      torch::allclose(mu0.slice(1, 0, Z1), lc.c.expand({B, Z1}), 0, 1e-12));
  EXPECT_TRUE(torch::allclose(logvar0.slice(1, 0, Z1),
                              lc.var_p.log().expand({B, Z1}), 0, 1e-12));
  EXPECT_TRUE(
      torch::equal(mu0.slice(1, Z1), torch::zeros({B, Z2}, torch::kDouble)));
  // Averaged over samples z_2 ~ N(0, I): A E[z_2] + c = c up to noise.
  auto [mu_s, logvar_s] = lc.model->prior(B, /*samples=*/4000);
  auto se = lc.A.pow(2).sum(1).sqrt() / std::sqrt(4000.0);
  EXPECT_TRUE(((mu_s.slice(1, 0, Z1) - lc.c).abs() < 4 * se + 1e-12)
                  .all()
                  .item<bool>());
  EXPECT_FALSE(mu_s.requires_grad());
}

// Level 1's prior fixed at N(0, I) (prior head zeroed) and the decoder copied
// from a single-level model: the joint is the single-level one times an
// independent N(0, I) for z_2, and with q(z_2) = N(0, I) the ELBO is the
// single-level ELBO (the sampled level-1 KL estimates the analytic one).
TEST_F(HierarchicalModelTest, TopLevelWithoutInfluenceIsTheSingleLevelModel) {
  const int64_t B = 4, D = 8, Z1 = 3, Z2 = 2;
  LatentGaussianModel single(LatentGaussianModelOptions(D, Z1).hidden(16));
  LatentGaussianModel two(LatentGaussianModelOptions(D, Z1)
                              .hidden(16)
                              .upper_latent_dims({Z2})
                              .upper_hidden(8));
  {
    torch::NoGradGuard no_grad;
    auto from = single->named_parameters();
    for (auto& p : two->named_parameters()) {
      if (from.contains(p.key())) {
        p.value().copy_(from[p.key()]);
      } else if (p.key().rfind("prior_heads", 0) == 0) {
        p.value().zero_();
      }
    }
  }
  auto x = torch::bernoulli(torch::full({B, D}, 0.4));
  auto z = torch::randn({5 * B, Z1 + Z2});
  auto joint_two = two->log_joint(x, z);
  auto joint_one =
      single->log_joint(x, z.slice(1, 0, Z1)) +
      iai::dist::standard_normal_log_prob(z.slice(1, Z1).view({5, B, Z2}));
  EXPECT_TRUE(torch::allclose(joint_two, joint_one, 1e-5, 1e-5));

  auto mu = torch::cat({0.5 * torch::randn({B, Z1}), torch::zeros({B, Z2})}, 1);
  auto logvar = torch::cat({-torch::rand({B, Z1}), torch::zeros({B, Z2})}, 1);
  auto one_elbo = iai::model::elbo(*single, x, mu.slice(1, 0, Z1),
                                   logvar.slice(1, 0, Z1), 20000);
  auto two_elbo = iai::model::elbo(*two, x, mu, logvar, 20000);
  EXPECT_TRUE(torch::allclose(two_elbo.kl_levels[0], one_elbo.kl, 0, 0.05))
      << two_elbo.kl_levels[0] << one_elbo.kl;
  EXPECT_TRUE(
      torch::allclose(two_elbo.kl_levels[1], torch::zeros({B}), 0, 1e-6));
  EXPECT_TRUE(torch::allclose(two_elbo.elbo, one_elbo.elbo, 0, 0.1));
  ASSERT_EQ(two_elbo.kl_levels.size(), 2u);
  EXPECT_TRUE(torch::allclose(two_elbo.kl,
                              two_elbo.kl_levels[0] + two_elbo.kl_levels[1]));
}

TEST_F(HierarchicalModelTest, OptionsShapeTheNetworks) {
  LatentGaussianModel m(LatentGaussianModelOptions(10, 4)
                            .hidden(12)
                            .upper_latent_dims({3, 2})
                            .upper_hidden(6)
                            .deterministic(5)
                            .batch_norm(true)
                            .concat_latents(true));
  EXPECT_EQ(m->levels(), 3);
  EXPECT_EQ(m->latent_dim(), 9);
  // Level 1 reads [z_1, z_2, z_3] and 5 units from level 2; level 2 reads
  // z_2 and 5 units from level 3; the top reads z_3 alone.
  EXPECT_EQ(m->body->options.in(), 9 + 5);
  EXPECT_EQ(m->upper_bodies[0]->as<iai::nn::MlpImpl>()->options.in(), 3 + 5);
  EXPECT_EQ(m->upper_bodies[1]->as<iai::nn::MlpImpl>()->options.in(), 2);
  m->eval();
  auto pass = m->generate(torch::randn({7, 9}));
  EXPECT_EQ(pass.out.sizes(), (std::vector<int64_t>{7, 10}));
  ASSERT_EQ(pass.prior_mu.size(), 2u);
  EXPECT_EQ(pass.prior_mu[0].size(1), 4);
  EXPECT_EQ(pass.prior_logvar[1].size(1), 3);
  EXPECT_THROW(LatentGaussianModel(
                   LatentGaussianModelOptions(10, 4).upper_latent_dims({0})),
               iai::Error);
}

}  // namespace
