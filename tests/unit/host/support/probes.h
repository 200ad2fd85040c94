// SPDX-License-Identifier: Apache-2.0
// Real traffic between network namespaces: TCP connects and UDP round trips
// to servers in other namespaces, all probes of a batch in flight at once.
//
// A dropped packet shows as a probe that times out, so a batch takes its
// full timeout as soon as one probe is expected to be dropped, however many
// probes it holds. Every socket is created in the namespace it belongs to
// and then used from this thread, whatever namespace the thread is in.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <utility>

#include "tests/unit/host/support/netns.h"

namespace hoody::testing {

enum class Transport { Tcp, Udp };

struct Probe {
  std::string label;  ///< Shown when an expectation fails.
  const NetNamespace* from = nullptr;
  Transport transport = Transport::Tcp;
  std::string address;  ///< Destination, IPv4 or IPv6.
  uint16_t port = 0;
  std::string source = "";  ///< Source address to bind; empty: the kernel's choice.
};

/// Outcomes a probe can have.
inline constexpr const char* kConnected = "connected";  ///< TCP handshake completed.
inline constexpr const char* kReplied = "replied";      ///< UDP echo came back.
inline constexpr const char* kTimedOut = "timed out";   ///< Nothing came back: dropped.
inline constexpr const char* kRefused = "refused";      ///< Reached a host with no server.

namespace internal {

inline bool toSockaddr(const std::string& address, uint16_t port, sockaddr_storage& out,
                       socklen_t& size) {
  out = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    size = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    size = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

inline int socketIn(const NetNamespace& ns, int domain, int type) {
  NamespaceEntry entry(ns);
  if (!entry.entered()) return -1;
  return socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

inline std::string errorOutcome(int error) {
  if (error == ECONNREFUSED) return kRefused;
  return std::string("error: ") + std::strerror(error);
}

}  // namespace internal

/// TCP listeners and UDP echo sockets in namespaces, closed when this
/// object goes away. UDP sockets are bound to one address, so that echoes
/// leave from the address the probe was sent to.
class Servers {
 public:
  Servers() = default;
  Servers(const Servers&) = delete;
  Servers& operator=(const Servers&) = delete;
  ~Servers() {
    for (int fd : tcp_) close(fd);
    for (int fd : udp_) close(fd);
  }

  /// Listens on `[::]:port`, IPv4 and IPv6. Returns false when the socket
  /// could not be set up.
  bool listenTcp(const NetNamespace& ns, uint16_t port) {
    int fd = open(ns, SOCK_STREAM, "::", port);
    if (fd < 0) return false;
    if (listen(fd, 512) != 0) {
      close(fd);
      return false;
    }
    tcp_.push_back(fd);
    return true;
  }

  /// Echoes datagrams sent to `address:port`.
  bool bindUdp(const NetNamespace& ns, const std::string& address, uint16_t port) {
    int fd = open(ns, SOCK_DGRAM, address, port);
    if (fd < 0) return false;
    udp_.push_back(fd);
    return true;
  }

  const std::vector<int>& tcp() const { return tcp_; }
  const std::vector<int>& udp() const { return udp_; }

 private:
  static int open(const NetNamespace& ns, int type, const std::string& address, uint16_t port) {
    sockaddr_storage local{};
    socklen_t size = 0;
    if (!internal::toSockaddr(address, port, local, size)) return -1;
    int fd = internal::socketIn(ns, local.ss_family, type);
    if (fd < 0) return -1;
    int off = 0;
    int on = 1;
    if (local.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), size) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  std::vector<int> tcp_;
  std::vector<int> udp_;
};

/// Runs every probe at once and returns one outcome per probe, in order:
/// kConnected, kReplied, kTimedOut, kRefused or `error: <reason>`. The
/// timeout leaves room for a machine busy with other tests: a handshake on
/// a veth pair takes well under a millisecond when the CPU is free.
inline std::vector<std::string> runProbes(const std::vector<Probe>& probes, Servers& servers,
                                          int timeout_ms = 2500) {
  std::vector<std::string> outcomes(probes.size());
  std::vector<int> fds(probes.size(), -1);
  const char kPayload[] = "hoody-probe";

  // Start every probe.
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    sockaddr_storage to{};
    socklen_t to_size = 0;
    if (p.from == nullptr || !internal::toSockaddr(p.address, p.port, to, to_size)) {
      outcomes[i] = "error: bad probe";
      continue;
    }
    int type = p.transport == Transport::Tcp ? SOCK_STREAM : SOCK_DGRAM;
    int fd = internal::socketIn(*p.from, to.ss_family, type);
    if (fd < 0) {
      outcomes[i] = "error: no socket";
      continue;
    }
    fds[i] = fd;
    if (!p.source.empty()) {
      sockaddr_storage from{};
      socklen_t from_size = 0;
      if (!internal::toSockaddr(p.source, 0, from, from_size) ||
          bind(fd, reinterpret_cast<sockaddr*>(&from), from_size) != 0) {
        outcomes[i] = internal::errorOutcome(errno);
        continue;
      }
    }
    if (connect(fd, reinterpret_cast<sockaddr*>(&to), to_size) != 0 && errno != EINPROGRESS) {
      outcomes[i] = internal::errorOutcome(errno);
      continue;
    }
    if (p.transport == Transport::Udp && send(fd, kPayload, sizeof kPayload, 0) < 0) {
      outcomes[i] = internal::errorOutcome(errno);
    }
  }

  // Wait for handshakes and echoes, serving the UDP echo sockets meanwhile.
  constexpr size_t kTcpServer = SIZE_MAX;
  constexpr size_t kUdpServer = SIZE_MAX - 1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::vector<pollfd> polled;
    std::vector<size_t> owner;  // Probe index, or one of the two server markers.
    for (size_t i = 0; i < probes.size(); ++i) {
      if (!outcomes[i].empty() || fds[i] < 0) continue;
      short events = probes[i].transport == Transport::Tcp ? POLLOUT : POLLIN;
      polled.push_back({fds[i], events, 0});
      owner.push_back(i);
    }
    if (polled.empty()) break;
    for (int fd : servers.udp()) {
      polled.push_back({fd, POLLIN, 0});
      owner.push_back(kUdpServer);
    }
    for (int fd : servers.tcp()) {
      polled.push_back({fd, POLLIN, 0});
      owner.push_back(kTcpServer);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) break;
    if (poll(polled.data(), polled.size(), static_cast<int>(left)) <= 0) continue;

    for (size_t k = 0; k < polled.size(); ++k) {
      if (polled[k].revents == 0) continue;
      int fd = polled[k].fd;
      if (owner[k] == kTcpServer) {
        int accepted = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (accepted >= 0) close(accepted);
        continue;
      }
      if (owner[k] == kUdpServer) {
        char buffer[64];
        sockaddr_storage peer{};
        socklen_t peer_size = sizeof peer;
        ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&peer),
                             &peer_size);
        if (n > 0) sendto(fd, buffer, static_cast<size_t>(n), 0,
                          reinterpret_cast<sockaddr*>(&peer), peer_size);
        continue;
      }
      size_t i = owner[k];
      if (probes[i].transport == Transport::Tcp) {
        int error = 0;
        socklen_t size = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
        outcomes[i] = error == 0 ? kConnected : internal::errorOutcome(error);
      } else {
        char buffer[64];
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
          outcomes[i] = kReplied;
        } else if (n < 0 && errno != EAGAIN) {
          outcomes[i] = internal::errorOutcome(errno);
        }
      }
    }
  }

  for (size_t i = 0; i < probes.size(); ++i) {
    if (outcomes[i].empty()) outcomes[i] = kTimedOut;
    if (fds[i] >= 0) close(fds[i]);
  }
  return outcomes;
}

/// Sends one ICMP echo request from `from` and waits at most one second.
inline bool ping(const NetNamespace& from, const std::string& address) {
  return from.exec({"ping", "-n", "-q", "-c", "1", "-W", "1", address}, 3000).ok();
}

}  // namespace hoody::testing
