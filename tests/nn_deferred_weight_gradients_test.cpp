// DeferredWeightGradients: T backward passes through Dense layers, their
// weight gradients summed in one product at flush(), against autograd's own
// accumulation of the same passes.

#include "iai/nn/deferred_weight_gradients.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"
#include "test_support.h"

#include <torch/autograd.h>

namespace {

using DeferredTest = iai::testing::Seeded;

/// T passes of a highway MLP's backward with their own inputs and seeds,
/// the input-gradient of each pass returned (it must not wait for flush).
std::vector<torch::Tensor> passes(iai::nn::Mlp& mlp,
                                  const std::vector<torch::Tensor>& inputs,
                                  const std::vector<torch::Tensor>& seeds) {
  std::vector<torch::Tensor> input_grads;
  for (size_t t = 0; t < inputs.size(); ++t) {
    auto x = inputs[t].clone().requires_grad_(true);
    auto y = mlp->forward(x);
    torch::autograd::backward({y}, {seeds[t]});
    input_grads.push_back(x.grad().clone());
  }
  return input_grads;
}

TEST_F(DeferredTest, OneProductEqualsAutogradsSumOverPasses) {
  iai::nn::Mlp mlp(iai::nn::MlpOptions(30, 20, 2).kind(iai::nn::MlpKind::kHighway));
  std::vector<torch::Tensor> inputs, seeds;
  for (int t = 0; t < 4; ++t) {
    inputs.push_back(torch::randn({8, 30}));
    seeds.push_back(torch::randn({8, 20}));
  }
  const auto params = mlp->parameters();
  // A gradient already there (a previous accumulation) is added to.
  for (auto& p : params) p.mutable_grad() = torch::full_like(p, 0.25);
  const auto expected_input_grads = passes(mlp, inputs, seeds);
  std::vector<torch::Tensor> expected;
  for (auto& p : params) expected.push_back(p.grad().clone());

  for (auto& p : params) p.mutable_grad() = torch::full_like(p, 0.25);
  std::vector<torch::Tensor> input_grads;
  {
    iai::nn::DeferredWeightGradients deferred(params);
    EXPECT_EQ(iai::nn::DeferredWeightGradients::active(), &deferred);
    input_grads = passes(mlp, inputs, seeds);
    // Nothing reached the weights before the flush.
    for (auto& p : params) {
      EXPECT_EQ((p.grad() - 0.25).abs().max().item<float>(), 0.0f);
    }
    deferred.flush();
  }
  EXPECT_EQ(iai::nn::DeferredWeightGradients::active(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(params[i].grad(), expected[i], 1e-5, 1e-6))
        << "parameter " << i;
  }
  for (size_t t = 0; t < input_grads.size(); ++t) {
    EXPECT_TRUE(torch::allclose(input_grads[t], expected_input_grads[t], 1e-5, 1e-6));
  }
}

TEST_F(DeferredTest, OnlyCoveredLayersDeferAndUndefinedGradientsAreSet) {
  iai::nn::Dense covered(6, 4), other(6, 4);
  auto x = torch::randn({5, 6});
  iai::nn::DeferredWeightGradients deferred(covered->parameters());
  auto loss = covered->forward(x).sum() + other->forward(x).sum();
  loss.backward();
  EXPECT_FALSE(covered->linear->weight.grad().defined());
  ASSERT_TRUE(other->linear->weight.grad().defined());
  deferred.flush();
  ASSERT_TRUE(covered->linear->weight.grad().defined());
  // d sum(x W^T + b) / dW = 1^T x, / db = rows.
  auto column_sums = x.sum(0).expand({4, 6});
  EXPECT_TRUE(torch::allclose(covered->linear->weight.grad(), column_sums, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(other->linear->weight.grad(), column_sums, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(covered->linear->bias.grad(), torch::full({4}, 5.0f)));
}

}  // namespace
