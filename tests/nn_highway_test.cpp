// nn::highway (nn/highway.h): each instruction-set variant of the row
// kernels against the formula in double, and the autograd function's values
// and gradients (first and second order) against the formula in LibTorch
// ops, with the carry as the layer's input and as y's third block.

#include "iai/cpu/own_kernels.h"
#include "iai/nn/highway.h"
#include "iai/nn/highway_rows.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace {

torch::Tensor formula(const torch::Tensor& y, const torch::Tensor& carry) {
  const auto parts = y.chunk(carry.defined() ? 2 : 3, -1);
  const auto g = torch::sigmoid(parts[1]);
  const auto& c = carry.defined() ? carry : parts[2];
  return g * c + (1 - g) * torch::elu(parts[0]);
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

TEST(HighwayTest, EveryVariantMatchesTheFormulaInDouble) {
  // a over ELU's two branches and its series/exp switch; s out to where
  // the gate saturates, both signs.
  const int64_t n = 1003;
  std::vector<float> a(n), s(n), c(n), dh(n), h(n), da(n), ds(n), dc(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = -20.0f + 25.0f * float(i) / float(n);
    s[i] = 30.0f * std::sin(0.37f * float(i));
    c[i] = std::cos(0.11f * float(i));
    dh[i] = 1.0f + 0.5f * std::sin(0.05f * float(i));
  }
  const auto& kernels = iai::nn::highway_row_kernels();
  EXPECT_STREQ(kernels.back().isa, "baseline");
  for (const auto& k : kernels) {
    SCOPED_TRACE(k.isa);
    k.forward(a.data(), s.data(), c.data(), h.data(), n);
    k.backward(dh.data(), a.data(), s.data(), c.data(), da.data(), ds.data(),
               dc.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      // 1 - g from exp(s), not by subtraction: near saturation that would
      // leave the reference with less precision than the kernel.
      const double av = a[i], g = 1 / (1 + std::exp(-double(s[i]))),
                   one_minus_g = 1 / (1 + std::exp(double(s[i])));
      const double e = av > 0 ? av : std::expm1(av);
      const double slope = av > 0 ? 1 : std::exp(av);
      const double exact = g * c[i] + one_minus_g * e;
      ASSERT_NEAR(
          h[i], exact,
          5e-7 * (std::abs(g * c[i]) + std::abs(one_minus_g * e)) + 1e-30)
          << "i = " << i;
      ASSERT_NEAR(da[i], dh[i] * one_minus_g * slope,
                  5e-7 * std::abs(dh[i] * one_minus_g * slope) + 1e-30)
          << "i = " << i;
      const double ds_exact = dh[i] * (c[i] - e) * g * one_minus_g;
      ASSERT_NEAR(ds[i], ds_exact,
                  5e-7 * std::abs(dh[i] * g * one_minus_g) *
                          (std::abs(c[i]) + std::abs(e)) +
                      1e-30)
          << "i = " << i;
      ASSERT_NEAR(dc[i], dh[i] * g, 5e-7 * std::abs(dh[i] * g) + 1e-30)
          << "i = " << i;
    }
  }
}

struct Result {
  torch::Tensor h, dy, dcarry;
};

template <typename F>
Result run(F f, const torch::Tensor& y0, const torch::Tensor& carry0,
           const torch::Tensor& weight) {
  auto y = y0.clone().requires_grad_(true);
  auto carry = carry0.defined() ? carry0.clone().requires_grad_(true) : carry0;
  auto h = f(y, carry);
  (h * weight).sum().backward();
  return {h.detach(), y.grad(),
          carry.defined() ? carry.grad() : torch::Tensor()};
}

// Both paths of the autograd function: the row kernels (float32 CPU) and
// LibTorch's operators (a GPU; here IAI_KERNELS=libtorch, and float64).
TEST(HighwayTest, ValuesAndGradientsMatchTheFormula) {
  for (bool own : {true, false})
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
  iai::cpu::OwnKernelsOverride kernels(own);
  torch::manual_seed(11);
  for (bool with_carry : {true, false}) {
    for (auto rows : std::vector<std::vector<int64_t>>{{64}, {3, 7}}) {
      SCOPED_TRACE(std::string(with_carry ? "carry" : "third block") + ", " +
                   std::to_string(rows.size()) + " row dims");
      const int64_t h = 24, parts = with_carry ? 2 : 3;
      auto ysize = rows, hsize = rows;
      ysize.push_back(parts * h);
      hsize.push_back(h);
      SCOPED_TRACE(std::string(own ? "own kernels" : "LibTorch's operators") +
                   (dtype == torch::kFloat ? ", float" : ", double"));
      auto y = 3 * torch::randn(ysize, dtype);
      auto carry = with_carry ? torch::randn(hsize, dtype) : torch::Tensor();
      auto weight = torch::randn(hsize, dtype);
      auto ours = run(iai::nn::highway, y, carry, weight);
      auto lib = run(formula, y, carry, weight);
      EXPECT_EQ(ours.h.sizes(), lib.h.sizes());
      EXPECT_LT(rel(ours.h, lib.h), 1e-6);
      EXPECT_LT(rel(ours.dy, lib.dy), 1e-6);
      if (with_carry) EXPECT_LT(rel(ours.dcarry, lib.dcarry), 1e-6);
    }
  }
  }
}

TEST(HighwayTest, GradientOfAGradientMatchesTheFormula) {
  torch::manual_seed(12);
  auto y0 = torch::randn({5, 12}), c0 = torch::randn({5, 6});
  auto second = [&](auto f) {
    auto y = y0.clone().requires_grad_(true),
         c = c0.clone().requires_grad_(true);
    auto h = f(y, c);
    auto dc = torch::autograd::grad({h.pow(2).sum()}, {c}, {}, true, true)[0];
    dc.pow(2).sum().backward();
    return y.grad();
  };
  auto ours = second(iai::nn::highway);
  auto lib = second(formula);
  ASSERT_TRUE(ours.defined());
  EXPECT_LT(rel(ours, lib), 1e-5);
}

}  // namespace
