#pragma once
// Which worker of a job this process is, read from its environment as
// PyTorch's launchers set it: torchrun's RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT (also what `--nproc-per-node` sets for the
// workers it starts), or Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID
// when those are set and torchrun's are not. Checked before any work.

#include <functional>
#include <string>

namespace iai::parallel {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  /// Where rank 0 serves the rendezvous (only read when world_size > 1).
  std::string master_addr;
  int master_port = 0;
  /// "torchrun", "slurm" or "" (one process).
  std::string source;
  bool distributed() const { return world_size > 1; }
};

/// Reads a variable; nullptr when unset (std::getenv by default).
using EnvLookup = std::function<const char*(const char*)>;

/// This process's place in the job. Throws iai::Error naming the variable
/// for a value that is not a number, a RANK outside [0, WORLD_SIZE), a
/// WORLD_SIZE below 1, a RANK without WORLD_SIZE (or the other way round) or
/// a job of several processes without MASTER_ADDR / MASTER_PORT.
LaunchEnv read_launch_env(const EnvLookup& lookup = nullptr);

/// The launch flags every computing command takes (not part of a run's
/// config: a run may resume on another number of processes).
struct LaunchOptions {
  /// > 0: start this many local workers of this command and wait for them.
  int nproc_per_node = 0;
  /// Seconds a worker waits for the others (rendezvous, every collective
  /// operation) before the job stops with an error naming the missing rank.
  double dist_timeout = 300;
};

}  // namespace iai::parallel
