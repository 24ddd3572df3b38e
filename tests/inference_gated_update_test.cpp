// inference/gated_update: the iterative encoder's log-sign input and highway
// update in one pass each, against the LibTorch formulas they replace
// (input_encoding.h): values, the gradient in the head's output (including
// clamped logvars), a graph through that gradient, and where they decline.
// The update on LibTorch's operators (a GPU's path, IAI_KERNELS=libtorch)
// is held to the same formulas, in float and in double.

#include "iai/inference/gated_update.h"

#include "iai/cpu/own_kernels.h"
#include "iai/inference/encoder_options.h"
#include "iai/inference/input_encoding.h"

#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/torch.h>

namespace {

using iai::inference::Posterior;

/// The update as the encoder wrote it before: highway_update, then clamp.
Posterior formula(const torch::Tensor& out, const Posterior& current) {
  auto parts = out.chunk(4, 1);
  auto mu = iai::inference::highway_update(current.mu, parts[0],
                                           torch::sigmoid(parts[1]));
  auto logvar = iai::inference::highway_update(current.logvar, parts[2],
                                               torch::sigmoid(parts[3]));
  return {mu,
          logvar.clamp(iai::inference::kMinLogvar, iai::inference::kMaxLogvar)};
}

/// A head output whose logvar proposals reach past the clamp on both sides
/// and whose gates saturate: every branch of the kernel.
torch::Tensor head_output(int64_t rows, int64_t z) {
  auto out = torch::randn({rows, 4 * z}) * 3;
  out.narrow(1, 2 * z, z).mul_(10);      // logvar proposals up to ~+-90
  out.narrow(1, 3 * z, 4).fill_(-40.0);  // gates at 0: logvar' = proposal
  out.narrow(1, z, 3).fill_(30.0);       // gates at 1: mu' = mu
  return out;
}

TEST(GatedUpdate, LogSignInputIsTheEncodedBlocksAndLambda) {
  torch::manual_seed(1);
  const int64_t B = 7, Z = 5;
  Posterior g{torch::randn({B, Z}) * 1e-3, torch::randn({B, Z}) * 1e3};
  g.mu[0][0] = 0.0f;
  g.logvar[1][2] = -0.0f;
  const Posterior lambda{torch::randn({B, Z}), torch::randn({B, Z})};
  const auto fused = iai::inference::log_sign_input(g, lambda);
  ASSERT_TRUE(fused.defined());
  const auto n = iai::inference::Normalization::kLogSign;
  const auto expected = torch::cat(
      {iai::inference::normalize(g.mu, n),
       iai::inference::normalize(g.logvar, n), lambda.mu, lambda.logvar},
      1);
  ASSERT_EQ(fused.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(fused, expected, 1e-6, 1e-6));
  // Signs and lambda exactly (a column out of place would not be close).
  EXPECT_TRUE(torch::equal(fused.narrow(1, Z, Z), expected.narrow(1, Z, Z)));
  EXPECT_TRUE(torch::equal(fused.narrow(1, 4 * Z, 2 * Z),
                           expected.narrow(1, 4 * Z, 2 * Z)));
}

TEST(GatedUpdate, ValuesAndGradientAreTheFormulas) {
  for (bool own : {true, false})
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
  if (own && dtype == torch::kDouble) continue;  // the row kernels: float
  SCOPED_TRACE(own ? "own kernels" : dtype == torch::kFloat
                                         ? "LibTorch's operators, float"
                                         : "LibTorch's operators, double");
  iai::cpu::OwnKernelsOverride kernels(own);
  torch::manual_seed(2);
  const int64_t B = 9, Z = 6;
  const Posterior current{torch::randn({B, Z}, dtype),
                          torch::randn({B, Z}, dtype) * 20};
  const auto base = head_output(B, Z).to(dtype);
  const auto d_mu = torch::randn({B, Z}, dtype),
             d_logvar = torch::randn({B, Z}, dtype);

  auto out = base.clone().requires_grad_(true);
  const auto fused = iai::inference::gated_update(out, current);
  ASSERT_TRUE(fused.has_value());
  torch::autograd::backward({fused->mu, fused->logvar}, {d_mu, d_logvar});
  auto reference_out = base.clone().requires_grad_(true);
  const auto reference = formula(reference_out, current);
  torch::autograd::backward({reference.mu, reference.logvar}, {d_mu, d_logvar});

  EXPECT_TRUE(torch::allclose(fused->mu, reference.mu, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(fused->logvar, reference.logvar, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(out.grad(), reference_out.grad(), 1e-5, 1e-6));
  // The clamp took some logvars, and their gradients are zero.
  const auto clamped =
      reference.logvar.detach().abs() == iai::inference::kMaxLogvar;
  ASSERT_GT(clamped.sum().item<int64_t>(), 0);
  const auto d_proposal = out.grad().narrow(1, 2 * Z, Z);
  EXPECT_EQ(d_proposal.masked_select(clamped).abs().max().item<double>(), 0.0);

  // Without grad mode (inference): the same values, no graph.
  torch::NoGradGuard no_grad;
  const auto plain = iai::inference::gated_update(base, current);
  ASSERT_TRUE(plain.has_value());
  EXPECT_TRUE(torch::equal(plain->mu, fused->mu.detach()));
  EXPECT_TRUE(torch::equal(plain->logvar, fused->logvar.detach()));
  EXPECT_FALSE(plain->mu.requires_grad());
  }
}

TEST(GatedUpdate, AGraphOfItsGradientIsTheFormulas) {
  // create_graph: the backward pass is the formula, so a second derivative
  // (here of the gradient's squared norm) exists and agrees.
  torch::manual_seed(3);
  const int64_t B = 4, Z = 3;
  const Posterior current{torch::randn({B, Z}), torch::randn({B, Z})};
  const auto base = torch::randn({B, 4 * Z});
  const auto seed = torch::randn({B, Z});
  auto second = [&](bool fused) {
    auto out = base.clone().requires_grad_(true);
    const auto next = fused ? *iai::inference::gated_update(out, current)
                            : formula(out, current);
    auto g = torch::autograd::grad({next.mu, next.logvar}, {out},
                                   {seed, seed}, true, true)[0];
    return torch::autograd::grad({g.pow(2).sum()}, {out})[0];
  };
  for (bool own : {true, false}) {
    iai::cpu::OwnKernelsOverride kernels(own);
    EXPECT_TRUE(torch::allclose(second(true), second(false), 1e-5, 1e-6))
        << (own ? "own kernels" : "LibTorch's operators");
  }
}

TEST(GatedUpdate, DeclinesWhatItDoesNotTake) {
  const auto out = torch::randn({2, 12});
  const Posterior gaussian{torch::randn({2, 3}), torch::randn({2, 3})};
  EXPECT_FALSE(iai::inference::gated_update(out, {torch::randn({2, 3}), {}}));
  EXPECT_FALSE(iai::inference::gated_update(torch::randn({2, 8}), gaussian));
  // Lambda in a graph (unrolled training): the formula's autograd.
  const Posterior in_graph{gaussian.mu.clone().requires_grad_(true),
                           gaussian.logvar};
  EXPECT_FALSE(iai::inference::gated_update(out, in_graph));
  EXPECT_FALSE(iai::inference::log_sign_input(in_graph, gaussian).defined());
  EXPECT_FALSE(
      iai::inference::log_sign_input(gaussian, {gaussian.mu, {}}).defined());
  EXPECT_FALSE(iai::inference::gated_update(out.to(torch::kDouble), gaussian));
}

}  // namespace
