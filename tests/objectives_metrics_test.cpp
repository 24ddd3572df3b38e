// Tests of bits per dimension and perplexity against worked examples done by
// hand.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "iai/core/error.h"
#include "iai/objectives/metrics.h"
#include "test_support.h"

namespace {

using iai::objectives::bits_per_dim;
using iai::objectives::discrete_nll;
using iai::objectives::perplexity;
using iai::objectives::perplexity_bound;
using iai::testing::contains;
using iai::testing::error_of;

TEST(BitsPerDim, UniformDensityIsEightBits) {
  // p = 1 on [0,1]^D is the uniform over 256 values per pixel: 8 bits each.
  EXPECT_NEAR(discrete_nll(0.0, 1), std::log(256.0), 1e-12);
  EXPECT_NEAR(discrete_nll(0.0, 1), 5.545177444479562, 1e-12);
  EXPECT_NEAR(bits_per_dim(0.0, 1), 8.0, 1e-12);
  EXPECT_NEAR(bits_per_dim(0.0, 3072), 8.0, 1e-12);
}

TEST(BitsPerDim, WorkedExamples) {
  // Density 2 per dimension, D = 4: log p = 4 ln 2;
  // nll = -4 ln 2 + 4 * 8 ln 2 = 28 ln 2; bits/dim = 28 ln 2 / (4 ln 2) = 7.
  EXPECT_NEAR(discrete_nll(4 * std::log(2.0), 4), 28 * std::log(2.0), 1e-12);
  EXPECT_NEAR(bits_per_dim(4 * std::log(2.0), 4), 7.0, 1e-12);
  // CIFAR-sized, log p = 1000 nats: 8 - 1000 / (3072 ln 2).
  EXPECT_NEAR(bits_per_dim(1000.0, 3072), 7.5303727080439575, 1e-12);
  // MNIST-sized, log p = -2000 nats: (2000 + 784 ln 256) / (784 ln 2).
  EXPECT_NEAR(bits_per_dim(-2000.0, 784), 11.680344492063682, 1e-12);
}

TEST(BitsPerDim, TensorVersionIsElementwise) {
  const auto log_px = torch::tensor({0.0f, 4 * std::log(2.0f), -4.0f});
  const auto bits = bits_per_dim(log_px, 4);
  EXPECT_EQ(bits.scalar_type(), torch::kDouble);
  EXPECT_EQ(bits.sizes(), log_px.sizes());
  EXPECT_NEAR(bits[0].item<double>(), 8.0, 1e-6);
  EXPECT_NEAR(bits[1].item<double>(), 7.0, 1e-6);
  EXPECT_NEAR(bits[2].item<double>(), 8.0 + 1.0 / std::log(2.0), 1e-6);
}

TEST(BitsPerDim, NonPositiveDimsAreRejected) {
  EXPECT_TRUE(contains(error_of([] { bits_per_dim(0.0, 0); }),
                       "must be positive, got 0"));
  EXPECT_TRUE(contains(error_of([] { bits_per_dim(torch::zeros({2}), -1); }),
                       "must be positive, got -1"));
}

TEST(Perplexity, WorkedExamples) {
  // Two documents of 5 words, log p = -10 and -20: exp(30 / 10) = e^3.
  EXPECT_NEAR(
      perplexity(torch::tensor({-10.0, -20.0}), torch::tensor({5.0, 5.0})),
      20.085536923187668, 1e-9);
  EXPECT_NEAR(perplexity(30.0, 10.0), 20.085536923187668, 1e-9);
  // Totals, not a mean of per-document perplexities: log p = -4 and -6 over
  // 2 and 8 words give exp(10 / 10) = e, while the per-document values
  // exp(2) and exp(0.75) average to about 4.75.
  EXPECT_NEAR(perplexity(torch::tensor({-4.0f, -6.0f}),
                         torch::tensor({2, 8}, torch::kLong)),
              2.718281828459045, 1e-6);
}

TEST(Perplexity, BoundFromTheElbo) {
  // ELBO -12 and -23 over 5 + 5 words: exp(35 / 10) = e^3.5, above the
  // e^3 of the true log-likelihoods -10 and -20.
  const auto words = torch::tensor({5.0, 5.0});
  const double bound = perplexity_bound(torch::tensor({-12.0, -23.0}), words);
  EXPECT_NEAR(bound, 33.11545195869231, 1e-9);
  EXPECT_GT(bound, perplexity(torch::tensor({-10.0, -20.0}), words));
}

TEST(Perplexity, BadInputsAreRejected) {
  EXPECT_TRUE(contains(error_of([] { perplexity(1.0, 0.0); }),
                       "total word count is 0"));
  EXPECT_TRUE(
      contains(error_of([] {
                 perplexity(torch::tensor({-1.0, -2.0}), torch::tensor({1.0}));
               }),
               "one of each per document"));
  EXPECT_TRUE(contains(
      error_of([] {
        perplexity_bound(torch::tensor({-1.0}), torch::tensor({1.0, 2.0}));
      }),
      "the ELBO has shape [1]"));
}

}  // namespace
