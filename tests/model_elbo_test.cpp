// The ELBO's gradient with respect to mu_q against the paper's eq. 9:
//   grad_mu L = J^T eps_x - eps_z,
// for a linear decoder with Gaussian output (mu_x = W z + b, sigma_x^2 a
// global parameter), where J = W, eps_x = E[(x - mu_x) / sigma_x^2] (eq. 11)
// and eps_z = E[(z - mu_p) / sigma_p^2] (eq. 12).

#include <torch/autograd.h>

#include "iai/dist/gaussian.h"
#include "iai/model/elbo.h"
#include "iai/model/latent_gaussian_model.h"
#include "test_support.h"

namespace {

using iai::model::LatentGaussianModel;
using iai::model::LatentGaussianModelOptions;
using iai::model::Likelihood;
using ElboTest = iai::testing::Seeded;

using iai::testing::linear_gaussian;

TEST_F(ElboTest, MuGradientIsJacobianTimesBottomUpMinusTopDownError) {
  const int64_t B = 4, D = 6, Z = 3, S = 5;
  auto model = linear_gaussian(D, Z);
  auto x = torch::rand({B, D}, torch::kDouble);
  auto mu = torch::randn({B, Z}, torch::kDouble).requires_grad_();
  auto logvar = (0.3 * torch::randn({B, Z}, torch::kDouble)).requires_grad_();

  torch::manual_seed(7);
  auto terms = iai::model::elbo(*model, x, mu, logvar, S);
  auto grad = torch::autograd::grad({terms.elbo.sum()}, {mu})[0];

  // Same samples again, then eq. 9-12 by hand.
  torch::manual_seed(7);
  auto z = iai::dist::rsample(mu.detach(), logvar.detach(), S);  // (S*B,Z)
  const auto& W = model->head->linear->weight;                   // (D,Z)
  auto mu_x = (z.matmul(W.t()) + model->head->linear->bias).view({S, B, D});
  auto var_x = model->output_logvar.exp();
  auto eps_x = ((x.unsqueeze(0) - mu_x) / var_x).mean(0);  // eq. 11, (B,D)
  auto eps_z = (mu.detach() - 0.0) / 1.0;   // eq. 12 in expectation, p = N(0,I)
  auto expected = eps_x.matmul(W) - eps_z;  // J^T eps_x - eps_z, J = W

  EXPECT_TRUE(torch::allclose(grad, expected, 1e-10, 1e-10))
      << "autograd:\n"
      << grad << "\neq. 9:\n"
      << expected;
  // The check has teeth: both error terms matter.
  EXPECT_GT(eps_x.matmul(W).abs().max().item<double>(), 0.1);
  EXPECT_GT(eps_z.abs().max().item<double>(), 0.1);
}

// grad_{log sigma^2} L for the same model, in closed form. With the
// samples z = mu + sigma * eps fixed, dz/dlog sigma^2 = (z - mu) / 2, so the
// estimate is E_s[(z - mu) / 2 * J^T eps_x(z)] - (sigma^2 - 1) / 2 (the KL is
// analytic). Its expectation is -sigma_j^2 / 2 * sum_d W_dj^2 / sigma_xd^2
// - (sigma_j^2 - 1) / 2, which many samples must reach.
TEST_F(ElboTest, LogvarGradientIsItsClosedForm) {
  const int64_t B = 2, D = 6, Z = 3;
  auto model = linear_gaussian(D, Z);
  auto x = torch::rand({B, D}, torch::kDouble);
  auto mu = torch::randn({B, Z}, torch::kDouble).requires_grad_();
  auto logvar = (0.3 * torch::randn({B, Z}, torch::kDouble)).requires_grad_();
  const auto& W = model->head->linear->weight;  // (D,Z)
  auto var_x = model->output_logvar.exp().detach();
  auto var = logvar.detach().exp();

  // The estimate, sample by sample.
  const int64_t S = 5;
  torch::manual_seed(8);
  auto terms = iai::model::elbo(*model, x, mu, logvar, S);
  auto grad = torch::autograd::grad({terms.elbo.sum()}, {logvar})[0];
  torch::manual_seed(8);
  auto z = iai::dist::rsample(mu.detach(), logvar.detach(), S).view({S, B, Z});
  auto mu_x = z.matmul(W.t()) + model->head->linear->bias;      // (S,B,D)
  auto jt_eps_x = ((x.unsqueeze(0) - mu_x) / var_x).matmul(W);  // (S,B,Z)
  auto expected =
      (0.5 * (z - mu.detach()) * jt_eps_x).mean(0) - 0.5 * (var - 1);
  EXPECT_TRUE(torch::allclose(grad.detach(), expected, 1e-10, 1e-10))
      << "autograd:\n"
      << grad << "\nclosed form:\n"
      << expected;

  // Its expectation.
  torch::manual_seed(9);
  auto many = iai::model::elbo(*model, x, mu, logvar, /*samples=*/200000);
  auto mean_grad = torch::autograd::grad({many.elbo.sum()}, {logvar})[0];
  auto exact =
      -0.5 * var * (W.pow(2) / var_x.view({D, 1})).sum(0) - 0.5 * (var - 1);
  EXPECT_TRUE(torch::allclose(mean_grad.detach(), exact, 0.0, 0.02))
      << "200000 samples:\n"
      << mean_grad << "\nexact:\n"
      << exact;
  // The check has teeth: the reconstruction's share is not negligible.
  EXPECT_GT((0.5 * var * (W.pow(2) / var_x.view({D, 1})).sum(0))
                .abs()
                .min()
                .item<double>(),
            0.1);
}

// The errors an error-encoding model reads are eq. 11-12 computed from the
// ELBO's own samples, and they reproduce eq. 9's gradient.
TEST_F(ElboTest, PredictionErrorsAreEquations11And12) {
  const int64_t B = 3, D = 5, Z = 2, S = 4;
  auto model = linear_gaussian(D, Z);
  auto x = torch::rand({B, D}, torch::kDouble);
  auto mu = torch::randn({B, Z}, torch::kDouble).requires_grad_();
  auto logvar = (0.3 * torch::randn({B, Z}, torch::kDouble)).requires_grad_();
  iai::model::PredictionErrors errors;
  torch::manual_seed(3);
  auto terms = iai::model::elbo(*model, x, mu, logvar, S, &errors);
  auto grad = torch::autograd::grad({terms.elbo.sum()}, {mu})[0];

  torch::manual_seed(3);
  auto z = iai::dist::rsample(mu.detach(), logvar.detach(), S);
  const auto& W = model->head->linear->weight;
  auto mu_x = (z.matmul(W.t()) + model->head->linear->bias).view({S, B, D});
  auto eps_x = ((x.unsqueeze(0) - mu_x) / model->output_logvar.exp()).mean(0);
  EXPECT_TRUE(torch::allclose(errors.error_x, eps_x, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(errors.error_z, mu.detach(), 1e-12, 1e-12));
  EXPECT_FALSE(errors.error_x.requires_grad());
  EXPECT_TRUE(torch::allclose(grad, errors.error_x.matmul(W) - errors.error_z,
                              1e-10, 1e-10));

  // Bernoulli output: the error is x - sigmoid(logits), sample-averaged.
  LatentGaussianModel bern(
      LatentGaussianModelOptions(D, Z).hidden(4).layers(1));
  bern->to(torch::kDouble);
  auto xb = torch::bernoulli(torch::full({B, D}, 0.5, torch::kDouble));
  torch::manual_seed(4);
  iai::model::elbo(*bern, xb, mu.detach(), logvar.detach(), S, &errors);
  torch::manual_seed(4);
  auto zb = iai::dist::rsample(mu.detach(), logvar.detach(), S);
  torch::NoGradGuard no_grad;
  auto want =
      (xb.unsqueeze(0) - torch::sigmoid(bern->decode(zb)).view({S, B, D}))
          .mean(0);
  EXPECT_TRUE(torch::allclose(errors.error_x, want, 1e-12, 1e-12));
}

TEST_F(ElboTest, PointEstimateIsTheMapObjective) {
  auto model = linear_gaussian(5, 2);
  auto x = torch::rand({3, 5}, torch::kDouble);
  auto mu = torch::randn({3, 2}, torch::kDouble);
  auto t = iai::model::elbo(*model, x, mu, {}, /*samples=*/7);
  torch::NoGradGuard no_grad;
  auto mean = model->decode(mu);
  auto want = iai::dist::log_prob(x, mean, model->output_logvar) +
              iai::dist::standard_normal_log_prob(mu);
  EXPECT_TRUE(torch::allclose(t.elbo, want, 1e-12, 1e-12));
}

TEST_F(ElboTest, TermsAddUpAndKlIsAnalytic) {
  auto model = linear_gaussian(5, 2);
  auto x = torch::rand({3, 5}, torch::kDouble);
  auto mu = torch::randn({3, 2}, torch::kDouble);
  auto logvar = torch::randn({3, 2}, torch::kDouble);
  auto t = iai::model::elbo(*model, x, mu, logvar, 4);
  EXPECT_EQ(t.elbo.sizes(), torch::IntArrayRef({3}));
  EXPECT_TRUE(torch::allclose(t.elbo, t.reconstruction - t.kl));
  EXPECT_TRUE(torch::allclose(
      t.kl, 0.5 * (mu * mu + logvar.exp() - logvar - 1).sum(1)));
}

}  // namespace
