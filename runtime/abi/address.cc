// SPDX-License-Identifier: Apache-2.0
// Strict IP address and CIDR parsing; see address.h for the accepted forms.
#include "runtime/abi/address.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace hoody::net {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Parses a decimal number of at most `max_digits` digits without sign, spaces
// or leading zeros (a lone "0" is fine).
bool parseDecimal(std::string_view s, size_t max_digits, uint32_t& out) {
  if (s.empty() || s.size() > max_digits) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint32_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  out = v;
  return true;
}

bool parseV4(std::string_view s, uint32_t& out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = s.find('.');
    std::string_view part = i < 3 ? s.substr(0, dot) : s;
    if (i < 3 && dot == std::string_view::npos) return false;
    uint32_t octet = 0;
    if (!parseDecimal(part, 3, octet) || octet > 255) return false;
    v = (v << 8) | octet;
    if (i < 3) s.remove_prefix(dot + 1);
  }
  out = v;
  return true;
}

ir::U128 fromBytes(const uint8_t* b) {
  ir::U128 r;
  for (int i = 0; i < 8; ++i) r.hi = (r.hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) r.lo = (r.lo << 8) | b[i];
  return r;
}

bool isMapped(const ir::U128& v) { return v.hi == 0 && (v.lo >> 32) == 0xffffu; }

// Parses IPv6 text, leaving an embedded IPv4 part to the strict parser.
bool parseV6(std::string_view s, ir::U128& out, bool& mapped) {
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
  if (s.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) return false;
  size_t last_colon = s.rfind(':');
  if (last_colon == std::string_view::npos) return false;
  if (s.find('.') != std::string_view::npos) {
    uint32_t v4 = 0;
    if (!parseV4(s.substr(last_colon + 1), v4)) return false;
  }
  std::string text(s);
  uint8_t bytes[16];
  if (inet_pton(AF_INET6, text.c_str(), bytes) != 1) return false;
  out = fromBytes(bytes);
  mapped = isMapped(out);
  return true;
}

ir::U128 maskV6(int prefix) {
  ir::U128 m;
  if (prefix >= 64) {
    m.hi = ~0ull;
    m.lo = prefix == 64 ? 0 : (~0ull << (128 - prefix));
  } else {
    m.hi = prefix == 0 ? 0 : (~0ull << (64 - prefix));
    m.lo = 0;
  }
  return m;
}

template <typename R, typename T>
bool insertRange(std::vector<R>& ranges, T first, T last, auto next) {
  // Merge with every range that overlaps or touches [first, last]. The
  // ranges are sorted and disjoint, so their ends are sorted too and the
  // first candidate is found by binary search: adding n blocks costs
  // O(n log n) comparisons, not O(n^2), when they come in order.
  bool merged = false;
  auto it = std::partition_point(ranges.begin(), ranges.end(), [&](const R& r) {
    return r.last < first && next(r.last) < first;
  });
  auto begin = it;
  while (it != ranges.end() && (it->first <= last || it->first == next(last))) {
    first = std::min(first, it->first);
    last = std::max(last, it->last);
    merged = true;
    ++it;
  }
  it = ranges.erase(begin, it);
  ranges.insert(it, R{first, last});
  return merged;
}

}  // namespace

Result<ir::IpAddress> parseAddress(std::string_view text) {
  ir::IpAddress a;
  uint32_t v4 = 0;
  if (text.find(':') == std::string_view::npos) {
    if (!parseV4(text, v4)) {
      return makeError("invalid-address", fmt::format("`{}` is not an IPv4 address in dotted decimal", text));
    }
    a.is_v4 = true;
    a.v4 = v4;
    return a;
  }
  bool mapped = false;
  ir::U128 v6;
  if (!parseV6(text, v6, mapped)) {
    return makeError("invalid-address", fmt::format("`{}` is not an IPv6 address", text));
  }
  if (mapped) {
    a.is_v4 = true;
    a.v4 = static_cast<uint32_t>(v6.lo);
  } else {
    a.is_v4 = false;
    a.v6 = v6;
  }
  return a;
}

Result<Cidr> parseCidr(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  Cidr c;
  bool v6_text = addr_text.find(':') != std::string_view::npos;
  if (v6_text) {
    bool mapped = false;
    ir::U128 v6;
    if (!parseV6(addr_text, v6, mapped)) {
      return makeError("invalid-address",
                       fmt::format("`{}` is not an IPv6 address", addr_text));
    }
    if (mapped) {
      return makeError("mapped-address", fmt::format("`{}` is an IPv4-mapped IPv6 form; write the IPv4 address or CIDR instead",
                    text));
    }
    c.network.is_v4 = false;
    c.network.v6 = v6;
  } else {
    auto a = parseAddress(addr_text);
    if (!a) return Unexpected<Error>{a.error()};
    c.network = *a;
  }
  int max_prefix = c.network.is_v4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    c.prefix = max_prefix;
  } else {
    uint32_t p = 0;
    std::string_view ptext = text.substr(slash + 1);
    if (!parseDecimal(ptext, 3, p) || static_cast<int>(p) > max_prefix) {
      return makeError("invalid-prefix", fmt::format("`{}` has prefix length `{}`; expected a decimal 0..{}", text, ptext,
                    max_prefix));
    }
    c.prefix = static_cast<int>(p);
  }
  if (c.network.is_v4) {
    uint32_t mask = c.prefix == 0 ? 0 : (~0u << (32 - c.prefix));
    c.host_bits_set = (c.network.v4 & ~mask) != 0;
    c.network.v4 &= mask;
  } else {
    ir::U128 m = maskV6(c.prefix);
    c.host_bits_set = (c.network.v6.hi & ~m.hi) != 0 || (c.network.v6.lo & ~m.lo) != 0;
    c.network.v6.hi &= m.hi;
    c.network.v6.lo &= m.lo;
  }
  return c;
}

std::string formatAddress(const ir::IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  if (a.is_v4) {
    uint32_t n = htonl(a.v4);
    inet_ntop(AF_INET, &n, buf, sizeof buf);
  } else {
    uint8_t b[16];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(a.v6.hi >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(a.v6.lo >> (56 - 8 * i));
    inet_ntop(AF_INET6, b, buf, sizeof buf);
  }
  return buf;
}

std::string formatCidr(const Cidr& c) {
  return formatAddress(c.network) + "/" + std::to_string(c.prefix);
}

ir::IpAddress fromSockaddr(const sockaddr* sa) {
  ir::IpAddress a;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    a.is_v4 = true;
    a.v4 = ntohl(in->sin_addr.s_addr);
    return a;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  ir::U128 v = fromBytes(in6->sin6_addr.s6_addr);
  if (isMapped(v)) {
    a.is_v4 = true;
    a.v4 = static_cast<uint32_t>(v.lo);
  } else {
    a.is_v4 = false;
    a.v6 = v;
  }
  return a;
}

bool addToSet(ir::IpSet& set, const Cidr& c) {
  if (c.network.is_v4) {
    uint32_t mask = c.prefix == 0 ? 0 : (~0u << (32 - c.prefix));
    uint32_t first = c.network.v4;
    uint32_t last = first | ~mask;
    auto next = [](uint32_t v) { return v == UINT32_MAX ? v : v + 1; };
    return insertRange(set.v4, first, last, next);
  }
  ir::U128 m = maskV6(c.prefix);
  ir::U128 first = c.network.v6;
  ir::U128 last{first.hi | ~m.hi, first.lo | ~m.lo};
  auto next = [](ir::U128 v) {
    if (v.hi == ~0ull && v.lo == ~0ull) return v;
    if (v.lo == ~0ull) return ir::U128{v.hi + 1, 0};
    return ir::U128{v.hi, v.lo + 1};
  };
  return insertRange(set.v6, first, last, next);
}

bool setContains(const ir::IpSet& set, const ir::IpAddress& a) {
  if (a.is_v4) {
    auto it = std::upper_bound(set.v4.begin(), set.v4.end(), a.v4,
                               [](uint32_t v, const ir::V4Range& r) { return v < r.first; });
    return it != set.v4.begin() && std::prev(it)->last >= a.v4;
  }
  auto it = std::upper_bound(set.v6.begin(), set.v6.end(), a.v6,
                             [](const ir::U128& v, const ir::V6Range& r) { return v < r.first; });
  return it != set.v6.begin() && std::prev(it)->last >= a.v6;
}

}  // namespace hoody::net
