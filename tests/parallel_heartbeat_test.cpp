// The UDP heartbeat that names a stopped rank (parallel/heartbeat.h).
#include "iai/parallel/heartbeat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

namespace {

using iai::parallel::Heartbeat;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

/// Polls `holds` until it does (true) or 60 s have passed (false): what the
/// tests wait for is a condition, never a fixed time, so a loaded machine
/// only makes them slower.
template <typename F>
bool eventually(F holds) {
  const auto end = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < end) {
    if (holds()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return holds();
}

/// Whether `rank` has heard from `other` at least once: a rank heard from
/// is named by silent() over a window of 0.
bool heard(const Heartbeat& rank, int other) {
  const auto s = rank.silent(milliseconds(0));
  return std::find(s.begin(), s.end(), other) != s.end();
}

/// Three ranks on this machine, each beating to the other two.
std::vector<std::unique_ptr<Heartbeat>> three_ranks(const std::string& host) {
  std::vector<std::unique_ptr<Heartbeat>> ranks;
  std::vector<std::string> addresses;
  for (int r = 0; r < 3; ++r) {
    ranks.push_back(std::make_unique<Heartbeat>(r, 3, host));
    addresses.push_back(ranks.back()->address());
  }
  for (auto& rank : ranks) rank->start(addresses);
  return ranks;
}

TEST(Heartbeat, NamesTheRankThatStoppedAndOnlyIt) {
  auto ranks = three_ranks("127.0.0.1");
  for (const auto& rank : ranks) ASSERT_FALSE(rank->address().empty());
  // Every rank hears the other two.
  for (int r = 0; r < 3; ++r) {
    for (int other = 0; other < 3; ++other) {
      if (other != r) {
        ASSERT_TRUE(eventually([&] { return heard(*ranks[r], other); }))
            << "rank " << r << " never heard from rank " << other;
      }
    }
  }
  ranks[2].reset();  // rank 2 stops beating
  // Ranks 0 and 1 come to name rank 2, and only it: they keep hearing each
  // other.
  EXPECT_TRUE(eventually([&] {
    return ranks[0]->silent(4 * Heartbeat::kPeriod) == std::vector<int>{2} &&
           ranks[1]->silent(4 * Heartbeat::kPeriod) == std::vector<int>{2};
  })) << "rank 0 names "
      << ranks[0]->silent(4 * Heartbeat::kPeriod).size() << " ranks, rank 1 "
      << ranks[1]->silent(4 * Heartbeat::kPeriod).size();
  // A window longer than the silence names nobody.
  EXPECT_TRUE(ranks[0]->silent(milliseconds(60000)).empty());
}

TEST(Heartbeat, AHostNameResolvesToo) {
  auto ranks = three_ranks("localhost");
  // "localhost" may resolve to ::1, which a host without IPv6 on its
  // loopback cannot send from.
  if (ranks[0]->address().empty())
    GTEST_SKIP() << "no socket for localhost here";
  ASSERT_TRUE(eventually([&] { return heard(*ranks[1], 0); }));
  ranks[0].reset();
  EXPECT_TRUE(eventually([&] {
    return ranks[1]->silent(4 * Heartbeat::kPeriod) == std::vector<int>{0};
  }));
}

TEST(Heartbeat, ARankNeverHeardFromIsNotNamed) {
  // Rank 2's datagrams never arrive (as on a network that drops them): it
  // is unknown, not silent, and the caller asks the store instead.
  Heartbeat zero(0, 3, "127.0.0.1"), one(1, 3, "127.0.0.1");
  const std::vector<std::string> addresses = {zero.address(), one.address(),
                                              ""};
  const auto started = Clock::now();
  zero.start(addresses);
  one.start(addresses);
  // Long enough for rank 2 to be named, were a rank never heard from
  // counted as silent since the start; only rank 1 is ever heard.
  ASSERT_TRUE(eventually([&] {
    return heard(zero, 1) && Clock::now() - started > 6 * Heartbeat::kPeriod;
  }));
  const auto named = zero.silent(4 * Heartbeat::kPeriod);
  EXPECT_EQ(std::count(named.begin(), named.end(), 2), 0);
  EXPECT_EQ(zero.silent(milliseconds(0)), std::vector<int>{1});
}

TEST(Heartbeat, AnUnresolvableMasterDisablesItQuietly) {
  Heartbeat lost(0, 2, "");  // no name lookup that could wait on a network
  EXPECT_TRUE(lost.address().empty());
  lost.start({"", "127.0.0.1 9"});
  EXPECT_TRUE(lost.silent(milliseconds(0)).empty());
}

}  // namespace
