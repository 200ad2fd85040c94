// SPDX-License-Identifier: Apache-2.0
// Header fields and the character classes of RFC 9110 shared by the HTTP/1.1
// parsers, the HTTP/2 front end and the forwarding rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hoody::http {

struct HeaderField {
  std::string name;  ///< As received: case preserved for HTTP/1.1, lowercase for HTTP/2.
  std::string value;
};
using HeaderList = std::vector<HeaderField>;

/// Returns true for a `tchar` of RFC 9110 section 5.6.2.
bool isTokenChar(unsigned char c);
/// Returns true when `s` is a non-empty token.
bool isToken(std::string_view s);
/// Returns true when `s` may be a field value: visible ASCII, obs-text, SP and
/// HTAB, with no leading or trailing whitespace and no control characters.
bool isValidFieldValue(std::string_view s);
/// ASCII case-insensitive comparison.
bool equalsIgnoreCase(std::string_view a, std::string_view b);
bool startsWithIgnoreCase(std::string_view s, std::string_view prefix);
std::string toLower(std::string_view s);
/// Strips leading and trailing SP and HTAB.
std::string_view trimWhitespace(std::string_view s);

/// Returns the value of the only field named `name`, or nullptr when it is
/// absent. `count` receives the number of fields with that name.
const HeaderField* findField(const HeaderList& headers, std::string_view name, int* count);

/// Returns true when the comma-separated list `value` contains `token`
/// (case-insensitive), e.g. `close` in a Connection field.
bool listContainsToken(std::string_view value, std::string_view token);

/// Splits a comma-separated list into trimmed, non-empty elements.
std::vector<std::string_view> splitList(std::string_view value);

/// Parses a Content-Length value: 1*DIGIT, nothing else, at most 2^53.
/// Returns false for a sign, whitespace, a list, or an overflow.
bool parseContentLength(std::string_view value, uint64_t* out);

}  // namespace hoody::http
