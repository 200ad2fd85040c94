// SPDX-License-Identifier: Apache-2.0
// Host-name parsing, Authorization parsing and outcome helpers shared by all
// decision engines.
#include "runtime/policy/decision.h"

#include <openssl/evp.h>

#include <algorithm>

namespace hoody::policy {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool parseId(std::string_view text, ir::Id96& out) {
  if (text.size() != 24) return false;
  for (size_t i = 0; i < 12; ++i) {
    int hi = hexValue(text[2 * i]);
    int lo = hexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// Instances are positive decimals without leading zeros, at most 6 digits.
bool parseInstance(std::string_view text, uint32_t& out) {
  if (text.empty() || text.size() > 6 || text[0] == '0') return false;
  uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  out = v;
  return true;
}

// Strips a port from `host`. Returns false for a malformed port or an IPv6
// literal, which is never a container host.
bool stripPort(std::string_view& host) {
  if (!host.empty() && host.front() == '[') return false;
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return true;
  std::string_view port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  uint32_t v = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  host = host.substr(0, colon);
  return true;
}

}  // namespace

ParsedHost parseHost(std::string_view raw, std::string_view node, std::string_view domain) {
  ParsedHost out;
  out.status = HostStatus::Malformed;
  if (raw.empty() || raw.size() > 255) return out;
  std::string_view host = raw;
  if (!stripPort(host)) return out;

  // One trailing dot names the same host; two or more, or an empty label, do
  // not name any host.
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.front() == '.' || host.back() == '.') return out;
  std::string canonical;
  canonical.reserve(host.size());
  for (char c : host) {
    char l = lower(c);
    if (!isHostChar(l)) return out;
    if (l == '.' && !canonical.empty() && canonical.back() == '.') return out;
    canonical.push_back(l);
  }
  out.canonical = canonical;
  out.status = HostStatus::Unknown;

  std::string suffix = ".";
  suffix.append(node).append(".containers.").append(domain);
  if (node.empty() || domain.empty() || canonical.size() <= suffix.size() ||
      canonical.compare(canonical.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return out;
  }
  std::string_view label(canonical.data(), canonical.size() - suffix.size());
  if (label.find('.') != std::string_view::npos) return out;

  // <container-id>-<project-id>-<service>-<instance>
  if (label.size() < 24 + 1 + 24 + 1 + 1 + 1 + 1 || label[24] != '-' || label[49] != '-') {
    return out;
  }
  HostKey key;
  if (!parseId(label.substr(0, 24), key.container) || !parseId(label.substr(25, 24), key.project)) {
    return out;
  }
  std::string_view rest = label.substr(50);
  size_t dash = rest.rfind('-');
  if (dash == std::string_view::npos) return out;
  auto service = ir::serviceFromName(rest.substr(0, dash));
  if (!service || !parseInstance(rest.substr(dash + 1), key.instance)) return out;
  key.service = *service;
  out.key = key;
  out.status = HostStatus::Ok;
  return out;
}

Credentials parseAuthorization(std::string_view value) {
  Credentials c;
  size_t space = value.find(' ');
  if (space == std::string_view::npos) {
    c.kind = Credentials::Kind::Invalid;
    return c;
  }
  std::string scheme(value.substr(0, space));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), lower);
  std::string_view rest = value.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);

  if (scheme == "bearer") {
    // RFC 6750 token68 alphabet; a JWT fits it too.
    bool ok = !rest.empty() && rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                      "opqrstuvwxyz0123456789-._~+/=") ==
                                   std::string_view::npos;
    c.kind = ok ? Credentials::Kind::Bearer : Credentials::Kind::Invalid;
    if (ok) c.token = std::string(rest);
    return c;
  }
  if (scheme != "basic") {
    c.kind = Credentials::Kind::Invalid;
    return c;
  }

  // Strict base64 with padding: EVP_DecodeBlock ignores nothing we care about
  // only when the length is a multiple of 4 and the alphabet is checked first.
  c.kind = Credentials::Kind::Invalid;
  if (rest.empty() || rest.size() % 4 != 0 || rest.size() > 4096 ||
      rest.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string_view::npos) {
    return c;
  }
  size_t pad = rest.find('=');
  if (pad != std::string_view::npos &&
      (pad < rest.size() - 2 || rest.substr(pad).find_first_not_of('=') != std::string_view::npos)) {
    return c;
  }
  std::string decoded(rest.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(rest.data()),
                          static_cast<int>(rest.size()));
  if (n < 0) return c;
  size_t padding = rest.size() - (pad == std::string_view::npos ? rest.size() : pad);
  decoded.resize(static_cast<size_t>(n) - padding);

  size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return c;
  for (unsigned char ch : decoded) {
    if (ch < 0x20 || ch == 0x7f) return c;
  }
  c.kind = Credentials::Kind::Basic;
  c.user = decoded.substr(0, colon);
  c.password = decoded.substr(colon + 1);
  return c;
}

int statusOf(Outcome outcome) {
  switch (outcome) {
    case Outcome::NotFound: return 404;
    case Outcome::Maintenance: return 503;
    case Outcome::Allow: return 200;
    case Outcome::Unauthorized: return 401;
    case Outcome::Forbidden: return 403;
  }
  return 500;
}

std::string_view outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::NotFound: return "not-found";
    case Outcome::Maintenance: return "maintenance";
    case Outcome::Allow: return "allow";
    case Outcome::Unauthorized: return "unauthorized";
    case Outcome::Forbidden: return "forbidden";
  }
  return "unknown";
}

bool pathHasPrefix(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  if (path.size() == prefix.size() || prefix.empty()) return true;
  return prefix.back() == '/' || path[prefix.size()] == '/';
}

}  // namespace hoody::policy
