// cpu/magnitude.h and cpu/known_finite.h: the one-pass finiteness and
// largest |x| of a float array, the bound that proves a product's result
// finite from its factors, and the producers (model::elbo_gradient,
// DeferredWeightGradients::flush) noting only gradients that it proves.

#include "iai/cpu/known_finite.h"
#include "iai/cpu/magnitude.h"
#include "iai/model/elbo_gradient.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/nn/deferred_weight_gradients.h"
#include "iai/nn/dense.h"
#include "test_support.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cmath>
#include <limits>

namespace {

using iai::cpu::KnownFinite;
using iai::cpu::Magnitude;
using KnownFiniteTest = iai::testing::Seeded;

constexpr float kMax = std::numeric_limits<float>::max();

TEST_F(KnownFiniteTest, MagnitudeIsTheLargestAbsoluteValueOnAnyThread) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    // Several blocks of 32k floats, the largest in the first, a middle and
    // the last block, of either sign.
    for (int64_t at : {int64_t{0}, int64_t{70001}, int64_t{99999}}) {
      for (float largest : {-7.5f, 7.5f, kMax, -kMax}) {
        auto t = torch::rand({100000}) * 2 - 1;
        t[at] = largest;
        const Magnitude m = iai::cpu::magnitude(t);
        EXPECT_TRUE(m.finite);
        EXPECT_EQ(m.max_abs, std::fabs(largest)) << "at " << at;
      }
      for (float bad : {nan, inf, -inf}) {
        auto t = torch::rand({100000});
        t[at] = bad;
        EXPECT_FALSE(iai::cpu::magnitude(t).finite) << bad << " at " << at;
      }
    }
  }
  at::set_num_threads(1);
  // Subnormals and signed zeros order by magnitude too.
  auto small = torch::tensor({-0.0f, 1e-45f, -3e-44f, 0.0f});
  EXPECT_EQ(iai::cpu::magnitude(small).max_abs, 3e-44f);
  EXPECT_EQ(iai::cpu::magnitude(torch::zeros({5})).max_abs, 0.0f);
  // What it cannot read is never taken as finite.
  auto strided = torch::ones({4, 4}).t();
  EXPECT_FALSE(iai::cpu::magnitude(strided).finite);
  EXPECT_FALSE(iai::cpu::magnitude(torch::ones({4}, torch::kDouble)).finite);
  // The union of two.
  const Magnitude u = Magnitude{true, 2} | Magnitude{true, 3};
  EXPECT_TRUE(u.finite);
  EXPECT_EQ(u.max_abs, 3.0f);
  EXPECT_FALSE((Magnitude{true, 2} | Magnitude{false, 0}).finite);
}

TEST_F(KnownFiniteTest, TheBoundHoldsJustBelowHalfTheLargestFloat) {
  const float half = 0.5f * kMax;  // 1.7e38
  // 64 terms of a b: 64 * 1e18 * 2.6e18 = 1.66e38, just below; 2.7e18 is
  // 1.73e38, just above.
  EXPECT_TRUE(
      iai::cpu::sum_of_products_finite(64, {true, 1e18f}, {true, 2.6e18f}));
  EXPECT_FALSE(
      iai::cpu::sum_of_products_finite(64, {true, 1e18f}, {true, 2.7e18f}));
  // The number of terms counts: one term of the same factors is far below.
  EXPECT_TRUE(
      iai::cpu::sum_of_products_finite(1, {true, 1e18f}, {true, 2.7e18f}));
  // A factor that is not finite, or itself near the largest float, proves
  // nothing, whatever the other.
  EXPECT_FALSE(iai::cpu::sum_of_products_finite(1, {false, 1}, {true, 1}));
  EXPECT_FALSE(iai::cpu::sum_of_products_finite(1, {true, 1}, {false, 1}));
  EXPECT_FALSE(
      iai::cpu::sum_of_products_finite(1, {true, 0.9f * kMax}, {true, 1e-30f}));
  // A plain sum.
  EXPECT_TRUE(iai::cpu::sum_finite(64, {true, half / 65}));
  EXPECT_FALSE(iai::cpu::sum_finite(64, {true, half / 63}));
  EXPECT_FALSE(iai::cpu::sum_finite(1, {false, 0}));
}

TEST_F(KnownFiniteTest, ATensorWrittenAfterItsNoteIsNoLongerKnown) {
  EXPECT_EQ(KnownFinite::active(), nullptr);
  auto a = torch::ones({3}), b = torch::ones({3});
  {
    KnownFinite known;
    EXPECT_EQ(KnownFinite::active(), &known);
    known.note(a);
    EXPECT_TRUE(known.holds(a));
    EXPECT_FALSE(known.holds(b));
    EXPECT_FALSE(known.holds(torch::Tensor()));
    a.add_(1);  // written in place: its version moves on
    EXPECT_FALSE(known.holds(a));
    known.note(a);  // noted again as it is now
    EXPECT_TRUE(known.holds(a));
    a.narrow(0, 0, 1).fill_(std::nanf(""));  // through a view
    EXPECT_FALSE(known.holds(a));
    {
      KnownFinite inner;
      EXPECT_EQ(KnownFinite::active(), &inner);
    }
    EXPECT_EQ(KnownFinite::active(), &known);
  }
  EXPECT_EQ(KnownFinite::active(), nullptr);
}

/// The decoder's parameters' gradients by hand (model::elbo_gradient) at
/// the last iteration of a training step, with the decoder's first layer
/// scaled by `scale`.
std::vector<torch::Tensor> decoder_gradients(float scale) {
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(12, 3).hidden(16).layers(2));
  torch::manual_seed(3);
  auto x = torch::bernoulli(torch::full({5, 12}, 0.5));
  auto mu = torch::randn({5, 3}), logvar = torch::zeros({5, 3});
  auto params = model->parameters();
  {
    torch::NoGradGuard no_grad;
    params[0].mul_(scale);
  }
  EXPECT_TRUE(iai::model::has_elbo_gradient(*model, x, mu, logvar));
  iai::model::elbo_gradient(*model, x, mu, logvar, 4, 1.0, -1.0);
  std::vector<torch::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad());
  return grads;
}

TEST_F(KnownFiniteTest, TheDecodersGradientsAreNotedWhenTheirFactorsProveThem) {
  bool saw_non_finite = false;
  for (float scale : {1.0f, 1e18f, 1e30f, 1e37f, 1e38f, 2e38f}) {
    KnownFinite known;
    const auto grads = decoder_gradients(scale);
    ASSERT_FALSE(grads.empty());
    for (size_t i = 0; i < grads.size(); ++i) {
      const bool finite = torch::isfinite(grads[i]).all().item<bool>();
      saw_non_finite = saw_non_finite || !finite;
      // Never a gradient known finite that is not.
      if (known.holds(grads[i])) {
        EXPECT_TRUE(finite) << "parameter " << i << " at scale " << scale;
      }
      // At a trained network's scale, every one is proved.
      if (scale == 1.0f)
        EXPECT_TRUE(known.holds(grads[i])) << "parameter " << i;
    }
  }
  // The scales reached gradients that overflowed.
  EXPECT_TRUE(saw_non_finite);
}

TEST_F(KnownFiniteTest, FlushedGradientsAreNotedWhenTheirFactorsProveThem) {
  // Two passes of 8 rows through a dense layer: each flushed gradient is a
  // sum over 16 rows.
  iai::nn::Dense dense(6, 5);
  const auto params = dense->parameters();
  auto flush_with = [&](float input_scale, float seed_scale) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    KnownFinite known;
    {
      iai::nn::DeferredWeightGradients deferred(params);
      for (int t = 0; t < 2; ++t) {
        auto x = (torch::rand({8, 6}) * input_scale).requires_grad_(true);
        torch::autograd::backward({dense->forward(x)},
                                  {torch::rand({8, 5}) * seed_scale});
      }
      deferred.flush();
    }
    std::vector<bool> held;
    for (auto& p : params) held.push_back(known.holds(p.grad()));
    return held;
  };
  for (bool h : flush_with(1, 1)) EXPECT_TRUE(h);
  // Inputs up to 1e37 and output gradients up to 10 (weights small): each
  // product is below the limit, the 16 rows' sum is not. The weight's
  // gradient is not proved; its bias's (a sum of output gradients) is.
  const auto held = flush_with(1e37f, 10);
  ASSERT_EQ(held.size(), 2u);
  EXPECT_FALSE(held[0]);
  EXPECT_TRUE(held[1]);
  // A gradient added to one that was there is not proved either.
  for (auto& p : params) p.mutable_grad() = torch::ones_like(p);
  {
    KnownFinite known;
    iai::nn::DeferredWeightGradients deferred(params);
    auto x = torch::rand({8, 6}).requires_grad_(true);
    torch::autograd::backward({dense->forward(x)}, {torch::rand({8, 5})});
    deferred.flush();
    for (auto& p : params) EXPECT_FALSE(known.holds(p.grad()));
  }
}

}  // namespace
