// The ELBO surface of Figures 1 and 3 against a closed form: for a linear
// decoder with Gaussian output, L(mu) = log N(x; W mu + b, diag sigma_x^2) +
// log N(mu; 0, I) can be written by hand. The MAP search must land on the
// grid's maximum, and a non-2-D model is refused.

#include <cmath>

#include "iai/analysis/elbo_surface.h"
#include "iai/model/latent_gaussian_model.h"
#include "test_support.h"

namespace {

using iai::analysis::SurfaceBounds;
using iai::model::LatentGaussianModel;
using iai::model::LatentGaussianModelOptions;
using iai::model::Likelihood;
using SurfaceTest = iai::testing::Seeded;

constexpr double kLog2Pi = 1.8378770664093453;

using iai::testing::linear_gaussian;

/// log N(x; W mu + b, diag exp(logvar_x)) + log N(mu; 0, I), by hand.
double closed_form(LatentGaussianModel& m, const torch::Tensor& x, double mu1,
                   double mu2) {
  const auto& W = m->head->linear->weight;  // (D,2)
  const auto& b = m->head->linear->bias;
  auto mu = torch::tensor({mu1, mu2}, torch::kDouble);
  auto mean = W.matmul(mu) + b;
  auto var = m->output_logvar.exp();
  const double log_lik =
      (-0.5 * (kLog2Pi + m->output_logvar + (x - mean).pow(2) / var))
          .sum()
          .item<double>();
  const double log_prior = -kLog2Pi - 0.5 * (mu1 * mu1 + mu2 * mu2);
  return log_lik + log_prior;
}

TEST_F(SurfaceTest, GridMatchesTheLinearGaussianClosedForm) {
  const int64_t D = 5, points = 11;
  auto model = linear_gaussian(D, 2);
  auto x = torch::rand({D}, torch::kDouble);
  const SurfaceBounds bounds{-2.0, 3.0, -1.0, 1.5};
  auto grid = iai::analysis::elbo_surface(*model, x, bounds, points);
  ASSERT_EQ(grid.sizes(), (std::vector<int64_t>{points, points}));
  const auto a1 =
      iai::analysis::grid_axis(bounds.mu1_min, bounds.mu1_max, points);
  const auto a2 =
      iai::analysis::grid_axis(bounds.mu2_min, bounds.mu2_max, points);
  EXPECT_DOUBLE_EQ(a1.front(), -2.0);
  EXPECT_DOUBLE_EQ(a1.back(), 3.0);
  // Corners, an edge and an interior point: row j is mu_2, column i mu_1.
  for (auto [i, j] : std::vector<std::pair<int, int>>{
           {0, 0}, {10, 0}, {0, 10}, {10, 10}, {3, 7}, {6, 2}}) {
    EXPECT_NEAR(grid[j][i].item<double>(), closed_form(model, x, a1[i], a2[j]),
                1e-9)
        << "at mu = (" << a1[i] << ", " << a2[j] << ")";
  }
  // The surface is not flat: the check compares real differences.
  EXPECT_GT((grid.max() - grid.min()).item<double>(), 1.0);
}

TEST_F(SurfaceTest, MapFromLongAscentSitsAtTheGridMaximum) {
  const int64_t D = 8, points = 81;
  auto model = linear_gaussian(D, 2);
  torch::Tensor x;
  {
    // Data explained best by mu = (1.2, -0.8), with a likelihood sharp
    // enough that the prior only pulls the MAP a little towards 0.
    torch::NoGradGuard no_grad;
    model->output_logvar.fill_(std::log(0.1));
    const auto& W = model->head->linear->weight;
    x = W.matmul(torch::tensor({1.2, -0.8}, torch::kDouble)) +
        model->head->linear->bias;
  }
  const SurfaceBounds bounds{-3.0, 3.0, -3.0, 3.0};
  auto grid = iai::analysis::elbo_surface(*model, x, bounds, points);
  const auto flat = grid.argmax().item<int64_t>();
  const auto a = iai::analysis::grid_axis(-3.0, 3.0, points);
  const double cell = a[1] - a[0];
  const double g1 = a[flat % points], g2 = a[flat / points];

  auto map = iai::analysis::find_map(*model, x, torch::zeros({2}), 2000, 0.05);
  EXPECT_LE(std::abs(map.mu1 - g1), cell) << map.mu1 << " vs grid " << g1;
  EXPECT_LE(std::abs(map.mu2 - g2), cell) << map.mu2 << " vs grid " << g2;
  EXPECT_GE(map.value, grid.max().item<double>() - 1e-9);
  EXPECT_NEAR(map.value, closed_form(model, x, map.mu1, map.mu2), 1e-9);
  EXPECT_GT(std::hypot(map.mu1, map.mu2), 5 * cell);  // not the start point

  // Plain gradient ascent climbs monotonically with a small enough step.
  const double step =
      iai::analysis::tune_ascent_step(*model, x, torch::zeros({2}), 50);
  auto path =
      iai::analysis::gradient_ascent(*model, x, torch::zeros({2}), 50, step);
  ASSERT_EQ(path.value.size(), 51u);
  EXPECT_EQ(path.mu1.front(), 0.0);
  EXPECT_GT(path.value.back(), path.value.front());
  EXPECT_LE(path.value.back(), map.value + 1e-9);
}

TEST_F(SurfaceTest, NonTwoDimensionalModelIsRefused) {
  auto model = linear_gaussian(4, 3);
  auto message = iai::testing::error_of([&] {
    iai::analysis::elbo_surface(*model, torch::rand({4}), SurfaceBounds{}, 5);
  });
  EXPECT_TRUE(iai::testing::contains(message, "2-D latent space"));
  EXPECT_TRUE(iai::testing::contains(message, "3 latent dimensions"));
}

}  // namespace
