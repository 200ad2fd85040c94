// SPDX-License-Identifier: Apache-2.0
// libsodium helpers shared by the credential verifiers: one-time library
// initialization and strict base64 decoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hoody::auth::internal {

/// Initializes libsodium once per process. Safe to call from any thread.
/// Returns false when the library cannot start, in which case every
/// verification fails closed.
bool ensureSodium();

/// Decodes unpadded base64url (RFC 4648 section 5). Rejects padding,
/// whitespace, characters outside the alphabet and non-zero trailing bits,
/// so every byte string has exactly one accepted encoding.
std::optional<std::string> decodeBase64Url(std::string_view text);

/// Decodes unpadded standard base64, the form PHC password hash strings use,
/// with the same strictness as decodeBase64Url.
std::optional<std::string> decodeBase64Unpadded(std::string_view text);

}  // namespace hoody::auth::internal
