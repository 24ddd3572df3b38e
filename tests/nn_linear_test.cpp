// nn::linear (nn/linear.h), the product of every Dense layer: its values
// and gradients against torch::linear's autograd, including a backward pass
// that builds a graph (double backward) and inputs of more than 2 dims.

#include "iai/nn/linear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

struct Grads {
  torch::Tensor y, dx, dw, db;
};

/// y and the gradients of sum(c * y) for x, W, b.
template <typename F>
Grads run(F f, const torch::Tensor& x0, const torch::Tensor& w0,
          const torch::Tensor& b0, const torch::Tensor& c) {
  auto x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
       b = b0.clone().requires_grad_(true);
  auto y = f(x, w, b);
  (y * c).sum().backward();
  return {y.detach(), x.grad(), w.grad(), b.grad()};
}

double rel(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

TEST(LinearTest, ValuesAndGradientsMatchTorchLinear) {
  torch::manual_seed(5);
  for (auto shape : std::vector<std::vector<int64_t>>{{64, 30}, {4, 16, 30}}) {
    SCOPED_TRACE(shape.size());
    auto x = torch::randn(shape), w = torch::randn({20, 30}),
         b = torch::randn({20});
    auto out_shape = shape;
    out_shape.back() = 20;
    auto c = torch::randn(out_shape);
    auto ours = run(iai::nn::linear, x, w, b, c);
    auto lib =
        run([](auto& x, auto& w, auto& b) { return torch::linear(x, w, b); }, x,
            w, b, c);
    EXPECT_EQ(ours.y.sizes(), lib.y.sizes());
    EXPECT_LT(rel(ours.y, lib.y), 1e-6);
    EXPECT_LT(rel(ours.dx, lib.dx), 1e-6);
    EXPECT_LT(rel(ours.dw, lib.dw), 1e-6);
    EXPECT_LT(rel(ours.db, lib.db), 1e-6);
  }
}

TEST(LinearTest, GradientOfAGradientMatchesTorchLinear) {
  // Unrolled inference differentiates the gradient of the ELBO with
  // respect to the latent input: d/dW of |dL/dx|^2.
  torch::manual_seed(6);
  auto x0 = torch::randn({8, 5}), w0 = torch::randn({7, 5}),
       b0 = torch::randn({7});
  auto second = [&](auto f) {
    auto x = x0.clone().requires_grad_(true),
         w = w0.clone().requires_grad_(true),
         b = b0.clone().requires_grad_(true);
    auto y = torch::tanh(f(x, w, b));
    auto dx = torch::autograd::grad({y.pow(2).sum()}, {x}, {}, true, true)[0];
    dx.pow(2).sum().backward();
    return std::make_pair(w.grad(), b.grad());
  };
  auto ours = second(iai::nn::linear);
  auto lib =
      second([](auto& x, auto& w, auto& b) { return torch::linear(x, w, b); });
  ASSERT_TRUE(ours.first.defined());
  EXPECT_LT(rel(ours.first, lib.first), 1e-5);
  EXPECT_LT(rel(ours.second, lib.second), 1e-5);
  // The fused ELU's slope from its output, differentiated again through it.
  auto ours_elu = second(iai::nn::linear_elu);
  auto lib_elu = second([](auto& x, auto& w, auto& b) {
    return torch::elu(torch::linear(x, w, b));
  });
  ASSERT_TRUE(ours_elu.first.defined());
  EXPECT_LT(rel(ours_elu.first, lib_elu.first), 1e-5);
  EXPECT_LT(rel(ours_elu.second, lib_elu.second), 1e-5);
}

TEST(LinearTest, WithoutABiasGradientsStillMatch) {
  torch::manual_seed(8);
  auto x0 = torch::randn({9, 4}), w0 = torch::randn({3, 4}),
       c = torch::randn({9, 3});
  auto grads = [&](auto f) {
    auto x = x0.clone().requires_grad_(true),
         w = w0.clone().requires_grad_(true);
    (f(x, w) * c).sum().backward();
    return std::make_pair(x.grad(), w.grad());
  };
  auto ours = grads([](auto& x, auto& w) { return iai::nn::linear(x, w, {}); });
  auto lib = grads([](auto& x, auto& w) { return torch::linear(x, w, {}); });
  EXPECT_LT(rel(ours.first, lib.first), 1e-6);
  EXPECT_LT(rel(ours.second, lib.second), 1e-6);
}

TEST(LinearTest, WithoutGradientsOrBiasAndInDouble) {
  torch::manual_seed(7);
  auto x = torch::randn({6, 4}), w = torch::randn({3, 4});
  {
    torch::NoGradGuard no_grad;
    EXPECT_LT(rel(iai::nn::linear(x, w, {}), torch::linear(x, w, {})), 1e-6);
  }
  auto xd = x.to(torch::kDouble), wd = w.to(torch::kDouble);
  EXPECT_TRUE(
      torch::equal(iai::nn::linear(xd, wd, {}), torch::linear(xd, wd, {})));
}

TEST(LinearTest, LinearEluIsEluOfLinearWithAndWithoutGradients) {
  torch::manual_seed(9);
  auto x = torch::randn({40, 4, 30}), w = torch::randn({20, 30}) / 4,
       b = torch::randn({20});
  auto direct = [](auto& x, auto& w, auto& b) {
    return torch::elu(torch::linear(x, w, b));
  };
  {
    // No gradient: the fused product (oneDNN's post-op) where there is one.
    torch::NoGradGuard no_grad;
    const auto ours = iai::nn::linear_elu(x, w, b);
    EXPECT_EQ(ours.sizes(), (std::vector<int64_t>{40, 4, 20}));
    EXPECT_LT((ours - direct(x, w, b)).abs().max().item<double>(), 1e-6);
  }
  // With gradients: ELU's backward from its input, as torch's.
  auto c = torch::randn({40, 4, 20});
  auto ours = run(iai::nn::linear_elu, x, w, b, c);
  auto lib = run(direct, x, w, b, c);
  EXPECT_LT(rel(ours.y, lib.y), 1e-6);
  EXPECT_LT(rel(ours.dx, lib.dx), 1e-5);
  EXPECT_LT(rel(ours.dw, lib.dw), 1e-5);
  EXPECT_LT(rel(ours.db, lib.db), 1e-5);
}

}  // namespace
