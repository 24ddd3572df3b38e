// The generative-model seam (model/generative_model.h): a model written
// here, not in model/, goes through the ELBO, importance-weighted log p(x),
// an optimiser as inference procedure, and the training step of standard
// and iterative inference models. The model is linear-Gaussian,
//   p(z) = N(0, I),  p(x | z) = N(W z + b, I),
// whose posterior and evidence are known in closed form:
//   p(x) = N(b, W W^T + I),  p(z | x) = N(A W^T (x - b), A),
//   A = (I + W^T W)^-1,
// so every number below is checked against the exact answer.
#include <torch/linalg.h>
#include <torch/optim/adam.h>

#include <cmath>

#include "iai/analysis/step_size_search.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/optimizer_inference.h"
#include "iai/inference/run_inference.h"
#include "iai/inference/standard_encoder.h"
#include "iai/model/elbo.h"
#include "iai/model/generative_model.h"
#include "iai/objectives/importance_weighted.h"
#include "iai/train/step/training_step.h"
#include "test_support.h"

namespace {

using GenerativeModelTest = iai::testing::Seeded;

/// A user's model: nothing from model/ but the interface.
class LinearGaussianImpl : public iai::model::GenerativeModelImpl {
 public:
  LinearGaussianImpl(int64_t d, int64_t z) : d_(d), z_(z) {
    w = register_parameter("w", torch::randn({d, z}, torch::kDouble));
    b = register_parameter("b", 0.5 * torch::randn({d}, torch::kDouble));
  }
  int64_t data_dim() const override { return d_; }
  std::vector<int64_t> latent_dims() const override { return {z_}; }
  iai::model::Likelihood likelihood() const override {
    return iai::model::Likelihood::kGaussian;
  }
  int64_t output_width() const override { return d_; }
  iai::model::GenerativePass generate(const torch::Tensor& z,
                                      bool with_output) override {
    iai::model::GenerativePass pass;
    if (with_output) pass.out = torch::addmm(b, z, w.t());
    return pass;
  }
  torch::Tensor output_log_prob(const torch::Tensor& x,
                                const torch::Tensor& out) override {
    return (-0.5 * (x - out).pow(2) - 0.5 * std::log(2 * M_PI)).sum(-1);
  }
  torch::Tensor output_error(const torch::Tensor& x,
                             const torch::Tensor& out) override {
    return x - out;  // (x - mu_x) / sigma_x^2 with sigma_x^2 = 1: eq. 11
  }
  torch::Tensor output_expectation(const torch::Tensor& out) override {
    return out;
  }

  /// log p(x) and the exact posterior N(m, A) (diagonal of A as logvar
  /// only where A is diagonal; here used for log p(x) and the mean).
  torch::Tensor exact_log_px(const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    auto cov = torch::eye(d_, torch::kDouble) + w.matmul(w.t());
    auto r = x - b;
    auto quad = (r * torch::linalg::solve(cov, r.t(), true).t()).sum(1);
    return -0.5 * (quad + std::get<1>(torch::linalg::slogdet(cov)) +
                   d_ * std::log(2 * M_PI));
  }
  torch::Tensor posterior_mean(const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    auto a =
        torch::linalg::inv(torch::eye(z_, torch::kDouble) + w.t().matmul(w));
    return (x - b).matmul(w).matmul(a);  // rows of A W^T (x - b)
  }

  torch::Tensor w, b;

 private:
  int64_t d_, z_;
};

/// W with orthogonal columns makes W^T W, and so the posterior covariance,
/// diagonal: a Gaussian q with diagonal covariance can then be exact.
std::shared_ptr<LinearGaussianImpl> model_with_diagonal_posterior() {
  auto m = std::make_shared<LinearGaussianImpl>(6, 2);
  torch::NoGradGuard no_grad;
  auto q = std::get<0>(torch::linalg::qr(torch::randn({6, 2}, torch::kDouble)));
  m->w.copy_(
      q * torch::tensor({2.0, 0.5}, torch::kDouble));  // W^T W = diag(4, 0.25)
  return m;
}

TEST_F(GenerativeModelTest,
       AtTheExactPosteriorTheElboAndImportanceWeightsGiveLogPx) {
  auto model = model_with_diagonal_posterior();
  auto x = torch::randn({5, 6}, torch::kDouble);
  auto mu = model->posterior_mean(x);
  // A = diag(1 / (1 + 4), 1 / (1 + 0.25)).
  auto logvar =
      torch::log(torch::tensor({{0.2, 0.8}}, torch::kDouble)).expand({5, 2});
  const auto exact = model->exact_log_px(x);
  // log p(x, z) - log q(z) = log p(x) for every z when q is the posterior:
  // exact for importance weights; for the ELBO, whose KL is analytic and
  // reconstruction sampled, in expectation.
  auto terms = iai::model::elbo(*model, x, mu, logvar, /*samples=*/20000);
  EXPECT_TRUE(torch::allclose(terms.elbo, exact, 0, 0.03))
      << terms.elbo << exact;
  auto log_px = iai::objectives::importance_weighted_log_px(
      *model, x, {mu, logvar}, 50, 16);
  EXPECT_TRUE(torch::allclose(log_px, exact, 1e-9, 1e-9)) << log_px << exact;
  // Away from it the ELBO is below log p(x).
  auto off = iai::model::elbo(*model, x, mu + 0.5, logvar, 200);
  EXPECT_TRUE((off.elbo < exact - 0.1).all().item<bool>());
}

TEST_F(GenerativeModelTest, AnOptimiserAsInferenceProcedureFindsThePosterior) {
  auto model = model_with_diagonal_posterior();
  auto x = torch::randn({4, 6}, torch::kDouble);
  iai::inference::OptimizerInferenceImpl adam(
      iai::inference::OptimizerOptions(iai::inference::OptimizerKind::kAdam)
          .lr(0.05));
  adam.to(torch::kDouble);
  auto steps = iai::inference::run_inference(*model, adam, x, 400, 20, 4);
  const auto& q = steps.back().posterior;
  EXPECT_TRUE(torch::allclose(q.mu, model->posterior_mean(x), 0.05, 0.05))
      << q.mu << model->posterior_mean(x);
  auto gap =
      (model->exact_log_px(x) - steps.back().terms.elbo).mean().item<double>();
  EXPECT_LT(gap, 0.1);
  EXPECT_GT(gap, -0.1);
}

// The step-size search (analysis/step_size_search.h) picks the step that
// ends highest and marks a diverging one NaN. SGD on this model's ELBO
// (per-example gradients) contracts mu's error by |1 - lr (1 + W^T W)|, with
// W^T W = diag(4, 0.25): 0.3 converges within 10 steps, 0.03 and 1e-3 lag,
// and 1e30 blows up past double's range.
TEST_F(GenerativeModelTest, StepSizeSearchPicksTheStepThatEndsHighest) {
  auto model = model_with_diagonal_posterior();
  const int64_t batch = 8;
  auto x = torch::randn({batch, 6}, torch::kDouble);
  auto sgd = [&](double step) -> iai::inference::InferenceProcedure {
    auto p = std::make_shared<iai::inference::OptimizerInferenceImpl>(
        iai::inference::OptimizerOptions(iai::inference::OptimizerKind::kSgd)
            .lr(step)
            .gradient_scale(static_cast<double>(batch)));
    p->to(torch::kDouble);
    return p;
  };
  const std::vector<double> grid = {1e-3, 0.03, 0.3, 1e30};
  auto search = iai::analysis::search_step_size(*model, sgd, x, grid,
                                                /*iterations=*/10,
                                                /*samples=*/2000, batch);
  EXPECT_EQ(search.best, 0.3);
  ASSERT_EQ(search.scores.size(), grid.size());
  for (size_t i = 0; i < grid.size(); ++i)
    EXPECT_EQ(search.scores[i].first, grid[i]);
  EXPECT_LT(search.scores[0].second, search.scores[1].second - 0.1);
  EXPECT_LT(search.scores[1].second, search.scores[2].second - 0.05);
  EXPECT_TRUE(std::isnan(search.scores[3].second)) << search.scores[3].second;
  // At its best step the search ends near log p(x).
  const double log_px = model->exact_log_px(x).mean().item<double>();
  EXPECT_NEAR(search.scores[2].second, log_px, 0.1);
  // Every candidate diverging: the grid's first, all NaN.
  auto lost = iai::analysis::search_step_size(*model, sgd, x, {1e30, 1e31}, 10,
                                              10, batch);
  EXPECT_EQ(lost.best, 1e30);
  EXPECT_TRUE(std::isnan(lost.scores[0].second));
  EXPECT_TRUE(std::isnan(lost.scores[1].second));
}

TEST_F(GenerativeModelTest, StandardAndIterativeInferenceModelsTrainOnIt) {
  for (const bool iterative : {false, true}) {
    auto model = std::make_shared<LinearGaussianImpl>(6, 2);
    auto x = torch::randn({32, 6}, torch::kDouble) * 2;
    auto options = iai::inference::EncoderOptions(6, 2).hidden(16).layers(1);
    iai::inference::InferenceProcedure procedure;
    if (iterative) {
      procedure =
          std::make_shared<iai::inference::IterativeEncoderImpl>(options);
    } else {
      procedure =
          std::make_shared<iai::inference::StandardEncoderImpl>(options);
    }
    procedure->to(torch::kDouble);
    const int64_t t = iterative ? 4 : 1;
    auto gap_after = [&] {
      auto steps =
          iai::inference::run_inference(*model, *procedure, x, t, 100, 32);
      return (model->exact_log_px(x) - steps.back().terms.elbo)
          .mean()
          .item<double>();
    };
    const double before = gap_after();
    torch::optim::Adam theta(model->parameters(), 1e-2),
        phi(procedure->parameters(), 1e-2);
    for (int step = 0; step < 300; ++step) {
      theta.zero_grad();
      phi.zero_grad();
      iai::train::accumulate_gradients(*model, *procedure, x, t, 4);
      theta.step();
      phi.step();
    }
    // The inference model learns this model's posterior: log p(x) - ELBO
    // (the KL from q to the exact posterior) shrinks to a fraction of a nat.
    const double after = gap_after();
    EXPECT_LT(after, 0.5) << (iterative ? "iterative" : "standard") << ": "
                          << before << " -> " << after;
    EXPECT_LT(after, before / 4);
  }
}

}  // namespace
