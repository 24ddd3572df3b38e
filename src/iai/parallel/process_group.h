#pragma once
// The workers of one job, connected through LibTorch's c10d: a TCPStore
// rendezvous served by rank 0 at MASTER_ADDR:MASTER_PORT and a process group
// over it for the device the job computes on: Gloo for the CPU, NCCL for
// GPUs (one GPU a process). What training and evaluation need of it:
// summing tensors over the ranks in one flat bucket, broadcasting rank 0's
// tensors, gathering rows on rank 0. Every operation waits at most the
// job's timeout; a rank that died or hangs makes it throw iai::Error naming
// that rank. Built without c10d (a LibTorch with USE_DISTRIBUTED off), only
// single-process runs work and connect() says so; built without one of the
// two process groups, a job on that kind of device says so.

#include "iai/parallel/launch.h"

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace iai::parallel {

class ProcessGroup {
 public:
  /// Joins the job `env` describes (env.distributed()): waits up to
  /// timeout_seconds for every rank. Throws iai::Error for a port in use, a
  /// master that cannot be reached, or ranks that do not come.
  static std::unique_ptr<ProcessGroup> connect(const LaunchEnv& env,
                                               double timeout_seconds);
  ~ProcessGroup();

  int rank() const;
  int size() const;
  /// This process's rank among those on its machine (LOCAL_RANK).
  int local_rank() const;

  /// The job computes on `device`: its sums go through Gloo for the CPU and
  /// through NCCL for a GPU, made here (every rank calls this at the same
  /// point). Throws iai::Error where this build lacks that process group.
  /// Sums and broadcasts before any call run through Gloo.
  void compute_on(const torch::Device& device);
  /// "gloo", "nccl", or "" before the first operation.
  std::string backend() const;

  /// Sums the tensors over all ranks, in place, as one flat bucket: one
  /// all-reduce for the lot. `what` names the operation in errors. The
  /// tensors may lie on the host or the job's device: the bucket is made on
  /// the device the process group takes, and each result copied back.
  void sum(const std::vector<torch::Tensor>& tensors, const char* what);
  /// Rank 0's values into every rank's tensors, in place (one flat bucket).
  void broadcast(const std::vector<torch::Tensor>& tensors, const char* what);
  /// On rank 0: every rank's `rows` (R_r, ...) concatenated in rank order;
  /// elsewhere: an undefined tensor. Ranks may hold different numbers of
  /// rows (trailing dimensions equal).
  torch::Tensor gather_rows(const torch::Tensor& rows, const char* what);

  /// Rank 0's `value` on every rank (a short text: a run folder's name),
  /// through the rendezvous store.
  std::string agree(const std::string& name, const std::string& value);

  /// Bytes this process sent into sums and broadcasts (payload), and the
  /// seconds spent waiting in them.
  int64_t bytes_communicated() const;
  double seconds_communicating() const;

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// This process's job: set once by the CLI at launch; nullptr in a
/// single-process run.
ProcessGroup* world();
void set_world(std::unique_ptr<ProcessGroup> group);

/// A group's rank and size; a null group is a single process (0 and 1).
int rank_of(const ProcessGroup* group);
int size_of(const ProcessGroup* group);
/// world()'s rank and size (0 and 1 in a single-process run).
int world_rank();
int world_size();
/// Whether this process writes the run's files and progress: rank 0.
inline bool is_root() {
  return world_rank() == 0;
}
/// "4 processes x " in a job of several processes, else "": what the
/// commands' start lines put before the thread count.
std::string processes_label();

/// Whether this build can run several processes (LibTorch with c10d and
/// Gloo or NCCL), and which of the two process groups it has.
bool distributed_available();
bool gloo_available();
bool nccl_available();

/// The device a command of this process computes on, for its --device
/// value: resolve_device's answer, except that in a job of several
/// processes a GPU is the one of this process's LOCAL_RANK (modulo the GPUs
/// it sees), so that the processes on one machine share its GPUs out one
/// each. In a job the process group is then made for that device
/// (ProcessGroup::compute_on): one iai::Error where this build cannot sum
/// there.
torch::Device job_device(const std::string& requested);

}  // namespace iai::parallel
