// Tests of uniform dequantisation of image batches (Gaussian likelihoods):
// x + U(-0.5, 0.5) on the 0..255 scale, clamped, divided by 255.

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "iai/core/rng.h"
#include "iai/data/batches.h"
#include "iai/data/example_source.h"
#include "iai/parallel/batch_shard.h"
#include "test_support.h"

namespace {

using iai::data::dequantize_pixels;
using DequantizeTest = iai::testing::Seeded;

TEST_F(DequantizeTest, StaysWithinHalfAStepAndClamps) {
  // 4000 copies of the values 0, 1, 128 and 255.
  const auto images = torch::tensor({0, 1, 128, 255}, torch::kLong)
                          .to(torch::kByte)
                          .repeat({4000, 1});
  const auto x = dequantize_pixels(images);
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_EQ(x.sizes(), images.sizes());
  const auto scaled = x * 255;  // back on the 0..255 scale
  const auto base = images.to(torch::kFloat);
  EXPECT_LE((scaled - base).abs().max().item<float>(), 0.5f + 1e-4f);
  EXPECT_GE(x.min().item<float>(), 0.0f);
  EXPECT_LE(x.max().item<float>(), 1.0f);
  // 0 and 255 are clamped half the time: the noise pushes out of range.
  EXPECT_NEAR((scaled.select(1, 0) == 0).to(torch::kFloat).mean().item<float>(),
              0.5, 0.05);
  EXPECT_NEAR(
      (scaled.select(1, 3) == 255).to(torch::kFloat).mean().item<float>(), 0.5,
      0.05);
  // Inside the range the noise is U(-0.5, 0.5): mean 0, variance 1/12.
  const auto noise = scaled.select(1, 2) - 128;
  EXPECT_NEAR(noise.mean().item<float>(), 0.0, 0.02);
  EXPECT_NEAR(noise.var().item<float>(), 1.0 / 12, 0.01);
  EXPECT_GT(noise.max().item<float>(), 0.45f);
  EXPECT_LT(noise.min().item<float>(), -0.45f);
}

TEST_F(DequantizeTest, BatchFollowsTheOrderWithFreshNoise) {
  // Example i has every pixel equal to 50 * i.
  const auto images = (torch::arange(5, torch::kLong) * 50)
                          .to(torch::kByte)
                          .unsqueeze(1)
                          .repeat({1, 6});
  const auto order = torch::tensor({4, 0, 3, 1, 2}, torch::kLong);
  iai::data::ImageSplit split;
  split.images = images;
  const auto source =
      iai::data::image_examples(split, iai::data::Preprocessing::kDequantize);
  const auto first = source->batch(order, 0, 2);
  ASSERT_EQ(first.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_NEAR(first[0].mean().item<float>() * 255, 200, 0.5);
  EXPECT_NEAR(first[1].mean().item<float>() * 255, 0, 0.5);
  const auto last = source->batch(order, 2, 2);
  ASSERT_EQ(last.sizes(), (std::vector<int64_t>{1, 6}));
  EXPECT_NEAR(last[0].mean().item<float>() * 255, 100, 0.5);
  // A fresh draw every time the batch is drawn.
  const auto again = source->batch(order, 2, 2);
  EXPECT_FALSE(torch::equal(last, again));
  EXPECT_NEAR((last - again).abs().max().item<float>() * 255, 0.5, 0.5);
}

}  // namespace

namespace {

using BinarizeTest = iai::testing::Seeded;

// Dynamic binarisation (Bernoulli likelihoods): each pixel is 1 with
// probability its intensity / 255, drawn afresh every time a batch is drawn.
TEST_F(BinarizeTest, MeanIsThePixelIntensityAndEveryDrawIsFresh) {
  // 2000 copies of the intensities 0, 51, 128, 204, 255.
  const std::vector<int64_t> levels = {0, 51, 128, 204, 255};
  iai::data::ImageSplit split;
  split.images =
      torch::tensor(levels, torch::kLong).to(torch::kByte).repeat({2000, 1});
  const auto source =
      iai::data::image_examples(split, iai::data::Preprocessing::kBinarize);
  const auto order = torch::arange(2000, torch::kLong);
  const auto x = source->batch(order, 0, 2000);
  EXPECT_EQ(x.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(x, x.round())) << "values other than 0 and 1";
  for (size_t k = 0; k < levels.size(); ++k) {
    // Standard error sqrt(p (1 - p) / 2000) <= 0.0112: 4 of them.
    EXPECT_NEAR(x.select(1, k).mean().item<double>(), levels[k] / 255.0, 0.045)
        << "intensity " << levels[k];
  }
  // A second draw of the same batch is another binarisation: about
  // 2 p (1 - p) of the mid-grey pixels differ, none of the black or white.
  const auto again = source->batch(order, 0, 2000);
  const auto differ = (x != again).to(torch::kDouble).mean(0);
  EXPECT_NEAR(differ[2].item<double>(), 2 * 0.502 * 0.498, 0.05);
  EXPECT_EQ(differ[0].item<double>(), 0.0);
  EXPECT_EQ(differ[4].item<double>(), 0.0);
}

}  // namespace

namespace {

using BinarizeDrawsTest = iai::testing::Seeded;

// Binarisation draws exactly what torch::bernoulli(pixel / 255) draws, and
// leaves the generator where it leaves it (runs and checkpoints written
// before keep their numbers), also when the batch is spread over processes.
TEST_F(BinarizeDrawsTest, SameDrawsAndGeneratorStateAsTorchBernoulli) {
  // Every byte value, in a random 37 x 29 batch (an odd row length).
  const auto images =
      torch::randint(0, 256, {37, 29}, torch::kLong).to(torch::kByte);
  images.view(-1)
      .narrow(0, 37 * 29 - 256, 256)
      .copy_(torch::arange(256, torch::kLong).to(torch::kByte));
  const auto state = iai::rng_state();
  const auto expected = torch::bernoulli(images.to(torch::kFloat) / 255.0);
  const auto next = torch::randint(0, 1 << 30, {4}, torch::kLong);

  iai::set_rng_state(state);
  const auto x = iai::data::binarize(images);
  EXPECT_TRUE(torch::equal(x, expected));
  EXPECT_TRUE(
      torch::equal(torch::randint(0, 1 << 30, {4}, torch::kLong), next));

  // Rows 10..21 of the 37, as one of several processes draws them.
  iai::set_rng_state(state);
  {
    const iai::ScopedBatchShard shard({10, 12, 37});
    const auto part = iai::data::binarize(images.narrow(0, 10, 12));
    EXPECT_TRUE(torch::equal(part, expected.narrow(0, 10, 12)));
  }
  EXPECT_TRUE(
      torch::equal(torch::randint(0, 1 << 30, {4}, torch::kLong), next));
}

}  // namespace
