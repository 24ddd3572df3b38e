#include "iai/parallel/launch.h"

#include "iai/core/error.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace iai::parallel {

namespace {

/// The variable as an integer in [low, high], or an error naming it.
int integer(const EnvLookup& get, const char* name, long low, long high) {
  const char* text = get(name);
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  IAI_CHECK(*text != '\0' && *end == '\0' && errno == 0 && value >= low &&
                value <= high,
            "environment variable ", name, "='", text, "' must be an integer ",
            high == INT_MAX ? message("of at least ", low)
                            : message("from ", low, " to ", high));
  return static_cast<int>(value);
}

bool set(const EnvLookup& get, const char* name) {
  return get(name) != nullptr;
}

}  // namespace

LaunchEnv read_launch_env(const EnvLookup& lookup) {
  const EnvLookup get = lookup ? lookup : [](const char* n) -> const char* {
    return std::getenv(n);
  };
  LaunchEnv env;
  const char *rank_var = "RANK", *size_var = "WORLD_SIZE",
             *local_var = "LOCAL_RANK";
  if (set(get, "WORLD_SIZE") || set(get, "RANK")) {
    env.source = "torchrun";
  } else if (set(get, "SLURM_NTASKS") && set(get, "SLURM_PROCID")) {
    env.source = "slurm";
    rank_var = "SLURM_PROCID";
    size_var = "SLURM_NTASKS";
    local_var = "SLURM_LOCALID";
  } else {
    return env;  // one process
  }
  IAI_CHECK(set(get, size_var) && set(get, rank_var), size_var, " and ",
            rank_var,
            " go together: ", set(get, size_var) ? rank_var : size_var,
            " is not set");
  env.world_size = integer(get, size_var, 1, INT_MAX);
  env.rank = integer(get, rank_var, 0, env.world_size - 1);
  env.local_rank =
      set(get, local_var) ? integer(get, local_var, 0, INT_MAX) : env.rank;
  if (!env.distributed()) return env;
  IAI_CHECK(set(get, "MASTER_ADDR") && *get("MASTER_ADDR") != '\0', "a job of ",
            env.world_size, " processes (", size_var,
            ") needs MASTER_ADDR: the host name or address of the machine "
            "running rank 0",
            env.source == "slurm"
                ? " (e.g. the first of `scontrol show hostnames`)"
                : "");
  IAI_CHECK(set(get, "MASTER_PORT"), "a job of ", env.world_size,
            " processes (", size_var,
            ") needs MASTER_PORT: a free TCP port on the MASTER_ADDR machine");
  env.master_addr = get("MASTER_ADDR");
  env.master_port = integer(get, "MASTER_PORT", 1, 65535);
  return env;
}

}  // namespace iai::parallel
