#include "iai/core/threads.h"

#include <ATen/Parallel.h>

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace iai {

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

/// This process's cgroup v2 folder ("0::/path" in /proc/self/cgroup).
std::string cgroup_v2_dir() {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("0::", 0) == 0) return "/sys/fs/cgroup" + line.substr(3);
  }
  return "/sys/fs/cgroup";
}

std::optional<int> cgroup_quota_cpus() {
  const std::string v2 = first_line(cgroup_v2_dir() + "/cpu.max");
  if (!v2.empty()) return cpus_from_cgroup_v2(v2);
  const std::string quota = first_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  const std::string period = first_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  if (quota.empty() || period.empty()) return std::nullopt;
  try {
    return cpus_from_cgroup_v1(std::stoll(quota), std::stoll(period));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<int> cpus_from_cgroup_v2(const std::string& cpu_max) {
  std::istringstream in(cpu_max);
  std::string quota;
  long long period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0)
    return std::nullopt;
  try {
    return cpus_from_cgroup_v1(std::stoll(quota), period);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<int> cpus_from_cgroup_v1(long long quota_us,
                                       long long period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  return static_cast<int>(
      std::max(1LL, (quota_us + period_us - 1) / period_us));
}

int usable_cpus() {
  int cpus = 0;
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) cpus = CPU_COUNT(&mask);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (const auto quota = cgroup_quota_cpus()) cpus = std::min(cpus, *quota);
  return std::max(cpus, 1);
}

int set_threads(int threads) {
  at::set_num_threads(threads > 0 ? threads : usable_cpus());
  return at::get_num_threads();
}

}  // namespace iai
