// model::elbo_gradient (the ELBO's gradient by hand, eq. 9 with the
// Bernoulli errors) against model::elbo and autograd from the same eps
// draws: the ELBO bit for bit, lambda's and the decoder's gradients to
// float rounding; and which models it takes.

#include <torch/autograd.h>

#include "iai/cpu/gemm.h"
#include "iai/model/elbo.h"
#include "iai/model/elbo_gradient.h"
#include "iai/model/latent_gaussian_model.h"
#include "test_device.h"
#include "test_support.h"

namespace {

using iai::model::LatentGaussianModel;
using iai::model::LatentGaussianModelOptions;
using ElboGradientTest = iai::testing::Seeded;

constexpr int64_t kB = 5, kD = 12, kZ = 3, kS = 4;

LatentGaussianModel decoder(int64_t layers = 2) {
  return LatentGaussianModel(
      LatentGaussianModelOptions(kD, kZ).hidden(16).layers(layers));
}

struct Lambda {
  torch::Tensor mu, logvar;
};

Lambda some_lambda() {
  return {torch::randn({kB, kZ}), 0.5 * torch::randn({kB, kZ}) - 1.0};
}

/// Both ways from the same draws: `scale` on lambda's gradient,
/// `parameter_scale` on the decoder's (0: none).
struct Both {
  iai::model::ElboTerms autograd_terms, hand_terms;
  std::vector<torch::Tensor> autograd, hand;  // mu, logvar, then parameters
};

Both both_ways(LatentGaussianModel& model, const torch::Tensor& x,
               const Lambda& q, double scale, double parameter_scale) {
  Both out;
  auto params = model->parameters();
  auto mu = q.mu.clone().requires_grad_(),
       logvar = q.logvar.clone().requires_grad_();
  torch::manual_seed(11);
  out.autograd_terms = iai::model::elbo(*model, x, mu, logvar, kS);
  const auto sum = out.autograd_terms.elbo.sum();
  out.autograd = torch::autograd::grad({sum * scale}, {mu, logvar}, {}, true);
  if (parameter_scale != 0) {
    for (auto& g : torch::autograd::grad({sum * parameter_scale}, params)) {
      out.autograd.push_back(g);
    }
  }
  out.autograd_terms = out.autograd_terms.detached();
  torch::manual_seed(11);
  auto hand = iai::model::elbo_gradient(*model, x, q.mu, q.logvar, kS, scale,
                                        parameter_scale);
  out.hand_terms = hand.terms;
  out.hand = {hand.mu, hand.logvar};
  if (parameter_scale != 0) {
    for (auto& p : params) out.hand.push_back(p.grad());
  }
  return out;
}

void expect_close(const std::vector<torch::Tensor>& a,
                  const std::vector<torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(b[i].defined()) << "gradient " << i;
    const double scale = a[i].abs().max().item<double>();
    EXPECT_LT((a[i] - b[i]).abs().max().item<double>(), 1e-5 * scale + 1e-7)
        << "gradient " << i << " of " << a.size();
  }
}

TEST_F(ElboGradientTest, MatchesAutogradForLambda) {
  auto model = decoder();
  if (!iai::gemm::uses_onednn()) GTEST_SKIP() << "built without oneDNN";
  auto x = torch::bernoulli(torch::full({kB, kD}, 0.4));
  const Lambda q = some_lambda();
  ASSERT_TRUE(iai::model::has_elbo_gradient(*model, x, q.mu, q.logvar));
  const Both r = both_ways(model, x, q, 1.0 / kB, 0.0);
  // The same draws and the same products: the ELBO bit for bit.
  EXPECT_TRUE(torch::equal(r.autograd_terms.elbo, r.hand_terms.elbo));
  EXPECT_TRUE(torch::equal(r.autograd_terms.kl, r.hand_terms.kl));
  EXPECT_TRUE(torch::equal(r.autograd_terms.reconstruction,
                           r.hand_terms.reconstruction));
  ASSERT_EQ(r.hand_terms.kl_levels.size(), 1u);
  expect_close(r.autograd, r.hand);
  // Not a vacuous match: the decoder's Jacobian term is there (the KL's
  // gradient alone would be -mu / B).
  EXPECT_GT((r.hand[0] + q.mu / kB).abs().max().item<double>(), 1e-3);
}

TEST_F(ElboGradientTest, MatchesAutogradForTheDecodersParameters) {
  auto model = decoder();
  if (!iai::gemm::uses_onednn()) GTEST_SKIP() << "built without oneDNN";
  auto x = torch::bernoulli(torch::full({kB, kD}, 0.6));
  // The training step's last iteration: lambda's gradient of L, the
  // decoder's of -L (its .grad, replacing what was there).
  for (auto& p : model->parameters())
    p.mutable_grad() = torch::full_like(p, 7.0);
  const Both r = both_ways(model, x, some_lambda(), 1.0 / kB, -1.0 / kB);
  EXPECT_EQ(r.hand.size(), 2 + model->parameters().size());
  expect_close(r.autograd, r.hand);
}

TEST_F(ElboGradientTest, ALinearDecoderHasNoElusToUndo) {
  auto model = decoder(/*layers=*/0);
  if (!iai::gemm::uses_onednn()) GTEST_SKIP() << "built without oneDNN";
  auto x = torch::bernoulli(torch::full({kB, kD}, 0.5));
  const Both r = both_ways(model, x, some_lambda(), 0.25, 2.0);
  expect_close(r.autograd, r.hand);
}

TEST_F(ElboGradientTest, OtherModelsAndTensorsGoThroughAutograd) {
  auto x = torch::bernoulli(torch::full({kB, kD}, 0.5));
  const Lambda q = some_lambda();
  auto takes = [&](const LatentGaussianModelOptions& o) {
    LatentGaussianModel model(o);
    return iai::model::has_elbo_gradient(*model, x, q.mu, q.logvar);
  };
  const auto base = LatentGaussianModelOptions(kD, kZ).hidden(16);
  EXPECT_EQ(takes(base), iai::gemm::uses_onednn());
  EXPECT_FALSE(takes(LatentGaussianModelOptions(base).likelihood(
      iai::model::Likelihood::kGaussian)));
  EXPECT_FALSE(
      takes(LatentGaussianModelOptions(base).kind(iai::nn::MlpKind::kHighway)));
  EXPECT_FALSE(takes(LatentGaussianModelOptions(base).batch_norm(true)));
  EXPECT_FALSE(takes(LatentGaussianModelOptions(base).upper_latent_dims({2})));
  auto model = decoder();
  EXPECT_FALSE(iai::model::has_elbo_gradient(*model, x, q.mu, torch::Tensor()));
  EXPECT_FALSE(iai::model::has_elbo_gradient(*model, x.to(torch::kDouble), q.mu,
                                             q.logvar));
  EXPECT_FALSE(iai::model::has_elbo_gradient(*model, x.narrow(1, 0, kD - 1),
                                             q.mu, q.logvar));
}

// On the test device (the CPU in CI, a GPU under scripts/gpu-check.sh):
// the ELBO's gradient by hand is taken there too, and matches autograd's
// from the same draws, for lambda and the decoder's parameters.
using DeviceElboGradient = iai::testing::Seeded;

TEST_F(DeviceElboGradient, MatchesAutogradOnTheTestDevice) {
  const torch::Device device = iai::testing::test_device();
  if (device.is_cpu() && !iai::gemm::uses_onednn()) {
    GTEST_SKIP() << "built without oneDNN";
  }
  auto model = decoder();
  model->to(device);
  const auto x = torch::bernoulli(torch::full({kB, kD}, 0.5)).to(device);
  const Lambda host = some_lambda();
  const Lambda q{host.mu.to(device), host.logvar.to(device)};
  ASSERT_TRUE(iai::model::has_elbo_gradient(*model, x, q.mu, q.logvar));
  // Not with q elsewhere than the model.
  if (device.is_cuda()) {
    EXPECT_FALSE(
        iai::model::has_elbo_gradient(*model, x, host.mu, host.logvar));
  }
  const Both r = both_ways(model, x, q, 1.0 / kB, -1.0 / kB);
  EXPECT_TRUE(
      torch::allclose(r.hand_terms.elbo, r.autograd_terms.elbo, 1e-6, 1e-5));
  ASSERT_EQ(r.hand.size(), 2 + model->parameters().size());
  for (const auto& g : r.hand) EXPECT_EQ(g.device(), device);
  expect_close(r.autograd, r.hand);
}

}  // namespace
