// The UDP heartbeat that names a stopped rank (parallel/heartbeat.h).
#include "iai/parallel/heartbeat.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace {

using iai::parallel::Heartbeat;
using std::chrono::milliseconds;

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
  std::this_thread::sleep_for(4 * Heartbeat::kPeriod);
  for (const auto& rank : ranks) {
    EXPECT_TRUE(rank->silent(4 * Heartbeat::kPeriod).empty());
  }
  ranks[2].reset();  // rank 2 stops beating
  std::this_thread::sleep_for(6 * Heartbeat::kPeriod);
  EXPECT_EQ(ranks[0]->silent(4 * Heartbeat::kPeriod), std::vector<int>{2});
  EXPECT_EQ(ranks[1]->silent(4 * Heartbeat::kPeriod), std::vector<int>{2});
  // A window longer than the silence names nobody.
  EXPECT_TRUE(ranks[0]->silent(milliseconds(60000)).empty());
}

TEST(Heartbeat, AHostNameResolvesToo) {
  auto ranks = three_ranks("localhost");
  std::this_thread::sleep_for(2 * Heartbeat::kPeriod);
  ranks[0].reset();
  std::this_thread::sleep_for(6 * Heartbeat::kPeriod);
  EXPECT_EQ(ranks[1]->silent(4 * Heartbeat::kPeriod), std::vector<int>{0});
}

TEST(Heartbeat, ARankNeverHeardFromIsNotNamed) {
  // Rank 2's datagrams never arrive (as on a network that drops them): it
  // is unknown, not silent, and the caller asks the store instead.
  Heartbeat zero(0, 3, "127.0.0.1"), one(1, 3, "127.0.0.1");
  const std::vector<std::string> addresses = {zero.address(), one.address(),
                                              ""};
  zero.start(addresses);
  one.start(addresses);
  std::this_thread::sleep_for(6 * Heartbeat::kPeriod);
  EXPECT_TRUE(zero.silent(4 * Heartbeat::kPeriod).empty());
}

TEST(Heartbeat, AnUnresolvableMasterDisablesItQuietly) {
  Heartbeat lost(0, 2, "");  // no name lookup that could wait on a network
  EXPECT_TRUE(lost.address().empty());
  lost.start({"", "127.0.0.1 9"});
  EXPECT_TRUE(lost.silent(milliseconds(0)).empty());
}

}  // namespace
