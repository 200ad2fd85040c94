// SPDX-License-Identifier: Apache-2.0
// Fuzz target for the whole front end: parse, check and lower one policy.
//
// Invariants: the front end never throws or crashes, every diagnostic has a
// code and a message, and a policy that checks clean survives an IR
// encode/decode round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compiler/driver/frontend.h"
#include "runtime/abi/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  hoody::driver::FrontEndOptions options;
  options.inline_sources.push_back(
      {"fuzz.hoody", std::string(reinterpret_cast<const char*>(data), size)});
  hoody::driver::FrontEndOutput out = hoody::driver::runFrontEnd(options);
  for (const auto& d : out.diagnostics) {
    if (d.code.empty() || d.message.empty()) abort();
  }
  if (out.ok) {
    auto decoded = hoody::bundle::decodeIr(hoody::bundle::encodeIr(out.policy));
    if (!decoded || !(*decoded == out.policy)) abort();
  }
  return 0;
}
