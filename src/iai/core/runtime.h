#pragma once
// The runtime group: what every command that computes runs with, apart from
// what it computes. One struct, so a new runtime setting (the device, the
// precision, the launch) is one field here, one entry in the option table
// (train/config/options.cpp) and one line in the CLI's add_runtime_flags, and
// reaches every command's config at once.

#include <cstdint>
#include <string>

namespace iai {

struct RuntimeOptions {
  /// Fixes binarisation, sampling and data order.
  uint64_t seed = 1;
  /// Intra-op CPU threads (0 = one per usable CPU: affinity mask, cgroup
  /// quota).
  int threads = 0;
  /// cpu, cuda, cuda:N or auto (core/device.h), resolved before any work.
  std::string device = "auto";
  /// fp32, tf32 or bf16 (core/precision.h): a GPU's arithmetic.
  std::string precision = "fp32";
};

}  // namespace iai
