#pragma once
// Liveness between the ranks of a job, outside the rendezvous store.
//
// Every rank sends every other rank a small UDP datagram each kPeriod and
// notes when it last heard from each. When a collective operation times
// out, the ranks not heard from lately are the ones that stopped.
//
// Why not a counter in the TCPStore: its server answers its clients one at a
// time and reads each request in several blocking reads, so a rank stopped
// (SIGSTOP, a hung machine) half-way through sending a request blocks the
// store for everyone, at the moment it is needed to say who stopped.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace iai::parallel {

class Heartbeat {
 public:
  static constexpr std::chrono::milliseconds kPeriod{250};

  /// A socket on the interface this host reaches `master_host` through
  /// (the address the other ranks can send to). Never throws: where no
  /// socket can be made, address() is empty and silent() always empty.
  Heartbeat(int rank, int size, const std::string& master_host);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  /// "host port" of this rank's socket, for the others; "" when disabled.
  const std::string& address() const { return address_; }

  /// Starts beating to the others: `peers[r]` is rank r's address() (its
  /// own entry and empty ones are skipped).
  void start(const std::vector<std::string>& peers);

  /// The ranks heard from at least once but not within `quiet`. A rank
  /// never heard from (a network that drops these datagrams) is not named:
  /// the caller falls back to what else it knows.
  std::vector<int> silent(std::chrono::milliseconds quiet) const;

 private:
  int rank_, size_;
  int socket_ = -1;
  int wake_ = -1;  // eventfd that ends the thread
  std::string address_;
  std::unique_ptr<std::atomic<int64_t>[]> last_heard_ns_;  // 0: never
  std::thread thread_;
};

}  // namespace iai::parallel
