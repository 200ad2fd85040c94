// SPDX-License-Identifier: Apache-2.0
// Non-blocking socket helpers: listen addresses, listeners with
// SO_REUSEPORT, and upstream connects.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/abi/result.h"

namespace hoody::net {

/// A socket address with its length.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  bool isV6() const { return storage.ss_family == AF_INET6; }
  uint16_t port() const;
  void setPort(uint16_t port);
  /// "127.0.0.1:8443" or "[::1]:8443".
  std::string str() const;
};

/// Parses `ADDR:PORT` with a literal IPv4 address or a bracketed IPv6 one,
/// e.g. "127.0.0.1:8443", "[::1]:8443", "[::]:0". Host names are not
/// resolved. Error code: "invalid-listen-address".
Result<Endpoint> parseEndpoint(std::string_view text);

/// Makes an endpoint from an IP literal and a port. Error code:
/// "invalid-address".
Result<Endpoint> makeEndpoint(std::string_view ip, uint16_t port);

/// Opens a non-blocking listening TCP socket with SO_REUSEADDR and
/// SO_REUSEPORT. The unspecified IPv6 address `::` listens on both families;
/// any other IPv6 address is IPv6 only. Error code: "listen-failed".
Result<int> openListener(const Endpoint& endpoint, int backlog);

/// Fails when another socket already listens on `endpoint`, even one that
/// set SO_REUSEPORT: the kernel lets any process of the same user share such
/// a port, so a second proxy would silently take part of the traffic. A
/// test bind without SO_REUSEPORT detects it. Error code: "address-in-use".
Result<void> checkAddressFree(const Endpoint& endpoint);

/// The local address a socket is bound to (to learn the port given for 0).
Result<Endpoint> localEndpoint(int fd);

/// Starts a non-blocking TCP connect; the connection completes when the
/// descriptor becomes writable (check with connectResult()). Error code:
/// "connect-failed".
Result<int> startConnect(const Endpoint& endpoint);

/// The pending error of a non-blocking connect: 0 when it succeeded.
int connectResult(int fd);

bool setNonBlocking(int fd);

}  // namespace hoody::net
