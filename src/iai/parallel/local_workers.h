#pragma once
// `--nproc-per-node N`: this program started N times on this machine as the
// workers of one job (RANK 0..N-1, WORLD_SIZE N, LOCAL_RANK, MASTER_ADDR
// 127.0.0.1, MASTER_PORT a free port unless MASTER_PORT is set), as torchrun
// would. The launcher waits for them; when one fails it stops the others at
// once, so the job ends with one message, that worker's.

#include <string>
#include <vector>

namespace iai::parallel {

/// Runs `args` (the command line without the program name and without
/// --nproc-per-node) as `workers` processes of this program and waits.
/// SIGINT and SIGTERM are passed on to every worker. Returns the exit code
/// of the job: 0 when every worker succeeded, else the first failing one's
/// (128 + signal for a worker killed by a signal, after a message naming it).
int run_local_workers(int workers, const std::vector<std::string>& args);

/// A TCP port on 127.0.0.1 free at the time of asking.
int free_local_port();

}  // namespace iai::parallel
