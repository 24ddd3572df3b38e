#include "iai/parallel/heartbeat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

namespace iai::parallel {

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kMagic = 0x69616962;  // "iaib"

/// One datagram: the magic number and the sender's rank.
struct Beat {
  uint32_t magic;
  uint32_t rank;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

/// The first address `host` resolves to, as a datagram destination.
bool resolve(const std::string& host, const std::string& port, int flags,
             sockaddr_storage* out, socklen_t* length) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = flags;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return false;
  }
  std::memcpy(out, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  ::freeaddrinfo(found);
  return true;
}

/// The local address a datagram to `master` leaves from: connect() on a UDP
/// socket picks the route and sends nothing.
bool local_address_towards(const sockaddr_storage& master, socklen_t length,
                           sockaddr_storage* local, socklen_t* local_length) {
  const int probe = ::socket(master.ss_family, SOCK_DGRAM, 0);
  if (probe < 0) return false;
  bool ok =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&master), length) == 0;
  *local_length = sizeof(*local);
  ok = ok && ::getsockname(probe, reinterpret_cast<sockaddr*>(local),
                           local_length) == 0;
  ::close(probe);
  return ok;
}

std::string numeric(const sockaddr_storage& address, socklen_t length) {
  char host[NI_MAXHOST], port[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host,
                    sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "";
  }
  return std::string(host) + " " + port;
}

}  // namespace

Heartbeat::Heartbeat(int rank, int size, const std::string& master_host)
    : rank_(rank),
      size_(size),
      last_heard_ns_(new std::atomic<int64_t>[static_cast<size_t>(size)]()) {
  sockaddr_storage master{}, local{};
  socklen_t master_length = 0, local_length = 0;
  if (!resolve(master_host, "9", 0, &master, &master_length) ||
      !local_address_towards(master, master_length, &local, &local_length)) {
    return;
  }
  // Port 0: the kernel picks a free one.
  if (local.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&local)->sin_port = 0;
  } else {
    reinterpret_cast<sockaddr_in6*>(&local)->sin6_port = 0;
  }
  socket_ = ::socket(local.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (socket_ < 0 || wake_ < 0 ||
      ::bind(socket_, reinterpret_cast<const sockaddr*>(&local),
             local_length) != 0 ||
      ::getsockname(socket_, reinterpret_cast<sockaddr*>(&local),
                    &local_length) != 0) {
    return;
  }
  address_ = numeric(local, local_length);
}

Heartbeat::~Heartbeat() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof(one));
    thread_.join();
  }
  if (socket_ >= 0) ::close(socket_);
  if (wake_ >= 0) ::close(wake_);
}

void Heartbeat::start(const std::vector<std::string>& peers) {
  if (address_.empty() || thread_.joinable()) return;
  struct Peer {
    sockaddr_storage address;
    socklen_t length;
  };
  std::vector<Peer> to;
  for (size_t r = 0; r < peers.size(); ++r) {
    if (static_cast<int>(r) == rank_ || peers[r].empty()) continue;
    std::istringstream words(peers[r]);
    std::string host, port;
    Peer peer{};
    if (words >> host >> port &&
        resolve(host, port, AI_NUMERICHOST | AI_NUMERICSERV, &peer.address,
                &peer.length)) {
      to.push_back(peer);
    }
  }
  thread_ = std::thread([this, to = std::move(to)] {
    const Beat beat{kMagic, static_cast<uint32_t>(rank_)};
    auto next = Clock::now();
    for (;;) {
      if (Clock::now() >= next) {
        for (const Peer& peer : to) {
          (void)::sendto(socket_, &beat, sizeof(beat), MSG_DONTWAIT,
                         reinterpret_cast<const sockaddr*>(&peer.address),
                         peer.length);
        }
        // After a pause (this process stopped, a loaded machine) the next
        // beat is a period from now, not a burst that catches up.
        next += kPeriod;
        const auto now = Clock::now();
        if (next < now) next = now + kPeriod;
      }
      pollfd fds[2] = {{socket_, POLLIN, 0}, {wake_, POLLIN, 0}};
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          next - Clock::now());
      if (::poll(fds, 2, static_cast<int>(std::max<int64_t>(0, wait.count()))) <
          0) {
        continue;  // EINTR
      }
      if (fds[1].revents != 0) return;
      Beat heard{};
      while (::recv(socket_, &heard, sizeof(heard), MSG_DONTWAIT) ==
             static_cast<ssize_t>(sizeof(heard))) {
        if (heard.magic == kMagic &&
            heard.rank < static_cast<uint32_t>(size_)) {
          last_heard_ns_[heard.rank].store(now_ns(), std::memory_order_relaxed);
        }
      }
    }
  });
}

std::vector<int> Heartbeat::silent(std::chrono::milliseconds quiet) const {
  std::vector<int> out;
  const int64_t limit =
      now_ns() -
      std::chrono::duration_cast<std::chrono::nanoseconds>(quiet).count();
  for (int r = 0; r < size_; ++r) {
    const int64_t heard = last_heard_ns_[r].load(std::memory_order_relaxed);
    if (r != rank_ && heard != 0 && heard < limit) out.push_back(r);
  }
  return out;
}

}  // namespace iai::parallel
