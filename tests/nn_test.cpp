// Dense initialisation and the MLP layer formulas (docs/reference.md#networks).

#include <cmath>

#include "iai/nn/dense.h"
#include "iai/nn/mlp.h"
#include "test_support.h"

namespace {

using NnTest = iai::testing::Seeded;

TEST_F(NnTest, DenseIsGlorotUniformWithZeroBias) {
  iai::nn::Dense dense(300, 200);
  const double bound = std::sqrt(6.0 / (300 + 200));
  auto w = dense->linear->weight;
  EXPECT_LE(w.abs().max().item<double>(), bound);
  // Uniform(-a, a) has standard deviation a / sqrt(3).
  EXPECT_NEAR(w.std().item<double>(), bound / std::sqrt(3.0), 0.002);
  EXPECT_EQ(dense->linear->bias.abs().max().item<double>(), 0.0);
}

/// Each block of a fused weight is Glorot-uniform with bound
/// sqrt(6 / (fan_in + fan_out)): no value beyond it, standard deviation
/// bound / sqrt(3) within 2% (the fused fan-out would give 0.75-0.95 of it).
void expect_glorot_blocks(const torch::Tensor& w, int64_t blocks,
                          const std::string& what) {
  const int64_t fan_in = w.size(1), fan_out = w.size(0) / blocks;
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  const auto parts = w.chunk(blocks, 0);
  for (int64_t b = 0; b < blocks; ++b) {
    EXPECT_LE(parts[b].abs().max().item<double>(), bound)
        << what << " block " << b;
    EXPECT_NEAR(parts[b].std().item<double>() / (bound / std::sqrt(3.0)), 1.0,
                0.02)
        << what << " block " << b;
  }
}

TEST_F(NnTest, FusedBlocksHaveEachTheirOwnGlorotBound) {
  // A highway layer's shapes: W_0, V_0, W'_0 fused (3H rows), then W, V.
  const int64_t in = 300, h = 200;
  expect_glorot_blocks(iai::nn::Dense(in, 3 * h, /*blocks=*/3)->linear->weight,
                       3, "3 blocks");
  expect_glorot_blocks(iai::nn::Dense(h, 2 * h, /*blocks=*/2)->linear->weight,
                       2, "2 blocks");
  iai::nn::Dense plain(in, 2 * h, /*blocks=*/2);
  EXPECT_EQ(plain->linear->bias.abs().max().item<double>(), 0.0);
}

TEST_F(NnTest, HighwayLayersInitialiseEachMatrixWithItsOwnBound) {
  // Layer 0 fuses W_0, V_0, W'_0 (3 blocks, fused bound 0.75x each one's
  // here), layer 1 W_1, V_1 (2 blocks, 0.82x); a sequential layer is one.
  const int64_t in = 300, h = 200;
  iai::nn::Mlp highway(
      iai::nn::MlpOptions(in, h, 2).kind(iai::nn::MlpKind::kHighway));
  expect_glorot_blocks(
      highway->layers[0]->as<iai::nn::DenseImpl>()->linear->weight, 3,
      "highway layer 0");
  expect_glorot_blocks(
      highway->layers[1]->as<iai::nn::DenseImpl>()->linear->weight, 2,
      "highway layer 1");
  iai::nn::Mlp sequential(iai::nn::MlpOptions(in, h, 2));
  expect_glorot_blocks(
      sequential->layers[1]->as<iai::nn::DenseImpl>()->linear->weight, 1,
      "sequential layer 1");
}

TEST_F(NnTest, PriorHeadsInitialiseMuAndLogVarianceEachWithTheirOwnBound) {
  // Three levels: each upper level's head gives the level below's mu_p and
  // log sigma_p^2, 2 blocks of 128 rows over 256 inputs. Fused, the bound
  // would be 0.87x each one's: the standard deviation 13% low, where the
  // estimate's own error is 0.25% (sqrt(0.2 / 32768) for a uniform).
  iai::model::LatentGaussianModel model(
      iai::model::LatentGaussianModelOptions(20, 128)
          .upper_latent_dims({128, 128})
          .upper_hidden(256)
          .kind(iai::nn::MlpKind::kHighway));
  ASSERT_EQ(model->prior_heads->size(), 2u);
  expect_glorot_blocks(
      model->prior_heads[0]->as<iai::nn::DenseImpl>()->linear->weight, 2,
      "prior head of level 1");
  expect_glorot_blocks(
      model->prior_heads[1]->as<iai::nn::DenseImpl>()->linear->weight, 2,
      "prior head of level 2");
  // The upper levels' networks are highway MLPs: theirs too.
  auto& body = model->upper_bodies[0]->as<iai::nn::MlpImpl>()->layers;
  expect_glorot_blocks(body[0]->as<iai::nn::DenseImpl>()->linear->weight, 3,
                       "upper body layer 0");
}

TEST_F(NnTest, HighwayLayersFollowTheGatedFormula) {
  const int64_t in = 5, h = 4;
  iai::nn::Mlp mlp(
      iai::nn::MlpOptions(in, h, 2).kind(iai::nn::MlpKind::kHighway));
  {
    torch::NoGradGuard g;
    for (auto& p : mlp->parameters()) p.uniform_(-0.7, 0.7);
  }
  auto x = torch::randn({3, in});
  auto l0 = mlp->layers[0]->as<iai::nn::DenseImpl>()->linear;
  auto l1 = mlp->layers[1]->as<iai::nn::DenseImpl>()->linear;
  auto affine = [](const torch::nn::Linear& l, const torch::Tensor& v,
                   int64_t part, int64_t h) {
    return v.matmul(l->weight.slice(0, part * h, (part + 1) * h).t()) +
           l->bias.slice(0, part * h, (part + 1) * h);
  };
  // k = 0: h = g * W'_0 x + (1 - g) * ELU(W_0 x), g = sigmoid(V_0 x).
  auto g0 = torch::sigmoid(affine(l0, x, 1, h));
  auto h0 =
      g0 * affine(l0, x, 2, h) + (1 - g0) * torch::elu(affine(l0, x, 0, h));
  // k = 1: h = g * h + (1 - g) * ELU(W_1 h), g = sigmoid(V_1 h).
  auto g1 = torch::sigmoid(affine(l1, h0, 1, h));
  auto h1 = g1 * h0 + (1 - g1) * torch::elu(affine(l1, h0, 0, h));
  EXPECT_TRUE(torch::allclose(mlp->forward(x), h1, 1e-5, 1e-6));
}

TEST_F(NnTest, SequentialIsAnEluStackAndZeroLayersIsIdentity) {
  iai::nn::Mlp mlp(iai::nn::MlpOptions(3, 4, 1));
  auto x = torch::randn({2, 3});
  auto l = mlp->layers[0]->as<iai::nn::DenseImpl>()->linear;
  EXPECT_TRUE(torch::allclose(mlp->forward(x), torch::elu(l->forward(x))));
  iai::nn::Mlp none(iai::nn::MlpOptions(3, 4, 0));
  EXPECT_TRUE(torch::equal(none->forward(x), x));
  EXPECT_EQ(none->out_features(), 3);
}

TEST(NnErrors, UnknownKindIsNamed) {
  auto msg = iai::testing::error_of([] { iai::nn::parse_mlp_kind("resnet"); });
  EXPECT_TRUE(iai::testing::contains(msg, "unknown network kind 'resnet'"));
}

}  // namespace
