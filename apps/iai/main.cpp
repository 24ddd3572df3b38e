// Thin entry point: everything lives in the library and iai_cli.
#include "cli.h"

#include "iai/cpu/allocator.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

namespace {

/// OpenMP threads that spin at every barrier starve another job on the same
/// cores: beside one busy loop on a 2-core machine, libgomp's default spin
/// kept 12-19% of a 2-thread training step's idle speed (bench/
/// contention.sh). Once iai's products ran on oneDNN and its own loops on
/// both threads (more parallel regions a step), 10,000 spins before
/// sleeping kept 30-37% and 3,000 keep 47-49%, at a 4-10% cost when idle.
/// libgomp reads its policy once, when it loads, before main: so when the
/// user has set none, iai sets GOMP_SPINCOUNT and runs itself again, once,
/// for the commands that compute. OMP_WAIT_POLICY=PASSIVE keeps 70-90% on a
/// shared machine at up to 50% idle cost; set it (or GOMP_SPINCOUNT) to
/// choose.
void choose_openmp_wait_policy(char** argv) {
  static const char* const computing[] = {"train", "eval",  "infer",  "compare",
                                          "gap",   "sweep", "surface"};
  if (argv[1] == nullptr || std::getenv("OMP_WAIT_POLICY") != nullptr ||
      std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  for (const char* command : computing) {
    if (std::strcmp(argv[1], command) != 0) continue;
    setenv("GOMP_SPINCOUNT", "3000", /*overwrite=*/1);
    execv("/proc/self/exe", argv);  // returns only on failure: go on as is
    return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  choose_openmp_wait_policy(argv);
  iai::keep_freed_memory();
  return iai::cli::run(std::vector<std::string>(argv + 1, argv + argc));
}
