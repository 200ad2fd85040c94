// SPDX-License-Identifier: Apache-2.0
// Non-blocking socket helpers.
#include "runtime/net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "runtime/abi/address.h"

namespace hoody::net {

uint16_t Endpoint::port() const {
  if (isV6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

void Endpoint::setPort(uint16_t port) {
  if (isV6()) {
    reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&storage)->sin_port = htons(port);
  }
}

std::string Endpoint::str() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (isV6()) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf,
              sizeof(buf));
    return fmt::format("[{}]:{}", buf, port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof(buf));
  return fmt::format("{}:{}", buf, port());
}

Result<Endpoint> makeEndpoint(std::string_view ip, uint16_t port) {
  Endpoint e;
  std::string text(ip);
  if (text.find(':') != std::string::npos) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    if (inet_pton(AF_INET6, text.c_str(), &sin6->sin6_addr) != 1) {
      return makeError("invalid-address", fmt::format("`{}` is not an IPv6 address", text));
    }
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    e.length = sizeof(sockaddr_in6);
    return e;
  }
  // Only canonical dotted quads: inet_pton(AF_INET) already rejects octal,
  // hex and short forms.
  auto* sin = reinterpret_cast<sockaddr_in*>(&e.storage);
  if (inet_pton(AF_INET, text.c_str(), &sin->sin_addr) != 1) {
    return makeError("invalid-address", fmt::format("`{}` is not an IPv4 address", text));
  }
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  e.length = sizeof(sockaddr_in);
  return e;
}

Result<Endpoint> parseEndpoint(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return makeError("invalid-listen-address",
                     fmt::format("invalid listen address `{}`: {}; expected ADDR:PORT such as "
                                 "127.0.0.1:8443 or [::1]:8443",
                                 text, why));
  };
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalid("an IPv6 address must be written in brackets and followed by :PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("the port is missing");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid("IPv6 needs brackets");
  }
  if (port_text.empty() || port_text.size() > 5) return invalid("invalid port");
  unsigned port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return invalid("invalid port");
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port > 65535) return invalid("the port is above 65535");
  Result<Endpoint> e = makeEndpoint(host, static_cast<uint16_t>(port));
  if (!e) return invalid(e.error().message);
  return e;
}

bool setNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

Result<int> openListener(const Endpoint& endpoint, int backlog) {
  int fd = ::socket(endpoint.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return makeError("listen-failed",
                     fmt::format("cannot create a socket for {}: {}", endpoint.str(),
                                 strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int saved = errno;
    ::close(fd);
    return makeError("listen-failed", fmt::format("cannot set SO_REUSEPORT: {}", strerror(saved)));
  }
  if (endpoint.isV6()) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
    int v6only = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ? 0 : 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  if (::bind(fd, endpoint.addr(), endpoint.length) != 0 || ::listen(fd, backlog) != 0) {
    int saved = errno;
    ::close(fd);
    return makeError("listen-failed",
                     fmt::format("cannot listen on {}: {}", endpoint.str(), strerror(saved)));
  }
  return fd;
}

Result<void> checkAddressFree(const Endpoint& endpoint) {
  int fd = ::socket(endpoint.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return makeError("listen-failed",
                     fmt::format("cannot create a socket for {}: {}", endpoint.str(),
                                 strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (endpoint.isV6()) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
    int v6only = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ? 0 : 1;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
  }
  int rc = ::bind(fd, endpoint.addr(), endpoint.length);
  int saved = errno;
  ::close(fd);
  if (rc != 0 && saved == EADDRINUSE) {
    return makeError("address-in-use",
                     fmt::format("{} is already in use by another process (another hoody-proxy?); "
                                 "stop it or pick another --listen address",
                                 endpoint.str()));
  }
  if (rc != 0) {
    return makeError("listen-failed",
                     fmt::format("cannot listen on {}: {}", endpoint.str(), strerror(saved)));
  }
  return {};
}

Result<Endpoint> localEndpoint(int fd) {
  Endpoint e;
  e.length = sizeof(e.storage);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&e.storage), &e.length) != 0) {
    return makeError("io-error", fmt::format("getsockname failed: {}", strerror(errno)));
  }
  return e;
}

Result<int> startConnect(const Endpoint& endpoint) {
  int fd = ::socket(endpoint.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return makeError("connect-failed", fmt::format("cannot create a socket: {}", strerror(errno)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, endpoint.addr(), endpoint.length) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    ::close(fd);
    return makeError("connect-failed",
                     fmt::format("cannot connect to {}: {}", endpoint.str(), strerror(saved)));
  }
  return fd;
}

int connectResult(int fd) {
  int error = 0;
  socklen_t len = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return errno;
  return error;
}

}  // namespace hoody::net
