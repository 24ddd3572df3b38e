// The iterative encoder's inputs and update (REFERENCE.md, "encoding forms").

#include <cmath>

#include "iai/inference/gradient_encoding.h"
#include "iai/inference/iterative_encoder.h"
#include "iai/inference/standard_encoder.h"
#include "test_support.h"

namespace {

using iai::inference::Posterior;
using IterativeEncoderTest = iai::testing::Seeded;

TEST_F(IterativeEncoderTest, GradientEncodingIsLogMagnitudeAndSign) {
  Posterior g{torch::tensor({{0.5, -2e-6, 0.0}}),
              torch::tensor({{-3.0, 1e-3, 4.0}})};
  auto e = iai::inference::encode_gradient(g);
  auto expected = torch::tensor(
      {{std::log(0.5 + 1e-5), std::log(2e-6 + 1e-5), std::log(1e-5),
        1.0, -1.0, 0.0,
        std::log(3.0 + 1e-5), std::log(1e-3 + 1e-5), std::log(4.0 + 1e-5),
        -1.0, 1.0, 1.0}});
  EXPECT_TRUE(torch::allclose(e, expected, 1e-6, 1e-6)) << e;
}

TEST_F(IterativeEncoderTest, HighwayUpdateInterpolates) {
  auto cur = torch::tensor({1.0, 2.0}), prop = torch::tensor({3.0, -2.0});
  auto gate = torch::tensor({0.25, 1.0});
  EXPECT_TRUE(torch::allclose(iai::inference::highway_update(cur, prop, gate),
                              torch::tensor({2.5, 2.0})));
}

TEST_F(IterativeEncoderTest, UpdateReadsGradientLambdaAndDataAndClampsLogvar) {
  const int64_t D = 7, Z = 3;
  iai::inference::IterativeEncoderImpl with_data(
      iai::inference::EncoderOptions(D, Z).hidden(8).layers(1));
  iai::inference::IterativeEncoderImpl without_data(
      iai::inference::EncoderOptions(D, Z).hidden(8).layers(1).encode_data(
          false));
  EXPECT_EQ(with_data.input_features(), 6 * Z + D);
  EXPECT_EQ(without_data.input_features(), 6 * Z);

  auto x = torch::rand({2, D});
  Posterior cur{torch::randn({2, Z}), torch::randn({2, Z})};
  Posterior g{torch::randn({2, Z}), torch::randn({2, Z})};
  auto a = with_data.update(x, cur, g);
  // Each input matters: change one and lambda_{t+1} changes.
  Posterior g2{g.mu * 3, g.logvar};
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(x, cur, g2).mu));
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(1 - x, cur, g).mu));
  Posterior cur2{cur.mu + 1, cur.logvar};
  EXPECT_FALSE(torch::allclose(a.mu, with_data.update(x, cur2, g).mu));

  // A huge current log-variance stays within the clamp.
  Posterior wild{cur.mu, torch::full({2, Z}, 1e4)};
  auto out = with_data.update(x, wild, g);
  EXPECT_LE(out.logvar.max().item<double>(), iai::inference::kMaxLogvar);

  auto msg = iai::testing::error_of([&] { with_data.update(x, cur, {}); });
  EXPECT_TRUE(iai::testing::contains(msg, "needs the ELBO's gradient"));
}

TEST_F(IterativeEncoderTest, StandardEncoderIgnoresLambdaAndGradient) {
  iai::inference::StandardEncoderImpl enc(
      iai::inference::EncoderOptions(5, 2).hidden(6).layers(1));
  auto x = torch::rand({3, 5});
  Posterior a{torch::randn({3, 2}), torch::randn({3, 2})};
  Posterior b{torch::randn({3, 2}), torch::randn({3, 2})};
  auto ya = enc.update(x, a, a), yb = enc.update(x, b, b);
  EXPECT_TRUE(torch::equal(ya.mu, yb.mu));
  EXPECT_FALSE(enc.needs_gradient());
}

}  // namespace
