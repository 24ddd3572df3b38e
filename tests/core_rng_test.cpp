// The run's one generator (core/rng.h), whose saved state resumes the same
// draws; the stop request of SIGINT / SIGTERM (core/interrupt.h); and the
// durations progress lines print (report/progress.h).

#include <csignal>

#include "iai/core/interrupt.h"
#include "iai/core/rng.h"
#include "iai/report/progress.h"
#include "test_support.h"

namespace {

TEST(RngTest, ASavedStateDrawsTheSameNumbersAgain) {
  iai::seed_everything(42);
  const auto first = torch::rand({5});
  iai::seed_everything(42);
  EXPECT_TRUE(torch::equal(torch::rand({5}), first));
  const auto state = iai::rng_state();
  const auto next = torch::randn({7});
  EXPECT_FALSE(torch::equal(torch::randn({7}), next));
  iai::set_rng_state(state);
  EXPECT_TRUE(torch::equal(torch::randn({7}), next));
  iai::seed_everything(43);
  EXPECT_FALSE(torch::equal(torch::rand({5}), first));
}

/// The handler installed for one test, the default ones back after it.
class InterruptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    iai::clear_interrupt();
    iai::install_interrupt_handler();
  }
  void TearDown() override {
    iai::clear_interrupt();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
  }
};

TEST_F(InterruptTest, TheFirstSignalAsksToStopAndNamesItself) {
  EXPECT_FALSE(iai::interrupt_requested());
  std::raise(SIGTERM);
  EXPECT_TRUE(iai::interrupt_requested());
  EXPECT_EQ(iai::interrupt_signal(), SIGTERM);
  iai::clear_interrupt();
  EXPECT_FALSE(iai::interrupt_requested());
  EXPECT_EQ(iai::interrupt_signal(), 0);
  std::raise(SIGINT);
  EXPECT_EQ(iai::interrupt_signal(), SIGINT);
}

TEST_F(InterruptTest, ASecondSignalEndsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::raise(SIGINT);
        std::raise(SIGTERM);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

TEST(ProgressTest, DurationsInSecondsMinutesAndHours) {
  EXPECT_EQ(iai::report::format_duration(12.34), "12.3s");
  EXPECT_EQ(iai::report::format_duration(185), "3m05s");
  EXPECT_EQ(iai::report::format_duration(3720), "1h02m");
}

}  // namespace
