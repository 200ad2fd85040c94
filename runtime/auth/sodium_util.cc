// SPDX-License-Identifier: Apache-2.0
// libsodium initialization and strict base64 decoding for the verifiers.
#include "runtime/auth/internal/sodium_util.h"

#include <sodium.h>

namespace hoody::auth::internal {
namespace {

std::optional<std::string> decodeVariant(std::string_view text, int variant) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t out_len = 0;
  const char* end = nullptr;
  // A null `ignore` set makes every character outside the alphabet an error,
  // and libsodium rejects non-zero trailing bits itself. It stops at the first
  // invalid character, so `end` must reach the end of the input.
  int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                             text.data(), text.size(), nullptr, &out_len, &end, variant);
  if (rc != 0 || end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(out_len);
  return out;
}

}  // namespace

bool ensureSodium() {
  // C++ runs the initializer of a function-local static once, even when
  // several threads arrive together, and later calls only read the flag.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::optional<std::string> decodeBase64Url(std::string_view text) {
  return decodeVariant(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::optional<std::string> decodeBase64Unpadded(std::string_view text) {
  return decodeVariant(text, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

}  // namespace hoody::auth::internal
