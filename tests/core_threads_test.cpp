// The thread policy: threads = 0 means the CPUs this process may use (its
// affinity mask, capped by a cgroup quota), not the host's core count.

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <sched.h>

#include "iai/core/threads.h"

namespace {

TEST(Threads, CgroupV2QuotaRoundsUpAndMaxIsUnlimited) {
  EXPECT_FALSE(iai::cpus_from_cgroup_v2("max 100000").has_value());
  EXPECT_EQ(iai::cpus_from_cgroup_v2("150000 100000"), 2);
  EXPECT_EQ(iai::cpus_from_cgroup_v2("200000 100000"), 2);
  EXPECT_EQ(iai::cpus_from_cgroup_v2("50000 100000"), 1);
  EXPECT_FALSE(iai::cpus_from_cgroup_v2("").has_value());
  EXPECT_FALSE(iai::cpus_from_cgroup_v2("lots 100000").has_value());
}

TEST(Threads, CgroupV1QuotaOfMinusOneIsUnlimited) {
  EXPECT_FALSE(iai::cpus_from_cgroup_v1(-1, 100000).has_value());
  EXPECT_EQ(iai::cpus_from_cgroup_v1(250000, 100000), 3);
  EXPECT_EQ(iai::cpus_from_cgroup_v1(1000, 100000), 1);
}

// Pinned to one CPU (taskset -c 0, a Slurm binding), the default thread
// count is 1 whatever the host has.
TEST(Threads, DefaultThreadsFollowTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int cpus = iai::usable_cpus();
  const int threads = iai::set_threads(0);
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(cpus, 1);
  EXPECT_EQ(threads, 1);
  EXPECT_LE(iai::usable_cpus(), CPU_COUNT(&saved));  // mask restored
  EXPECT_GE(iai::usable_cpus(), 1);
  EXPECT_EQ(iai::set_threads(2), 2);
  at::set_num_threads(1);
}

}  // namespace
