// ELU's own loops (nn/elu.cpp, nn/elu_rows.cpp) against the formula in
// double and against LibTorch's ELU: values, gradients, a highway layer's
// strided column block, and the second derivative unrolled training takes.

#include <cmath>
#include <limits>
#include <vector>

#include "iai/nn/elu.h"
#include "iai/nn/elu_rows.h"
#include "test_support.h"

namespace {

using EluTest = iai::testing::Seeded;

TEST_F(EluTest, EveryVariantMatchesTheFormulaInDouble) {
  // -90 .. 10 in uneven steps, near 0 densely (where expm1 must not cancel).
  std::vector<float> x;
  for (int i = -2000; i <= 400; ++i) x.push_back(i * 0.025f);
  for (int i = -300; i <= 300; ++i) x.push_back(i * 1e-6f);
  x.push_back(-0.5f);
  x.push_back(std::nextafter(-0.5f, 0.0f));
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<float> y(n), g(n), dx(n), dx_from_y(n);
  for (int64_t i = 0; i < n; ++i)
    g[i] = 0.5f + 0.001f * static_cast<float>(i % 7);
  const auto& kernels = iai::nn::elu_row_kernels();
  EXPECT_STREQ(kernels.back().isa, "baseline");
  for (const auto& k : kernels) {
    SCOPED_TRACE(k.isa);
    k.forward(x.data(), y.data(), n);
    k.backward(g.data(), x.data(), dx.data(), n);
    k.backward_from_output(g.data(), y.data(), dx_from_y.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[i];
      const double exact = v > 0 ? v : std::expm1(v);
      ASSERT_NEAR(y[i], exact, 2.5e-7 * std::abs(exact) + 1e-30) << "x = " << v;
      const double slope = v > 0 ? 1.0 : std::exp(v);
      ASSERT_NEAR(dx[i], g[i] * slope, 3e-7 * std::abs(g[i] * slope) + 1e-30)
          << "x = " << v;
      // From y: the slope y + 1 carries y's rounding, 6e-8 absolute.
      ASSERT_NEAR(dx_from_y[i], g[i] * slope,
                  3e-7 * std::abs(g[i] * slope) + 6e-8 * g[i])
          << "x = " << v;
    }
    float nan = std::numeric_limits<float>::quiet_NaN(), out = 0;
    k.forward(&nan, &out, 1);
    EXPECT_TRUE(std::isnan(out));
  }
}

TEST_F(EluTest, MatchesLibTorchOnAHighwayColumnBlock) {
  // A highway layer applies ELU to the first third of its fused output: a
  // strided view, whose gradient must land in that third only.
  auto fused = (torch::randn({64, 3 * 40}) * 3).requires_grad_(true);
  auto part = fused.chunk(3, 1)[0];
  ASSERT_FALSE(part.is_contiguous());
  auto seed = torch::randn({64, 40});
  auto ours = iai::nn::elu(part);
  auto g = torch::autograd::grad({ours}, {fused}, {seed})[0];
  auto ref_in = fused.detach().clone().requires_grad_(true);
  auto theirs = torch::elu(ref_in.chunk(3, 1)[0]);
  auto g_ref = torch::autograd::grad({theirs}, {ref_in}, {seed})[0];
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(g, g_ref, 1e-6, 1e-7));
  EXPECT_EQ(g.narrow(1, 40, 80).abs().max().item<float>(), 0.0f);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(iai::nn::elu(part), ours.detach()));
}

TEST_F(EluTest, GradientIsDifferentiable) {
  // d2/dx2 ELU = 0 for x > 0, exp(x) otherwise.
  auto x = torch::randn({5, 9}).requires_grad_(true);
  auto g =
      torch::autograd::grad({iai::nn::elu(x).sum()}, {x}, {}, true, true)[0];
  auto h = torch::autograd::grad({g.sum()}, {x})[0];
  auto xd = x.detach();
  auto expected = torch::where(xd > 0, torch::zeros_like(xd), torch::exp(xd));
  EXPECT_TRUE(torch::allclose(h, expected, 1e-6, 1e-7)) << h;
}

// The slope from ELU's output, in place: one pass of the row loops on
// contiguous CPU tensors, LibTorch's operators anywhere else (a GPU, here a
// transposed view). Both are g * (1 where x > 0, else exp(x)).
TEST_F(EluTest, SlopeFromOutputIsTheSameInEitherPath) {
  const auto x = torch::randn({6, 40}) * 3;
  const auto y = iai::nn::elu(x);
  const auto g = torch::randn({6, 40});
  auto fused = g.clone();
  iai::nn::elu_backward_from_output_(fused, y);
  // The same values laid out transposed: not the row loops' layout.
  const auto y_view = y.t().contiguous().t();
  ASSERT_FALSE(y_view.is_contiguous());
  auto generic = g.clone();
  iai::nn::elu_backward_from_output_(generic, y_view);
  EXPECT_TRUE(torch::equal(generic, fused));
  const auto expected =
      g * torch::where(x > 0, torch::ones_like(x), torch::exp(x));
  EXPECT_TRUE(torch::allclose(generic, expected, 1e-5, 1e-7));
  EXPECT_GT((x <= 0).sum().item<int64_t>(), 50);  // both sides of 0 met
}

}  // namespace
