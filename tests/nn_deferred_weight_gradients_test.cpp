// DeferredWeightGradients: T backward passes through Dense layers, their
// weight gradients summed in one product at flush(), against autograd's own
// accumulation of the same passes.

#include "iai/cpu/own_kernels.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/nn/deferred_weight_gradients.h"
#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"
#include "iai/train/optim/fused_adam.h"
#include "test_support.h"

#include <torch/autograd.h>

namespace {

/// Each test on both paths: iai's own CPU kernels, and LibTorch's
/// operators (a GPU's path, taken here by CPU tensors).
class DeferredTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  bool own() const { return GetParam(); }

 private:
  iai::cpu::OwnKernelsOverride kernels_{GetParam()};
};

INSTANTIATE_TEST_SUITE_P(Paths, DeferredTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OwnKernels" : "LibTorch";
                         });

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

TEST_P(DeferredTest, OneProductEqualsAutogradsSumOverPasses) {
  iai::nn::Mlp mlp(
      iai::nn::MlpOptions(30, 20, 2).kind(iai::nn::MlpKind::kHighway));
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
    EXPECT_TRUE(
        torch::allclose(input_grads[t], expected_input_grads[t], 1e-5, 1e-6));
  }
}

TEST_P(DeferredTest, ConstantInputColumnsTakeTheirGradientFromTheSummedDeltas) {
  // An iterative encoder's input: columns that change with each pass (the
  // feedback and lambda), then columns that do not (the data). Declared,
  // their weight gradient is (sum_t delta_t)^T x: the same as autograd's.
  // Declaring every column (a model reading only x) works too.
  for (int64_t changing : {int64_t{10}, int64_t{0}}) {
    iai::nn::Mlp mlp(
        iai::nn::MlpOptions(30, 20, 2).kind(iai::nn::MlpKind::kHighway));
    const auto data = torch::randn({8, 30 - changing});
    std::vector<torch::Tensor> inputs, seeds;
    for (int t = 0; t < 4; ++t) {
      inputs.push_back(torch::cat({torch::randn({8, changing}), data}, 1));
      seeds.push_back(torch::randn({8, 20}));
    }
    const auto params = mlp->parameters();
    passes(mlp, inputs, seeds);
    std::vector<torch::Tensor> expected;
    for (auto& p : params) {
      expected.push_back(p.grad().clone());
      p.mutable_grad() = torch::Tensor();
    }
    const auto& first =
        mlp->layers[0]->as<iai::nn::DenseImpl>()->linear->weight;
    {
      iai::nn::DeferredWeightGradients deferred(params);
      deferred.same_input_columns(first, changing);  // before any pass
      passes(mlp, inputs, seeds);
      deferred.flush();
    }
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(params[i].grad(), expected[i], 1e-5, 1e-5))
          << "parameter " << i << ", " << changing << " changing columns";
    }
  }
}

TEST_P(DeferredTest, AnIterativeEncodersDataColumnsAreTakenOnceAndRightly) {
  // The training step's T passes through an iterative encoder that reads
  // x (the same every pass) beside the feedback and lambda: under a
  // collector its first product is split (x's part once per batch) and x's
  // columns' weight gradient taken once from the summed deltas; the
  // gradients equal autograd's own accumulation without a collector (the
  // whole product at every pass). Both encodings, so both column offsets
  // (log-sign doubles the feedback's width).
  using iai::inference::Normalization;
  for (Normalization norm : {Normalization::kLogSign, Normalization::kNone}) {
    const int64_t D = 12, Z = 3, B = 6;
    auto encoder = std::make_shared<iai::inference::IterativeEncoderImpl>(
        iai::inference::EncoderOptions(D, Z).hidden(8).layers(2).normalization(
            norm));
    ASSERT_TRUE(encoder->options.encode_data());
    const auto x = torch::bernoulli(torch::full({B, D}, 0.5));
    std::vector<iai::inference::Posterior> lambdas;
    std::vector<iai::inference::Feedback> feedbacks;
    std::vector<std::vector<torch::Tensor>> seeds;
    for (int t = 0; t < 3; ++t) {
      lambdas.push_back({torch::randn({B, Z}), torch::randn({B, Z})});
      feedbacks.push_back(
          {{torch::randn({B, Z}), torch::randn({B, Z})}, {}, {}});
      seeds.push_back({torch::randn({B, Z}), torch::randn({B, Z})});
    }
    const auto params = encoder->parameters();
    auto run = [&] {
      for (auto& p : params) p.mutable_grad() = torch::Tensor();
      encoder->begin_batch(B);
      for (int t = 0; t < 3; ++t) {
        auto next = encoder->update(x, lambdas[t], feedbacks[t]);
        torch::autograd::backward(next.tensors(), seeds[t]);
      }
      std::vector<torch::Tensor> grads;
      for (auto& p : params)
        grads.push_back(p.grad().defined() ? p.grad().clone() : p.grad());
      return grads;
    };
    const auto expected = run();
    std::vector<torch::Tensor> got;
    {
      iai::nn::DeferredWeightGradients deferred(params);
      run();
      deferred.flush();
      for (auto& p : params) got.push_back(p.grad());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      ASSERT_TRUE(got[i].defined() && expected[i].defined())
          << "parameter " << i;
      EXPECT_TRUE(torch::allclose(got[i], expected[i], 1e-5, 1e-5))
          << "parameter " << i << " of the " << iai::inference::to_string(norm)
          << " encoder";
    }
  }
}

TEST_P(DeferredTest,
       AnEncodersSplitFirstProductEqualsTheWholeOneAndFollowsChanges) {
  // Without a gradient (inference) the encoder computes x's part of its
  // first product once per batch: the same update as the whole product
  // (with a gradient and no collector it takes the whole one), and made
  // again for another x or after the parameters change in place (an op,
  // or the optimiser's step).
  const int64_t D = 12, Z = 3, B = 6;
  auto encoder = std::make_shared<iai::inference::IterativeEncoderImpl>(
      iai::inference::EncoderOptions(D, Z).hidden(8).layers(2));
  const iai::inference::Posterior lambda{torch::randn({B, Z}),
                                         torch::randn({B, Z})};
  const iai::inference::Feedback feedback{
      {torch::randn({B, Z}), torch::randn({B, Z})}, {}, {}};
  auto whole = [&](const torch::Tensor& x) {
    return encoder->update(x, lambda, feedback).mu.detach();  // grad mode on
  };
  auto split = [&](const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    return encoder->update(x, lambda, feedback).mu;
  };
  const auto x1 = torch::bernoulli(torch::full({B, D}, 0.5));
  const auto x2 = torch::bernoulli(torch::full({B, D}, 0.5));
  encoder->begin_batch(B);
  EXPECT_TRUE(torch::allclose(split(x1), whole(x1), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(split(x1), whole(x1), 1e-5, 1e-6));  // cached
  EXPECT_TRUE(torch::allclose(split(x2), whole(x2), 1e-5, 1e-6));  // another x
  auto reused = x1.clone();
  split(reused);
  reused.copy_(x2);  // the next batch copied into the same tensor
  EXPECT_TRUE(torch::allclose(split(reused), whole(x2), 1e-5, 1e-6));
  {
    torch::NoGradGuard no_grad;
    encoder->body->layers[0]->as<iai::nn::DenseImpl>()->linear->weight.mul_(
        1.5);
    encoder->body->layers[0]->as<iai::nn::DenseImpl>()->linear->bias.add_(0.3);
  }
  const auto after = split(x2);
  EXPECT_TRUE(torch::allclose(after, whole(x2), 1e-5, 1e-6));  // new parameters
  EXPECT_FALSE(torch::allclose(after, split(x1), 1e-3, 1e-3));
  // The same x again after a FusedAdam step (a test set's batch, epoch after
  // epoch): the step writes through raw pointers, and is seen too.
  split(x2);  // the part made for x2 again (split(x1) replaced it)
  auto params = encoder->parameters();
  iai::train::FusedAdam adam(params, torch::optim::AdamOptions(0.1));
  for (auto& p : params) p.mutable_grad() = torch::ones_like(p);
  adam.step();
  // The own kernels' loop writes through raw pointers; LibTorch's path
  // steps with multi-tensor operators.
  ASSERT_EQ(adam.last_path(), own() ? iai::train::FusedAdam::Path::kLoop
                                    : iai::train::FusedAdam::Path::kMultiTensor);
  const auto stepped = split(x2);
  EXPECT_TRUE(torch::allclose(stepped, whole(x2), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(stepped, after, 1e-3, 1e-3));
}

TEST_P(DeferredTest, ADeclarationOfColumnsThatDifferIsNotSilentlyIgnored) {
  // The declaration is a promise the caller keeps: columns that do differ
  // between passes get the first pass's values' gradient, which differs
  // from autograd's (this test guards against a declaration that does
  // nothing at all).
  iai::nn::Dense layer(6, 4);
  std::vector<torch::Tensor> inputs{torch::randn({5, 6}), torch::randn({5, 6})};
  std::vector<torch::Tensor> seeds{torch::randn({5, 4}), torch::randn({5, 4})};
  auto run = [&](bool declare) {
    layer->linear->weight.mutable_grad() = torch::Tensor();
    iai::nn::DeferredWeightGradients deferred(layer->parameters());
    if (declare) deferred.same_input_columns(layer->linear->weight, 3);
    for (size_t t = 0; t < 2; ++t) {
      torch::autograd::backward({layer->forward(inputs[t])}, {seeds[t]});
    }
    deferred.flush();
    return layer->linear->weight.grad().clone();
  };
  const auto honest = run(false), declared = run(true);
  EXPECT_TRUE(torch::allclose(honest.narrow(1, 0, 3), declared.narrow(1, 0, 3),
                              1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(honest.narrow(1, 3, 3), declared.narrow(1, 3, 3),
                               1e-3, 1e-3));
}

TEST_P(DeferredTest, OnlyCoveredLayersDeferAndUndefinedGradientsAreSet) {
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
  EXPECT_TRUE(
      torch::allclose(covered->linear->weight.grad(), column_sums, 1e-6, 1e-6));
  EXPECT_TRUE(
      torch::allclose(other->linear->weight.grad(), column_sums, 1e-6, 1e-6));
  EXPECT_TRUE(
      torch::allclose(covered->linear->bias.grad(), torch::full({4}, 5.0f)));
}

}  // namespace
