// SPDX-License-Identifier: Apache-2.0
// Fuzz target for host-name and Authorization parsing, the two inputs the
// proxy reads before every decision.
//
// Invariants: a parsed host's canonical form parses again to the same key;
// Basic credentials never contain a control character and the user never
// contains a colon.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/policy/decision.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  using namespace hoody::policy;

  ParsedHost h = parseHost(input, "node-us", "example");
  if (h.status != HostStatus::Malformed) {
    ParsedHost again = parseHost(h.canonical, "node-us", "example");
    if (again.status != h.status || again.canonical != h.canonical) abort();
    if (h.status == HostStatus::Ok &&
        (again.key.container != h.key.container || again.key.project != h.key.project ||
         again.key.service != h.key.service || again.key.instance != h.key.instance)) {
      abort();
    }
  }

  Credentials c = parseAuthorization(input);
  if (c.kind == Credentials::Kind::Basic) {
    if (c.user.empty() || c.user.find(':') != std::string::npos) abort();
    for (unsigned char ch : c.user + c.password) {
      if (ch < 0x20 || ch == 0x7f) abort();
    }
  }
  return 0;
}
