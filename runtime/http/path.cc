// SPDX-License-Identifier: Apache-2.0
// Request path normalization.
#include "runtime/http/path.h"

#include <cstdint>
#include <vector>

namespace hoody::http {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Raw bytes allowed in a path besides unreserved ones: sub-delims except `;`,
// plus `:`, `@`, `/` and `%` (RFC 3986 section 3.3).
bool isRawPathChar(unsigned char c) {
  if (isUnreserved(c)) return true;
  switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',':
    case '=': case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

bool isEncodedReserved(int byte) {
  return byte == '/' || byte == '\\' || byte == 0 || byte == ';' || byte == '?' || byte == '#';
}

// Checks that `bytes` (decoded from consecutive escapes) is valid UTF-8 with
// no overlong forms, surrogates or code points above U+10FFFF.
bool isValidUtf8(const std::vector<unsigned char>& bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char b = bytes[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      len = 2;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      len = 3;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;  // Continuation byte first, 0xc0/0xc1 overlong leads, or 0xf5+.
    }
    if (i + len > bytes.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (bytes[i + k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += len;
  }
  return true;
}

constexpr char kHexUpper[] = "0123456789ABCDEF";

void appendEscape(unsigned char byte, std::string* out) {
  out->push_back('%');
  out->push_back(kHexUpper[byte >> 4]);
  out->push_back(kHexUpper[byte & 0x0f]);
}

// Decodes escapes of unreserved characters once and rewrites every other
// escape with uppercase hex digits.
Result<std::string> decodeUnreserved(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c != '%') {
      if (c == ';') return makeError("path-parameter", "path parameters (`;`) are not accepted");
      if (!isRawPathChar(c)) return makeError("invalid-path", "invalid character in the path");
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // A run of escapes of bytes >= 0x80 must form valid UTF-8 as a whole.
    std::vector<unsigned char> high;
    while (i < path.size() && path[i] == '%') {
      if (i + 2 >= path.size()) {
        return makeError("invalid-escape", "incomplete percent escape in the path");
      }
      int hi = hexValue(path[i + 1]);
      int lo = hexValue(path[i + 2]);
      if (hi < 0 || lo < 0) return makeError("invalid-escape", "invalid percent escape in the path");
      int byte = hi * 16 + lo;
      if (byte < 0x80) break;
      high.push_back(static_cast<unsigned char>(byte));
      i += 3;
    }
    if (!high.empty()) {
      if (!isValidUtf8(high)) {
        return makeError("invalid-utf8", "percent escapes in the path are not valid UTF-8");
      }
      for (unsigned char b : high) appendEscape(b, &out);
      continue;
    }
    int byte = hexValue(path[i + 1]) * 16 + hexValue(path[i + 2]);
    if (isEncodedReserved(byte)) {
      return makeError("encoded-reserved", "encoded `/`, `\\`, NUL, `;`, `?` or `#` in the path");
    }
    if (isUnreserved(static_cast<unsigned char>(byte))) {
      out.push_back(static_cast<char>(byte));
    } else {
      appendEscape(static_cast<unsigned char>(byte), &out);
    }
    i += 3;
  }
  return out;
}

}  // namespace

Result<std::string> normalizePath(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return makeError("invalid-path", "the path must start with `/`");
  }
  Result<std::string> decoded = decodeUnreserved(path);
  if (!decoded) return decoded;

  // Remove dot segments and empty segments. A `..` at the root stays at the
  // root, as in RFC 3986 section 5.2.4.
  std::vector<std::string_view> segments;
  std::string_view rest = *decoded;
  bool trailing_slash = false;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // The `/` before this segment.
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    bool last = rest.empty();
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else if (segment == "." || segment.empty()) {
      trailing_slash = last;
    } else {
      segments.push_back(segment);
      trailing_slash = false;
    }
  }

  std::string out;
  out.reserve(decoded->size());
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  return out;
}

Result<NormalizedTarget> normalizeTarget(std::string_view target) {
  NormalizedTarget result;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  if (question != std::string_view::npos) {
    std::string_view query = target.substr(question + 1);
    for (unsigned char c : query) {
      if (c <= 0x20 || c >= 0x7f || c == '#') {
        return makeError("invalid-query", "invalid character in the query");
      }
    }
    result.query.assign(query);
    result.has_query = true;
  }
  Result<std::string> normalized = normalizePath(path);
  if (!normalized) return Unexpected<Error>{normalized.error()};
  result.path = std::move(*normalized);
  return result;
}

}  // namespace hoody::http
