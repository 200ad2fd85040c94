// SPDX-License-Identifier: Apache-2.0
// Value parsers shared by the checker and lowering.
#include "compiler/sema/values.h"

#include <algorithm>
#include <filesystem>

#include "runtime/http/path.h"

namespace hoody::sema {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses plain decimal digits without leading zeros into at most `max`.
std::optional<uint64_t> parseDecimal(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!isDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > max) return std::nullopt;
  }
  return value;
}

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two adjacent characters each cost 1, so `tpc` is one edit
// away from `tcp`.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// Decodes `%2e` and `%2E` to `.`, so an encoded dot segment is seen as one.
std::string decodeDots(std::string_view segment) {
  std::string out;
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2' &&
        (segment[i + 2] == 'e' || segment[i + 2] == 'E')) {
      out.push_back('.');
      i += 2;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

// Bytes a request path may carry unencoded (RFC 3986 section 3.3: unreserved
// characters, sub-delims, `:`, `@` and `/`), plus `%`, which starts an escape.
bool isPathAlphabet(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(static_cast<char>(c))) {
    return true;
  }
  return std::string_view("-._~!$&'()*+,;=:@/%").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// Percent-encodes every byte outside the path alphabet, as a client must
// before sending the path.
std::string encodeOutsidePathAlphabet(std::string_view path) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (isPathAlphabet(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool isValidId(std::string_view text) {
  return text.size() == 24 && std::all_of(text.begin(), text.end(), [](char c) {
           return isDigit(c) || (c >= 'a' && c <= 'f');
         });
}

std::optional<ir::Id96> parseId(std::string_view text) {
  if (!isValidId(text)) return std::nullopt;
  ir::Id96 id{};
  for (size_t i = 0; i < id.size(); ++i) {
    id[i] = static_cast<uint8_t>(hexValue(text[2 * i]) * 16 + hexValue(text[2 * i + 1]));
  }
  return id;
}

std::string formatId(const ir::Id96& id) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::optional<uint16_t> parsePort(std::string_view text) {
  auto value = parseDecimal(text, 65535);
  if (!value || *value == 0) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

std::optional<uint32_t> parseDuration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  uint64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    default:
      return std::nullopt;
  }
  auto count = parseDecimal(text.substr(0, text.size() - 1), UINT32_MAX);
  if (!count || *count * unit > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*count * unit);
}

std::optional<EndpointText> splitEndpoint(std::string_view text) {
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    return EndpointText{std::string(text.substr(1, close - 1)), std::string(text.substr(close + 2))};
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return EndpointText{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::optional<std::string> pathPrefixProblem(std::string_view path) {
  if (path.empty()) return "it is empty";
  if (path[0] != '/') return "it does not start with `/`";
  for (unsigned char c : path) {
    if (c == '?' || c == '#') return "it contains a query or fragment";
    if (c == '\\') return "it contains a backslash";
    if (c <= 0x20 || c == 0x7f) return "it contains a space or control character";
    if (c == ';') return "it contains `;`, which the proxy rejects in request paths";
  }
  std::string_view rest = path.substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string segment = decodeDots(rest.substr(0, slash));
    if (segment == "." || segment == "..") return "it contains a `.` or `..` segment";
    if (segment.empty() && slash != std::string_view::npos) return "it contains `//`";
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  auto normalized = http::normalizePath(encodeOutsidePathAlphabet(path));
  if (normalized) return std::nullopt;
  const std::string& code = normalized.error().code;
  if (code == "invalid-escape") return "it contains an invalid percent escape";
  if (code == "encoded-reserved") {
    return "it contains an encoded `/`, `\\`, NUL, `;`, `?` or `#`, which the proxy rejects in "
           "request paths";
  }
  if (code == "invalid-utf8") return "its percent escapes are not valid UTF-8";
  return "the proxy rejects it as a request path: " + normalized.error().message;
}

std::string normalizePathPrefix(std::string_view path) {
  auto normalized = http::normalizePath(encodeOutsidePathAlphabet(path));
  return normalized ? std::move(*normalized) : std::string(path);
}

std::optional<std::array<uint8_t, 32>> parseSha256Hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::array<uint8_t, 32> digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    int high = hexValue(hex[2 * i]);
    int low = hexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return digest;
}

std::string resolveRelative(std::string_view policy_file, std::string_view path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(policy_file).parent_path() / p).lexically_normal().string();
}

std::string closestName(std::string_view name, const std::vector<std::string>& candidates) {
  std::string lowered = lowercase(name);
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& candidate : candidates) {
    size_t d = editDistance(lowered, lowercase(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  // Allow about one typo per three characters, and at least one.
  size_t limit = std::max<size_t>(1, std::max(name.size(), best.size()) / 3);
  return best_distance <= limit ? best : std::string();
}

std::string didYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best = closestName(name, candidates);
  return best.empty() ? std::string() : "did you mean `" + best + "`?";
}

std::vector<std::string> serviceNames() {
  std::vector<std::string> names;
  for (int i = 0; i < ir::kServiceCount; ++i) {
    names.emplace_back(ir::serviceName(static_cast<ir::Service>(i)));
  }
  return names;
}

}  // namespace hoody::sema
