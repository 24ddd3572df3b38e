#include "iai/parallel/process_group.h"

#include "iai/core/error.h"
#include "iai/parallel/heartbeat.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#ifdef IAI_HAVE_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace iai::parallel {

namespace {

std::unique_ptr<ProcessGroup>& world_slot() {
  static std::unique_ptr<ProcessGroup> group;
  return group;
}

using Clock = std::chrono::steady_clock;

/// The first line of a LibTorch error, without its C++ backtrace.
[[maybe_unused]] std::string first_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10 ? c10->what_without_backtrace() : e.what();
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

ProcessGroup* world() {
  return world_slot().get();
}
void set_world(std::unique_ptr<ProcessGroup> group) {
  world_slot() = std::move(group);
}
int rank_of(const ProcessGroup* group) {
  return group ? group->rank() : 0;
}
int size_of(const ProcessGroup* group) {
  return group ? group->size() : 1;
}
int world_rank() {
  return rank_of(world());
}
int world_size() {
  return size_of(world());
}

std::string processes_label() {
  return world_size() > 1 ? message(world_size(), " processes x ")
                          : std::string();
}

void require_host_device(bool device_is_cpu) {
  IAI_CHECK(world_size() == 1 || device_is_cpu,
            "a job of several processes computes on the CPU (its sums go "
            "through Gloo; NCCL for GPUs is not built yet): use --device cpu "
            "with --nproc-per-node or a launch of several processes");
}

#ifdef IAI_HAVE_C10D

bool distributed_available() {
  return true;
}

struct ProcessGroup::Impl {
  int rank = 0, size = 1;
  std::string master;  // "addr:port", for messages
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  /// A collective operation failed: the group is not torn down (its
  /// threads may wait on the missing rank for ever); the process ends.
  bool broken = false;
  int64_t operations = 0;  // collective operations this rank has entered
  int64_t bytes = 0;
  double seconds = 0;
  /// Who is still there, heard over UDP (heartbeat.h says why not
  /// through the store).
  std::unique_ptr<Heartbeat> heartbeat;

  /// Every rank publishes its heartbeat address in the store and reads the
  /// others' (each get waits until that rank has set it).
  void start_heartbeat(const std::string& master_host) {
    heartbeat = std::make_unique<Heartbeat>(rank, size, master_host);
    const std::string& mine = heartbeat->address();
    store->set("iai/heartbeat/" + std::to_string(rank),
               std::vector<uint8_t>(mine.begin(), mine.end()));
    std::vector<std::string> peers(size);
    for (int r = 0; r < size; ++r) {
      if (r == rank) continue;
      const auto v = store->get("iai/heartbeat/" + std::to_string(r));
      peers[r].assign(v.begin(), v.end());
    }
    heartbeat->start(peers);
  }

  std::string rank_name(int r) const {
    return r == 0 ? "rank 0 (the master at " + master + ")"
                  : "rank " + std::to_string(r);
  }

  std::string seconds_text() const {
    return message(std::chrono::duration<double>(timeout).count(), " s");
  }

  /// Which ranks are gone: those whose heartbeat stopped, else those that
  /// have not entered this rank's current operation (from the counters
  /// every rank leaves in the store before each operation).
  std::string missing_ranks() {
    // A rank that stops now is silent for a whole window from here on.
    const auto window = 4 * Heartbeat::kPeriod;
    std::this_thread::sleep_for(window);
    std::string names;
    for (int r : heartbeat->silent(window)) {
      names += (names.empty() ? "" : ", ") + rank_name(r);
    }
    if (!names.empty()) return names;
    try {
      store->setTimeout(std::chrono::milliseconds(2000));
      for (int r = 0; r < size; ++r) {
        if (r == rank) continue;
        const std::string key = "iai/at/" + std::to_string(r);
        int64_t at = 0;
        if (store->check({key})) {
          const auto v = store->get(key);
          at = std::stoll(std::string(v.begin(), v.end()));
        }
        if (at < operations) {
          names += (names.empty() ? "" : ", ") + rank_name(r);
        }
      }
      return names.empty() ? std::string("another rank") : names;
    } catch (const std::exception& e) {
      // The store lives in rank 0: unreachable from another rank means
      // rank 0 is gone.
      if (rank != 0) return rank_name(0);
      return "another rank (the store could not tell which: " + first_line(e) +
             ")";
    }
  }

  /// Runs one collective operation and waits for it, with this rank's
  /// counter left in the store first so a failure can name who is missing.
  void run(const char* what, const std::vector<at::Tensor>& buffers,
           bool broadcast) {
    ++operations;
    const auto start = Clock::now();
    try {
      const std::string count = std::to_string(operations);
      store->set("iai/at/" + std::to_string(rank),
                 std::vector<uint8_t>(count.begin(), count.end()));
      std::vector<at::Tensor> tensors = buffers;
      auto work =
          broadcast ? group->broadcast(tensors) : group->allreduce(tensors);
      IAI_CHECK(work->wait(timeout), "timed out");
    } catch (const std::exception& e) {
      broken = true;
      throw Error(message(missing_ranks(), " stopped answering during ", what,
                          " (each rank waits up to --dist-timeout ",
                          seconds_text(), "; LibTorch: ", first_line(e), ")"));
    }
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto& b : buffers) bytes += b.numel() * b.element_size();
  }
};

namespace {

bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

/// The network interface Gloo talks over: GLOO_SOCKET_IFNAME when set (as
/// in PyTorch), the loopback one for a job on one machine, else the one
/// this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* name = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(name);
  }
  if (loopback(env.master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

/// One buffer holding every tensor's elements, in order.
at::Tensor flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) {
    IAI_CHECK(t.scalar_type() == tensors.front().scalar_type(),
              "internal: one bucket, one dtype");
    flat.push_back(t.reshape({-1}));
  }
  return torch::cat(flat);
}

void unflatten(const at::Tensor& flat,
               const std::vector<torch::Tensor>& tensors) {
  int64_t offset = 0;
  for (const auto& t : tensors) {
    const_cast<torch::Tensor&>(t).copy_(
        flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

}  // namespace

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const LaunchEnv& env,
                                                    double timeout_seconds) {
  IAI_CHECK(timeout_seconds > 0, "--dist-timeout must be positive");
  auto impl = std::make_unique<Impl>();
  impl->rank = env.rank;
  impl->size = env.world_size;
  impl->master = env.master_addr + ":" + std::to_string(env.master_port);
  impl->timeout =
      std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000));
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(env.master_port);
  options.isServer = env.rank == 0;
  options.numWorkers = static_cast<size_t>(env.world_size);
  options.waitWorkers = true;
  options.timeout = impl->timeout;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    const std::string detail = first_line(e);
    if (env.rank == 0 && detail.find("clients") == std::string::npos) {
      throw Error(message(
          "rank 0 cannot serve the rendezvous on ", impl->master,
          " (MASTER_ADDR:MASTER_PORT): ", detail,
          ". Is the port in use by another job? Choose a free MASTER_PORT"));
    }
    if (env.rank == 0) {
      throw Error(message("rank 0: not every one of the ", env.world_size,
                          " ranks joined within --dist-timeout ",
                          impl->seconds_text(), " (", detail, ")"));
    }
    throw Error(message("rank ", env.rank,
                        " cannot reach the master (rank 0) "
                        "at ",
                        impl->master,
                        " (MASTER_ADDR:MASTER_PORT) "
                        "within --dist-timeout ",
                        impl->seconds_text(), ": ", detail));
  }
  try {
    impl->start_heartbeat(env.master_addr);
    auto gloo = c10d::ProcessGroupGloo::Options::create(impl->timeout);
    gloo->devices.push_back(gloo_device(env));
    gloo->threads = 1;  // one collective at a time
    auto prefixed =
        c10::make_intrusive<c10d::PrefixStore>("iai/gloo", impl->store);
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        prefixed, env.rank, env.world_size, gloo);
  } catch (const std::exception& e) {
    throw Error(message("rank ", env.rank, ": the Gloo process group of ",
                        env.world_size,
                        " ranks did not form within "
                        "--dist-timeout ",
                        impl->seconds_text(), ": ", first_line(e)));
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

void ProcessGroup::sum(const std::vector<torch::Tensor>& tensors,
                       const char* what) {
  if (tensors.empty()) return;
  at::Tensor flat = flatten(tensors);
  impl_->run(what, {flat}, /*broadcast=*/false);
  unflatten(flat, tensors);
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors,
                             const char* what) {
  if (tensors.empty()) return;
  at::Tensor flat = flatten(tensors);
  impl_->run(what, {flat}, /*broadcast=*/true);
  unflatten(flat, tensors);
}

std::string ProcessGroup::agree(const std::string& name,
                                const std::string& value) {
  const std::string key = "iai/agree/" + name;
  try {
    if (rank() == 0) {
      impl_->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
      return value;
    }
    const auto v = impl_->store->get(key);  // waits up to the timeout
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    impl_->broken = true;
    throw Error(message("rank 0 did not share the ", name,
                        " within --dist-timeout ", impl_->seconds_text(), " (",
                        first_line(e), ")"));
  }
}

torch::Tensor ProcessGroup::gather_rows(const torch::Tensor& rows,
                                        const char* what) {
  // Row counts first, then every rank's rows in a zero-padded slot of one
  // buffer summed over the ranks (a sum of one value and zeros is exact).
  torch::Tensor counts = torch::zeros({size()}, torch::kLong);
  counts[rank()] = rows.size(0);
  sum({counts}, what);
  const auto c = counts.accessor<int64_t, 1>();
  int64_t total = 0, offset = 0;
  for (int r = 0; r < size(); ++r) {
    if (r == rank()) offset = total;
    total += c[r];
  }
  std::vector<int64_t> shape = rows.sizes().vec();
  shape[0] = total;
  torch::Tensor all = torch::zeros(shape, rows.options());
  all.narrow(0, offset, rows.size(0)).copy_(rows);
  sum({all}, what);
  return rank() == 0 ? all : torch::Tensor();
}

#else  // no c10d: single process only

bool distributed_available() {
  return false;
}

struct ProcessGroup::Impl {
  int rank = 0, size = 1;
  bool broken = false;
  int64_t bytes = 0;
  double seconds = 0;
};

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const LaunchEnv& env,
                                                    double) {
  throw Error(message(
      "this iai was built against a LibTorch without c10d (USE_DISTRIBUTED "
      "off), so it runs one process only; rank ",
      env.rank, " of ", env.world_size, " (", env.source,
      " environment) cannot join a job. "
      "Rebuild against a LibTorch with c10d and Gloo"));
}

void ProcessGroup::sum(const std::vector<torch::Tensor>&, const char*) {}
void ProcessGroup::broadcast(const std::vector<torch::Tensor>&, const char*) {}
torch::Tensor ProcessGroup::gather_rows(const torch::Tensor& rows,
                                        const char*) {
  return rows;
}
std::string ProcessGroup::agree(const std::string&, const std::string& value) {
  return value;
}

#endif

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() {
  // Left to the end of the process, which is near: tearing down a group
  // whose peer is gone can wait on it for ever.
  if (impl_ && impl_->broken) (void)impl_.release();
}
int ProcessGroup::rank() const {
  return impl_->rank;
}
int ProcessGroup::size() const {
  return impl_->size;
}
int64_t ProcessGroup::bytes_communicated() const {
  return impl_->bytes;
}
double ProcessGroup::seconds_communicating() const {
  return impl_->seconds;
}

}  // namespace iai::parallel
