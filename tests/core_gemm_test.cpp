// cpu/gemm.h: float32 products (oneDNN where built with it) against the
// same products in double, over the operand layouts the networks hand it:
// row-major, transposed views, column slices, odd strides that need a copy,
// single rows and columns; and where it must leave the work to LibTorch.

#include "iai/cpu/gemm.h"
#include "iai/cpu/product_clock.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <algorithm>
#include <chrono>

namespace {

/// max |c - exact| / max |exact|, exact = a b (+ bias) in double.
double relative_error(const torch::Tensor& c, const torch::Tensor& a,
                      const torch::Tensor& b, const torch::Tensor& bias = {}) {
  auto exact = torch::mm(a.to(torch::kDouble), b.to(torch::kDouble));
  if (bias.defined()) exact = exact + bias.to(torch::kDouble);
  return (c.to(torch::kDouble) - exact).abs().max().item<double>() /
         exact.abs().max().item<double>();
}

struct Layout {
  const char* name;
  torch::Tensor a, b;
};

std::vector<Layout> layouts() {
  torch::manual_seed(3);
  const int64_t m = 37, k = 70, n = 23;
  auto wide = torch::randn({m, 2 * k});
  auto strided = torch::randn({m, 2 * k});
  return {
      {"row-major", torch::randn({m, k}), torch::randn({k, n})},
      {"a transposed", torch::randn({k, m}).t(), torch::randn({k, n})},
      {"b transposed (x W^T)", torch::randn({m, k}), torch::randn({n, k}).t()},
      {"both transposed (g^T x)", torch::randn({k, m}).t(),
       torch::randn({n, k}).t()},
      {"a a column slice", wide.narrow(1, 5, k), torch::randn({k, n})},
      {"a every other column (copied)", strided.slice(1, 0, 2 * k, 2),
       torch::randn({k, n})},
      {"one row", torch::randn({1, k}), torch::randn({k, n})},
      {"one column", torch::randn({m, k}), torch::randn({k, 1})},
      {"depth one", torch::randn({m, 1}), torch::randn({1, n})},
  };
}

TEST(GemmTest, ProductsMatchDoubleInEveryLayout) {
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (const auto& l : layouts()) {
      SCOPED_TRACE(std::string(l.name) + ", threads " +
                   std::to_string(threads));
      const auto c = iai::gemm::mm(l.a, l.b);
      ASSERT_EQ(c.sizes(), (std::vector<int64_t>{l.a.size(0), l.b.size(1)}));
      EXPECT_LT(relative_error(c, l.a, l.b), 2e-6);
      const auto bias = torch::randn({l.b.size(1)});
      EXPECT_LT(
          relative_error(iai::gemm::addmm(bias, l.a, l.b), l.a, l.b, bias),
          2e-6);
      // A wrong stride or a stale cached primitive would be far off.
      EXPECT_TRUE(c.is_contiguous());
    }
  }
  at::set_num_threads(1);
}

TEST(GemmTest, RepeatedShapesReuseTheirPrimitiveOnNewData) {
  // The cache is keyed by shape and strides, not by pointer: new operands
  // of a seen shape must give their own product.
  for (int i = 0; i < 3; ++i) {
    auto a = torch::randn({64, 48}), b = torch::randn({48, 32});
    EXPECT_LT(relative_error(iai::gemm::mm(a, b), a, b), 2e-6) << "round " << i;
  }
}

TEST(GemmTest, FrozenWeightsArePackedOnceAndFollowTheirChanges) {
  // A layer's W^T, its W and a column block of W^T, used again and again
  // under a scope: each product right, the packed copy made at the second
  // use and made again when the weight changes in place; a product whose b
  // no scope holds is plain.
  torch::manual_seed(4);
  auto w = torch::randn({96, 160});
  auto other = torch::randn({160, 96});
  const auto block = [&] { return w.narrow(1, 64, 96).t(); };  // [96, 96]
  const bool packs =  // oneDNN's blocked kernels (brgemm) take packed b
      iai::gemm::uses_onednn() &&
      iai::gemm::backend().find("brg") != std::string::npos;
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    SCOPED_TRACE("threads " + std::to_string(threads));
    iai::gemm::FrozenWeights frozen({w});
    int64_t uses = 0;
    for (int round = 0; round < 3; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      if (round == 2) w.mul_(-0.5);  // in place: the version moves
      for (int use = 0; use < 3; ++use) {
        auto x = torch::randn({64, 160});
        auto g = torch::randn({640, 96});
        auto xb = torch::randn({64, 96});
        const auto bias = torch::randn({96});
        EXPECT_LT(
            relative_error(iai::gemm::addmm(bias, x, w.t()), x, w.t(), bias),
            2e-6);
        EXPECT_LT(relative_error(iai::gemm::mm(g, w), g, w), 2e-6);
        EXPECT_LT(relative_error(iai::gemm::mm(xb, block()), xb, block()),
                  2e-6);
        EXPECT_LT(relative_error(iai::gemm::mm(x, other), x, other), 2e-6);
        uses += 3;
      }
    }
    // In each version's first round, each operand's first use is plain.
    if (packs) EXPECT_EQ(frozen.packed_products(), uses - 2 * 3);
    {
      iai::gemm::FrozenWeights inner({other});  // nested: w still counts
      auto x = torch::randn({64, 160});
      for (int use = 0; use < 2; ++use) {
        EXPECT_LT(relative_error(iai::gemm::mm(x, other), x, other), 2e-6);
        EXPECT_LT(relative_error(iai::gemm::mm(x, w.t()), x, w.t()), 2e-6);
      }
      if (packs) EXPECT_EQ(inner.packed_products(), 1);
    }
    // w's copy, the outer scope's, was used on under the inner one.
    if (packs) EXPECT_EQ(frozen.packed_products(), uses - 2 * 3 + 2);
  }
  at::set_num_threads(1);
}

TEST(GemmTest, WhatOneDnnDoesNotTakeIsLibTorchs) {
  auto a = torch::randn({5, 4}, torch::kDouble),
       b = torch::randn({4, 3}, torch::kDouble);
  EXPECT_TRUE(torch::equal(iai::gemm::mm(a, b), torch::mm(a, b)));  // double
  auto e = iai::gemm::mm(torch::randn({0, 4}), torch::randn({4, 3}));
  EXPECT_EQ(e.sizes(), (std::vector<int64_t>{0, 3}));  // empty
  auto z = iai::gemm::mm(torch::randn({2, 0}), torch::randn({0, 3}));
  EXPECT_EQ(z.abs().sum().item<float>(), 0.0f);  // depth zero: zeros
  // Under grad mode an operand that requires a gradient gets a
  // differentiable product.
  auto x = torch::randn({3, 4}).requires_grad_(true);
  auto y = iai::gemm::mm(x, torch::randn({4, 2}));
  ASSERT_TRUE(y.requires_grad());
  y.sum().backward();
  EXPECT_TRUE(x.grad().defined());
}

TEST(GemmTest, AddmmEluIsEluOfTheProductOrLeftToTheCaller) {
  // ELU(bias + a b) with the activation in oneDNN's post-op, against the
  // product and ELU in double: oneDNN's exp(v) - 1 (not expm1) stays within
  // 1e-6 absolute of it. Without oneDNN, or where a gradient is needed, it
  // is undefined: the caller applies its own ELU.
  torch::manual_seed(11);
  for (const auto& l : layouts()) {
    SCOPED_TRACE(l.name);
    const auto bias = torch::randn({l.b.size(1)});
    torch::Tensor c;
    {
      torch::NoGradGuard no_grad;
      c = iai::gemm::addmm_elu(bias, l.a, l.b);
    }
    if (!iai::gemm::uses_onednn()) {
      EXPECT_FALSE(c.defined());
      continue;
    }
    ASSERT_TRUE(c.defined());
    const auto v = torch::addmm(bias.to(torch::kDouble), l.a.to(torch::kDouble),
                                l.b.to(torch::kDouble));
    const auto exact = torch::where(v > 0, v, torch::expm1(v));
    const double scale = std::max(1.0, v.abs().max().item<double>());
    EXPECT_LT((c.to(torch::kDouble) - exact).abs().max().item<double>(),
              1e-6 * scale);
    EXPECT_GT((exact < 0).sum().item<int64_t>(), 0);  // the ELU branch ran
  }
  auto a = torch::randn({8, 5}).requires_grad_(true);
  EXPECT_FALSE(iai::gemm::addmm_elu({}, a, torch::randn({5, 3})).defined());
}

TEST(GemmTest, AProductClockCountsTheProductsOfItsThreadWhileItLives) {
  const auto a = torch::randn({64, 512}), w = torch::randn({256, 512});
  const auto bias = torch::randn({256});
  iai::gemm::mm(a, w.t());  // before any clock: counted nowhere
  iai::gemm::ProductClock outer;
  iai::gemm::mm(a, w.t());
  iai::gemm::addmm(bias, a, w.t());
  iai::gemm::mm_into(torch::empty({64, 256}), a, w.t());
  {
    iai::gemm::ProductClock inner;  // the innermost takes them alone
    iai::gemm::mm(a, w.t());
    const auto y = iai::gemm::addmm_elu(bias, a, w.t());
    EXPECT_EQ(inner.products(), y.defined() ? 2 : 1);
    EXPECT_GT(inner.seconds(), 0.0);
  }
  EXPECT_EQ(outer.products(), 3);
  // Each product's time lies within the clock's life.
  const auto start = std::chrono::steady_clock::now();
  {
    iai::gemm::ProductClock clock;
    for (int i = 0; i < 20; ++i) iai::gemm::mm(a, w.t());
    EXPECT_EQ(clock.products(), 20);
    EXPECT_GT(clock.seconds(), 0.0);
    EXPECT_LE(clock.seconds(), std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
  }
  EXPECT_EQ(iai::gemm::ProductClock::running(), &outer);
  EXPECT_EQ(outer.products(), 3);
}

TEST(GemmTest, BackendNamesWhatRuns) {
  const std::string backend = iai::gemm::backend();
  if (iai::gemm::uses_onednn()) {
    EXPECT_EQ(backend.rfind("onednn (", 0), 0u) << backend;
    EXPECT_EQ(backend.find("no matmul"), std::string::npos) << backend;
  } else {
    EXPECT_EQ(backend.rfind("blas (", 0), 0u) << backend;
  }
}

}  // namespace
