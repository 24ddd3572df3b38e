// The running means an epoch's metrics line and an evaluation report
// (objectives/running_mean.h): each term's sum over the batches divided by
// the examples seen, every level's KL share kept apart.

#include "iai/objectives/running_mean.h"
#include "test_support.h"

namespace {

using iai::objectives::RunningMean;
using iai::objectives::TermValues;

/// Two levels' terms of B examples with known sums.
iai::model::ElboTerms terms_of(const std::vector<double>& kl1,
                               const std::vector<double>& kl2,
                               const std::vector<double>& reconstruction) {
  auto t = [](const std::vector<double>& v) {
    return torch::tensor(v, torch::kDouble);
  };
  iai::model::ElboTerms terms;
  terms.kl_levels = {t(kl1), t(kl2)};
  terms.kl = terms.kl_levels[0] + terms.kl_levels[1];
  terms.reconstruction = t(reconstruction);
  terms.elbo = terms.reconstruction - terms.kl;
  return terms;
}

TEST(RunningMeanTest, MeansAreTheSumsOverTheExamplesOfEveryBatch) {
  RunningMean mean(2);
  // A batch of 3, then one of 1: means over 4 examples, not over 2 batches.
  mean.add(terms_of({1, 2, 3}, {0.5, 0.5, 0.5}, {-10, -20, -30}));
  mean.add(terms_of({4}, {2.5}, {-60}));
  EXPECT_EQ(mean.examples(), 4);
  const TermValues m = mean.means();
  EXPECT_DOUBLE_EQ(m.reconstruction, -120.0 / 4);
  EXPECT_DOUBLE_EQ(m.kl, (10.0 + 4.0) / 4);
  EXPECT_DOUBLE_EQ(m.elbo, (-120.0 - 14.0) / 4);
  ASSERT_EQ(m.kl_levels.size(), 2u);
  EXPECT_DOUBLE_EQ(m.kl_levels[0], 10.0 / 4);
  EXPECT_DOUBLE_EQ(m.kl_levels[1], 4.0 / 4);
  EXPECT_DOUBLE_EQ(mean.elbo(), m.elbo);
  EXPECT_DOUBLE_EQ(mean.kl(), m.kl);
  // The sums a checkpoint saves restore the means exactly.
  RunningMean restored(2);
  restored.add(mean.sums(), mean.examples());
  EXPECT_DOUBLE_EQ(restored.means().elbo, m.elbo);
  EXPECT_DOUBLE_EQ(restored.means().kl_levels[1], m.kl_levels[1]);
}

TEST(RunningMeanTest, BatchSumsReadBackInTheirOrder) {
  const auto terms = terms_of({1, 2}, {3, 4}, {-5, -6});
  const auto packed = iai::objectives::batch_sums_tensor(terms);
  ASSERT_EQ(packed.numel(), 5);
  const TermValues s = iai::objectives::sums_from(packed.data_ptr<double>(), 5);
  EXPECT_DOUBLE_EQ(s.elbo, -11.0 - 10.0);
  EXPECT_DOUBLE_EQ(s.reconstruction, -11.0);
  EXPECT_DOUBLE_EQ(s.kl, 10.0);
  EXPECT_EQ(s.kl_levels, (std::vector<double>{3.0, 7.0}));
  const TermValues read = iai::objectives::batch_sums(terms);
  EXPECT_DOUBLE_EQ(read.elbo, s.elbo);
  EXPECT_EQ(read.kl_levels, s.kl_levels);
}

}  // namespace
