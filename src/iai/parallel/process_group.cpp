#include "iai/parallel/process_group.h"

#include "iai/core/device.h"
#include "iai/core/error.h"
#include "iai/parallel/heartbeat.h"

#include <torch/cuda.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <type_traits>
#include <utility>

#ifdef IAI_HAVE_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef IAI_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef IAI_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace iai::parallel {

namespace {

/// Whether a process group has shutdown() (LibTorch 2's NCCL group: torn
/// down without it, it warns that the group was not destroyed).
template <class Group, class = void>
struct HasShutdown : std::false_type {};
template <class Group>
struct HasShutdown<Group,
                   std::void_t<decltype(std::declval<Group&>().shutdown())>>
    : std::true_type {};

/// Ends `group`'s work before it is destroyed, where it can.
template <class Group>
void shut_down([[maybe_unused]] Group& group) {
  if constexpr (HasShutdown<Group>::value) group.shutdown();
}

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

bool gloo_available() {
#ifdef IAI_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

bool nccl_available() {
#ifdef IAI_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

bool distributed_available() {
  return gloo_available() || nccl_available();
}

torch::Device job_device(const std::string& requested) {
  torch::Device device = resolve_device(requested);
  ProcessGroup* group = world();
  if (group == nullptr) return device;
  // One GPU a process: the job's processes on one machine take its GPUs in
  // LOCAL_RANK order (NCCL refuses two ranks on one GPU). A launcher that
  // gives each process one visible GPU (CUDA_VISIBLE_DEVICES) gets cuda:0.
  if (device.is_cuda()) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(
                                             group->local_rank() % gpus));
  }
  group->compute_on(device);
  return device;
}

#ifdef IAI_HAVE_C10D

struct ProcessGroup::Impl {
  int rank = 0, size = 1, local_rank = 0;
  std::string master;  // "addr:port", for messages
  std::string master_addr;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::TCPStore> store;
  // The process group for the job's device: one of the two, made by
  // compute_on.
#ifdef IAI_HAVE_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef IAI_HAVE_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  std::string backend;                // "gloo", "nccl", "" before compute_on
  torch::Device device{torch::kCPU};  // where the buckets are made
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
      IAI_CHECK(launch(tensors, broadcast), "timed out");
    } catch (const std::exception& e) {
      broken = true;
      throw Error(message(missing_ranks(), " stopped answering during ", what,
                          " (each rank waits up to --dist-timeout ",
                          seconds_text(), "; LibTorch: ", first_line(e), ")"));
    }
    seconds += std::chrono::duration<double>(Clock::now() - start).count();
    for (const auto& b : buffers) bytes += b.numel() * b.element_size();
  }

  /// One collective operation on `group` and the wait for it: false when
  /// it timed out. (Gloo's and NCCL's groups share no base class across
  /// LibTorch versions, hence a template.)
  template <class Group>
  bool collective(Group& group, std::vector<at::Tensor>& tensors,
                  bool broadcast) {
    auto work = broadcast ? group.broadcast(tensors) : group.allreduce(tensors);
    return work->wait(timeout);
  }

  /// The collective operation on the group made for the job's device.
  bool launch(std::vector<at::Tensor>& tensors, bool broadcast) {
#ifdef IAI_HAVE_NCCL
    if (nccl) return collective(*nccl, tensors, broadcast);
#endif
#ifdef IAI_HAVE_GLOO
    if (gloo) return collective(*gloo, tensors, broadcast);
#endif
    (void)tensors;
    (void)broadcast;
    throw Error("internal: a collective operation before compute_on");
  }

  void make_group(const torch::Device& on);

  ~Impl() {
#ifdef IAI_HAVE_NCCL
    if (nccl) shut_down(*nccl);
#endif
  }

  /// A process group of this job over the rendezvous store, its keys
  /// under `prefix`.
  template <class Group, class Options>
  c10::intrusive_ptr<Group> on_store(const char* prefix,
                                     c10::intrusive_ptr<Options> options) {
    return c10::make_intrusive<Group>(
        c10::make_intrusive<c10d::PrefixStore>(prefix, store), rank, size,
        std::move(options));
  }
};

namespace {

[[maybe_unused]] bool loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#ifdef IAI_HAVE_GLOO
/// The network interface Gloo talks over: GLOO_SOCKET_IFNAME when set (as
/// in PyTorch), the loopback one for a job on one machine, else the one
/// this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device_for(
    const std::string& master_addr) {
  if (const char* name = std::getenv("GLOO_SOCKET_IFNAME")) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(name);
  }
  if (loopback(master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

/// One buffer on `device` holding every tensor's elements, in order.
at::Tensor flatten(const std::vector<torch::Tensor>& tensors,
                   const torch::Device& device) {
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) {
    IAI_CHECK(t.scalar_type() == tensors.front().scalar_type(),
              "internal: one bucket, one dtype");
    flat.push_back(t.reshape({-1}).to(device));
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
  impl->local_rank = env.local_rank;
  impl->master_addr = env.master_addr;
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
  } catch (const std::exception& e) {
    throw Error(message("rank ", env.rank, ": the job of ", env.world_size,
                        " ranks did not form within --dist-timeout ",
                        impl->seconds_text(), ": ", first_line(e)));
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

void ProcessGroup::Impl::make_group(const torch::Device& on) {
  const std::string wanted = on.is_cuda() ? "nccl" : "gloo";
  if (!backend.empty()) {
    IAI_CHECK(backend == wanted && (on.is_cpu() || on == device),
              "internal: a job computes on one device (", device.str(),
              ", then ", on.str(), ")");
    return;
  }
  try {
    if (on.is_cuda()) {
#ifdef IAI_HAVE_NCCL
      // A wait that blocks until the operation ends or the timeout passes,
      // so that a rank that stops makes wait() throw here (and the error
      // name it) instead of the GPU waiting for ever. Both names: LibTorch
      // 2 reads TORCH_NCCL_BLOCKING_WAIT, 1.x NCCL_BLOCKING_WAIT. A value
      // the user set is kept.
      setenv("TORCH_NCCL_BLOCKING_WAIT", "1", /*overwrite=*/0);
      setenv("NCCL_BLOCKING_WAIT", "1", /*overwrite=*/0);
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      nccl = on_store<c10d::ProcessGroupNCCL>("iai/nccl", options);
#else
      throw Error(
          "a job of several processes on GPUs sums through NCCL, and this "
          "iai was built without it (a LibTorch without NCCL, or nccl.h not "
          "found: docs/building.md); use --device cpu");
#endif
    } else {
#ifdef IAI_HAVE_GLOO
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      options->devices.push_back(gloo_device_for(master_addr));
      options->threads = 1;  // one collective at a time
      gloo = on_store<c10d::ProcessGroupGloo>("iai/gloo", options);
#else
      throw Error(
          "a job of several processes on the CPU sums through Gloo, and this "
          "iai was built without it (no Gloo headers: libgloo-dev; "
          "docs/building.md); use --device cuda");
#endif
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(message("rank ", rank, ": the ",
                        wanted == "nccl" ? "NCCL" : "Gloo",
                        " process group of ", size,
                        " ranks did not form within --dist-timeout ",
                        seconds_text(), ": ", first_line(e)));
  }
  backend = wanted;
  device = on;
}

void ProcessGroup::compute_on(const torch::Device& device) {
  impl_->make_group(device);
}

std::string ProcessGroup::backend() const {
  return impl_->backend;
}

void ProcessGroup::sum(const std::vector<torch::Tensor>& tensors,
                       const char* what) {
  if (tensors.empty()) return;
  if (impl_->backend.empty()) compute_on(torch::kCPU);
  at::Tensor flat = flatten(tensors, impl_->device);
  impl_->run(what, {flat}, /*broadcast=*/false);
  unflatten(flat, tensors);
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors,
                             const char* what) {
  if (tensors.empty()) return;
  if (impl_->backend.empty()) compute_on(torch::kCPU);
  at::Tensor flat = flatten(tensors, impl_->device);
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

struct ProcessGroup::Impl {
  int rank = 0, size = 1, local_rank = 0;
  bool broken = false;
  int64_t bytes = 0;
  double seconds = 0;
};

void ProcessGroup::compute_on(const torch::Device&) {}
std::string ProcessGroup::backend() const {
  return "";
}

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const LaunchEnv& env,
                                                    double) {
  throw Error(message(
      "this iai was built against a LibTorch without c10d (USE_DISTRIBUTED "
      "off), so it runs one process only; rank ",
      env.rank, " of ", env.world_size, " (", env.source,
      " environment) cannot join a job. "
      "Rebuild against a LibTorch with c10d and Gloo (or NCCL for GPUs)"));
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
int ProcessGroup::local_rank() const {
  return impl_->local_rank;
}
int64_t ProcessGroup::bytes_communicated() const {
  return impl_->bytes;
}
double ProcessGroup::seconds_communicating() const {
  return impl_->seconds;
}

}  // namespace iai::parallel
