// SPDX-License-Identifier: Apache-2.0
// Character classes and small helpers over header fields.
#include "runtime/http/headers.h"

#include <array>

namespace hoody::http {
namespace {

constexpr std::array<bool, 256> makeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> kTokenTable = makeTokenTable();

unsigned char lowerAscii(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Largest Content-Length accepted: 2^53, far above any body this proxy
// streams, and small enough that arithmetic on it never overflows.
constexpr uint64_t kMaxContentLength = uint64_t{1} << 53;

}  // namespace

bool isTokenChar(unsigned char c) { return kTokenTable[c]; }

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!kTokenTable[c]) return false;
  }
  return true;
}

bool isValidFieldValue(std::string_view s) {
  if (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.back() == ' ' || s.back() == '\t')) {
    return false;
  }
  for (unsigned char c : s) {
    if (c == '\t') continue;
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

bool startsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && equalsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(lowerAscii(c));
  return out;
}

std::string_view trimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const HeaderField* findField(const HeaderList& headers, std::string_view name, int* count) {
  const HeaderField* found = nullptr;
  int n = 0;
  for (const HeaderField& field : headers) {
    if (equalsIgnoreCase(field.name, name)) {
      if (found == nullptr) found = &field;
      ++n;
    }
  }
  if (count != nullptr) *count = n;
  return found;
}

std::vector<std::string_view> splitList(std::string_view value) {
  std::vector<std::string_view> out;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view element = trimWhitespace(value.substr(0, comma));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

bool listContainsToken(std::string_view value, std::string_view token) {
  for (std::string_view element : splitList(value)) {
    if (equalsIgnoreCase(element, token)) return true;
  }
  return false;
}

bool parseContentLength(std::string_view value, uint64_t* out) {
  if (value.empty() || value.size() > 16) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > kMaxContentLength) return false;
  *out = n;
  return true;
}

}  // namespace hoody::http
