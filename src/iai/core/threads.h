#pragma once
// Thread control. Debian's LibTorch runs its GEMMs on OpenBLAS (OpenMP build);
// the thread count is set explicitly, never left to the environment's guess.

#include <optional>
#include <string>

namespace iai {

/// Sets the intra-op thread count (OpenMP, hence OpenBLAS too). `threads` = 0
/// means one per CPU this process may use (usable_cpus()). Returns the count
/// in force afterwards.
int set_threads(int threads);

/// The CPUs this process may actually run on: its affinity mask (taskset,
/// cpusets, Slurm's binding), capped by a cgroup CPU quota (a container's
/// --cpus, a scheduler's limit), never the host's core count when either is
/// smaller. More threads than that only wait for each other.
int usable_cpus();

/// The CPUs a cgroup quota allows, rounded up, from the text of a cgroup v2
/// `cpu.max` ("max 100000" or "150000 100000"); nullopt when unlimited or
/// unreadable.
std::optional<int> cpus_from_cgroup_v2(const std::string& cpu_max);
/// The same from cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (a
/// quota of -1 is unlimited).
std::optional<int> cpus_from_cgroup_v1(long long quota_us, long long period_us);

}  // namespace iai
