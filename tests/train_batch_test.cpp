// One training step against the parameters: a non-finite value
// anywhere in the step (an iteration before the last, a gradient that
// overflows while the ELBO is finite) leaves every parameter as it was, and
// a last partial batch encodes the gradient of sum L / the training batch
// size, as a full one does.

#include <torch/autograd.h>

#include <cmath>
#include <limits>

#include "iai/inference/iterative_encoder.h"
#include "iai/inference/run_inference.h"
#include "iai/inference/standard_encoder.h"
#include "iai/model/elbo.h"
#include "iai/model/latent_gaussian_model.h"
#include "iai/train/optim/optimizers.h"
#include "iai/train/step/train_batch.h"
#include "iai/train/step/training_step.h"
#include "test_support.h"

namespace {

using iai::inference::Feedback;
using iai::inference::FeedbackKind;
using iai::inference::IterativeEncoderImpl;
using iai::inference::Posterior;
using iai::model::LatentGaussianModel;
using iai::train::BatchSettings;
using iai::train::NonFinite;
using TrainBatchTest = iai::testing::Seeded;

constexpr int64_t B = 3, D = 6, Z = 2, S = 2, T = 5;

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

void expect_unchanged(const std::vector<torch::Tensor>& params,
                      const std::vector<torch::Tensor>& before) {
  ASSERT_EQ(params.size(), before.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i], before[i])) << "parameter " << i;
  }
}

torch::Tensor sanitised(const torch::Tensor& t) {
  return t.defined() ? torch::nan_to_num(t, 0.0, 0.0, 0.0) : t;
}

/// An iterative encoder whose update `bad` adds NaN to mu, and whose next
/// update reads sanitised inputs: the ELBO is non-finite at iteration `bad`
/// only, finite again at T (what the old final-ELBO check missed).
class NanAtIteration : public iai::inference::InferenceProcedureImpl {
 public:
  NanAtIteration(std::shared_ptr<IterativeEncoderImpl> inner, int64_t bad)
      : inner_(register_module("inner", std::move(inner))), bad_(bad) {}

  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override {
    ++calls_;
    if (calls_ == bad_ + 1) {
      Feedback clean{{sanitised(feedback.gradient.mu),
                      sanitised(feedback.gradient.logvar)},
                     sanitised(feedback.error_x),
                     sanitised(feedback.error_z)};
      return inner_->update(
          x, {sanitised(current.mu), sanitised(current.logvar)}, clean);
    }
    auto next = inner_->update(x, current, feedback);
    if (calls_ == bad_) next.mu = next.mu + std::nan("");
    return next;
  }
  FeedbackKind feedback_kind() const override {
    return inner_->feedback_kind();
  }
  void begin_batch(int64_t batch) override {
    calls_ = 0;
    inner_->begin_batch(batch);
  }
  std::string label() const override { return "nan-at-iteration"; }

 private:
  std::shared_ptr<IterativeEncoderImpl> inner_;
  int64_t bad_;
  int64_t calls_ = 0;
};

/// An iterative encoder whose output mu is scaled by a parameter of its own
/// (1, so the ELBO is the inner encoder's) whose gradient a hook makes
/// infinite: a gradient that overflows while every ELBO stays finite. (A
/// hook on a Dense weight would not do: on the CPU their gradients are
/// summed after the passes, nn/deferred_weight_gradients.h, not through
/// autograd's accumulation where hooks run.)
class OverflowingGradient : public iai::inference::InferenceProcedureImpl {
 public:
  explicit OverflowingGradient(std::shared_ptr<IterativeEncoderImpl> inner)
      : inner_(register_module("inner", std::move(inner))),
        scale_(register_parameter("scale", torch::ones({1}))) {
    scale_.register_hook([](torch::Tensor g) {
      return torch::full_like(g, std::numeric_limits<float>::infinity());
    });
  }

  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override {
    auto next = inner_->update(x, current, feedback);
    next.mu = next.mu * scale_;
    return next;
  }
  FeedbackKind feedback_kind() const override {
    return inner_->feedback_kind();
  }
  void begin_batch(int64_t batch) override { inner_->begin_batch(batch); }
  std::string label() const override { return "overflowing-gradient"; }

 private:
  std::shared_ptr<IterativeEncoderImpl> inner_;
  torch::Tensor scale_;
};

/// An iterative encoder that keeps the gradient it is fed at lambda_0.
class FirstFeedback : public iai::inference::InferenceProcedureImpl {
 public:
  explicit FirstFeedback(std::shared_ptr<IterativeEncoderImpl> inner)
      : inner_(register_module("inner", std::move(inner))) {}
  Posterior update(const torch::Tensor& x, const Posterior& current,
                   const Feedback& feedback) override {
    if (!first_mu.defined()) first_mu = feedback.gradient.mu.clone();
    return inner_->update(x, current, feedback);
  }
  FeedbackKind feedback_kind() const override {
    return inner_->feedback_kind();
  }
  void begin_batch(int64_t batch) override { inner_->begin_batch(batch); }
  std::string label() const override { return "first-feedback"; }

  torch::Tensor first_mu;

 private:
  std::shared_ptr<IterativeEncoderImpl> inner_;
};

struct Net {
  LatentGaussianModel model{
      iai::model::LatentGaussianModelOptions(D, Z).hidden(4).layers(1)};
  std::shared_ptr<IterativeEncoderImpl> encoder =
      std::make_shared<IterativeEncoderImpl>(
          iai::inference::EncoderOptions(D, Z).hidden(5).layers(1));
  torch::Tensor x = torch::bernoulli(torch::full({B, D}, 0.5));
};

TEST_F(TrainBatchTest, NonFiniteElboBeforeTheLastIterationChangesNothing) {
  Net s;
  auto procedure = std::make_shared<NanAtIteration>(s.encoder, /*bad=*/2);
  iai::train::Optimizers optimizers(s.model->parameters(),
                                    procedure->parameters(), 1e-2);
  const auto theta = copies(s.model->parameters());
  const auto phi = copies(procedure->parameters());
  const auto result = iai::train::train_batch(*s.model, *procedure, optimizers,
                                              s.x, BatchSettings{T, S});
  // The final ELBO is finite: only the per-iteration check can see this.
  EXPECT_TRUE(std::isfinite(result.sums.elbo)) << result.sums.elbo;
  EXPECT_FALSE(result.updated);
  ASSERT_TRUE(result.nonfinite.has_value());
  EXPECT_EQ(result.nonfinite->what, "ELBO");
  EXPECT_EQ(result.nonfinite->iteration, 2);
  EXPECT_EQ(result.nonfinite->location(T), "inference iteration 2 of 5");
  expect_unchanged(s.model->parameters(), theta);
  expect_unchanged(procedure->parameters(), phi);
}

TEST_F(TrainBatchTest, OverflowingGradientWithAFiniteElboChangesNothing) {
  Net s;
  // One encoder parameter's gradient overflows; the ELBO never sees it.
  auto procedure = std::make_shared<OverflowingGradient>(s.encoder);
  iai::train::Optimizers optimizers(s.model->parameters(),
                                    procedure->parameters(), 1e-2);
  const auto theta = copies(s.model->parameters());
  const auto phi = copies(procedure->parameters());
  const auto result = iai::train::train_batch(*s.model, *procedure, optimizers,
                                              s.x, BatchSettings{T, S});
  EXPECT_TRUE(std::isfinite(result.sums.elbo)) << result.sums.elbo;
  EXPECT_FALSE(result.updated);
  ASSERT_TRUE(result.nonfinite.has_value());
  EXPECT_EQ(result.nonfinite->what, "gradient");
  EXPECT_EQ(result.nonfinite->iteration, NonFinite::kAfterIterations);
  expect_unchanged(s.model->parameters(), theta);
  expect_unchanged(procedure->parameters(), phi);
}

TEST_F(TrainBatchTest, FiniteStepUpdatesAndReportsNothing) {
  Net s;
  iai::train::Optimizers optimizers(s.model->parameters(),
                                    s.encoder->parameters(), 1e-2);
  const auto theta = copies(s.model->parameters());
  const auto phi = copies(s.encoder->parameters());
  const auto result = iai::train::train_batch(*s.model, *s.encoder, optimizers,
                                              s.x, BatchSettings{T, S});
  EXPECT_TRUE(result.updated);
  EXPECT_FALSE(result.nonfinite.has_value());
  EXPECT_TRUE(std::isfinite(result.sums.elbo));
  // Every parameter of both networks took Adam's first step on the
  // gradient the step left in it: -lr g / (|g| + eps), lr 1e-2 each
  // element where g is not tiny.
  auto expect_first_adam_step = [](const std::vector<torch::Tensor>& params,
                                   const std::vector<torch::Tensor>& before,
                                   const char* side) {
    ASSERT_EQ(params.size(), before.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& g = params[i].grad();
      ASSERT_TRUE(g.defined()) << side << " parameter " << i;
      const auto moved = params[i].detach() - before[i];
      EXPECT_TRUE(
          torch::allclose(moved, -1e-2 * g / (g.abs() + 1e-8), 1e-4, 1e-7))
          << side << " parameter " << i;
      EXPECT_NEAR(moved.abs().max().item<double>(), 1e-2, 1e-5)
          << side << " parameter " << i;
    }
  };
  expect_first_adam_step(s.model->parameters(), theta, "decoder");
  expect_first_adam_step(s.encoder->parameters(), phi, "encoder");
}

// Every batch's summed ELBO is divided by the training batch size (64), a
// last partial batch's too (train/step/train_batch.h): a batch of B = 3 encodes
// grad_mu sum L / 64, not grad_mu sum L / 3.
TEST_F(TrainBatchTest, PartialBatchEncodesTheGradientOverTheTrainingBatchSize) {
  Net s;
  auto procedure = std::make_shared<FirstFeedback>(s.encoder);
  iai::train::Optimizers optimizers(s.model->parameters(),
                                    procedure->parameters(), 1e-2);
  // lambda_0 is the prior; the samples are fixed by the seed.
  auto lambda0 = iai::inference::initial_posterior(*s.model, B).leaf();
  torch::manual_seed(7);
  auto terms = iai::model::elbo(*s.model, s.x, lambda0.mu, lambda0.logvar, S);
  auto expected =
      torch::autograd::grad(std::vector<torch::Tensor>{terms.elbo.sum() / 64.0},
                            std::vector<torch::Tensor>{lambda0.mu})[0];

  torch::manual_seed(7);
  BatchSettings settings{T, S};
  settings.gradient_batch = 64;
  const auto result =
      iai::train::train_batch(*s.model, *procedure, optimizers, s.x, settings);
  ASSERT_TRUE(result.updated);
  ASSERT_TRUE(procedure->first_mu.defined());
  EXPECT_TRUE(torch::allclose(procedure->first_mu, expected, 1e-5, 1e-7))
      << procedure->first_mu << "\nexpected\n"
      << expected;
  EXPECT_GT(expected.abs().max().item<double>(), 1e-4);
}

// The parameters' gradients are scaled the same way: those of a partial
// batch over 64 are B / 64 of its batch-mean ones (a standard encoder
// reads no feedback, so the scale is all that differs).
TEST_F(TrainBatchTest, PartialBatchParameterGradientsUseTheTrainingBatchSize) {
  Net s;
  auto encoder = std::make_shared<iai::inference::StandardEncoderImpl>(
      iai::inference::EncoderOptions(D, Z).hidden(5).layers(1));
  auto grads = [&](int64_t gradient_batch) {
    s.model->zero_grad();
    encoder->zero_grad();
    torch::manual_seed(9);
    iai::train::accumulate_gradients(*s.model, *encoder, s.x, 1, S,
                                     gradient_batch);
    std::vector<torch::Tensor> out;
    for (const auto& p : s.model->parameters()) out.push_back(p.grad().clone());
    for (const auto& p : encoder->parameters()) {
      out.push_back(p.grad().defined() ? p.grad().clone()
                                       : torch::zeros_like(p));
    }
    return out;
  };
  const auto own = grads(0), over64 = grads(64);
  for (size_t i = 0; i < own.size(); ++i) {
    EXPECT_TRUE(torch::allclose(
        over64[i], own[i] * (static_cast<double>(B) / 64.0), 1e-5, 1e-8))
        << "parameter " << i;
  }
}

}  // namespace
