// SPDX-License-Identifier: Apache-2.0
// Password hashes (argon2id, argon2i, libsodium scrypt) and SHA-256 digests.
//
// Every hash passes a strict shape check before libsodium parses it. The
// check also caps the memory and time one verification may take, because the
// hash in a policy sets how much work every Basic request costs the proxy.
#include "runtime/auth/auth.h"

#include <charconv>
#include <cstring>
#include <optional>

#include <sodium.h>

#include "runtime/auth/internal/sodium_util.h"

namespace hoody::auth {
namespace {

constexpr char kArgon2idPrefix[] = "$argon2id$";
constexpr char kArgon2iPrefix[] = "$argon2i$";
constexpr char kScryptPrefix[] = "$7$";

/// Maximum memory cost a stored hash may request: 1 GiB, libsodium's
/// MEMLIMIT_SENSITIVE, so every hash libsodium's presets make is accepted.
constexpr uint64_t kMaxMemoryBytes = uint64_t{1} << 30;
/// Maximum argon2 pass count. libsodium's most expensive preset uses 8.
constexpr uint64_t kMaxArgon2Passes = 16;
/// Maximum argon2 lane count.
constexpr uint64_t kMaxArgon2Lanes = 64;
/// Minimum salt length of Argon2 (RFC 9106, section 3.1).
constexpr size_t kMinArgon2SaltBytes = 8;
/// Minimum hash length, crypto_pwhash_argon2id_BYTES_MIN in libsodium 1.0.18.
constexpr size_t kMinArgon2HashBytes = 16;

constexpr char kHashHelp[] = "; make one with `hoodyc hash-password`";

enum class HashKind : uint8_t { Argon2id, Argon2i, Scrypt };

Unexpected<Error> hashError(std::string message) {
  return makeError("invalid-password-hash", std::move(message) + kHashHelp);
}

/// Parses a decimal number without sign or leading zeros.
std::optional<uint64_t> parseDecimal(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

/// Removes `prefix` from the front of `text`. Returns false when it is absent.
bool consumePrefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) {
    return false;
  }
  text.remove_prefix(prefix.size());
  return true;
}

/// Reads `name=<decimal>` up to `separator` (or the end when it is '\0').
std::optional<uint64_t> consumeParameter(std::string_view& text, std::string_view name,
                                         char separator) {
  if (!consumePrefix(text, name) || !consumePrefix(text, "=")) {
    return std::nullopt;
  }
  size_t end = separator == '\0' ? text.size() : text.find(separator);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  auto value = parseDecimal(text.substr(0, end));
  text.remove_prefix(end == text.size() ? end : end + 1);
  return value;
}

/// Checks `$argon2id$v=19$m=M,t=T,p=P$SALT$HASH` (PHC string format). `rest`
/// starts after the algorithm prefix.
Result<void> checkArgon2Shape(std::string_view rest) {
  auto version = consumeParameter(rest, "v", '$');
  if (!version || *version != 19) {
    return hashError("the argon2 hash must start with `v=19` (argon2 version 1.3)");
  }
  auto memory_kib = consumeParameter(rest, "m", ',');
  auto passes = memory_kib ? consumeParameter(rest, "t", ',') : std::nullopt;
  auto lanes = passes ? consumeParameter(rest, "p", '$') : std::nullopt;
  if (!memory_kib || !passes || !lanes) {
    return hashError("the argon2 parameters must read `m=<KiB>,t=<passes>,p=<lanes>`");
  }
  if (*memory_kib > kMaxMemoryBytes / 1024 || *passes > kMaxArgon2Passes ||
      *lanes > kMaxArgon2Lanes || *passes == 0 || *lanes == 0) {
    return hashError("the argon2 parameters are out of range (at most 1 GiB of memory, " +
                     std::to_string(kMaxArgon2Passes) + " passes and " +
                     std::to_string(kMaxArgon2Lanes) + " lanes)");
  }

  size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) {
    return hashError("the argon2 hash has no `$<salt>$<hash>` part");
  }
  auto salt = internal::decodeBase64Unpadded(rest.substr(0, dollar));
  auto digest = internal::decodeBase64Unpadded(rest.substr(dollar + 1));
  if (!salt || !digest || salt->size() < kMinArgon2SaltBytes ||
      digest->size() < kMinArgon2HashBytes) {
    return hashError("the argon2 salt or hash is not valid unpadded base64 of the minimum length");
  }
  return {};
}

/// Position of `c` in the crypt(3) base64 alphabet that `$7$` strings use.
int cryptBase64Value(char c) {
  static constexpr std::string_view kAlphabet =
      "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  size_t pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

/// Reads a 30-bit little-endian number written as five crypt(3) base64 digits.
std::optional<uint64_t> decodeCrypt30(std::string_view five) {
  uint64_t value = 0;
  for (size_t i = 0; i < 5; ++i) {
    int digit = cryptBase64Value(five[i]);
    if (digit < 0) {
      return std::nullopt;
    }
    value |= static_cast<uint64_t>(digit) << (6 * i);
  }
  return value;
}

/// Checks `$7$` + N (1 digit, log2) + r (5) + p (5) + salt + `$` + hash (43).
/// `rest` starts after the prefix. scrypt needs 128 * r * N bytes.
Result<void> checkScryptShape(std::string_view rest) {
  constexpr size_t kHashChars = 43;
  if (rest.size() < 11 + 1 + kHashChars) {
    return hashError("the scrypt hash is too short for `$7$` format");
  }
  int log2_n = cryptBase64Value(rest[0]);
  auto block_size = decodeCrypt30(rest.substr(1, 5));
  auto parallelism = decodeCrypt30(rest.substr(6, 5));
  if (log2_n < 1 || log2_n > 40 || !block_size || !parallelism || *block_size == 0 ||
      *parallelism == 0) {
    return hashError("the scrypt parameters of the `$7$` hash are not valid");
  }
  // log2_n <= 40 keeps the shift in range, and dividing avoids the overflow
  // a product of two large factors would have.
  uint64_t bytes_per_block = uint64_t{128} << log2_n;
  if (*block_size > kMaxMemoryBytes / bytes_per_block) {
    return hashError("the scrypt parameters ask for more than 1 GiB of memory");
  }
  size_t dollar = rest.find('$', 11);
  if (dollar == std::string_view::npos || rest.size() - dollar - 1 != kHashChars) {
    return hashError("the scrypt hash must end in `$` and 43 characters of hash");
  }
  return {};
}

/// Returns the kind of `hash` after checking its shape.
Result<HashKind> classifyHash(std::string_view hash) {
  if (hash.empty()) {
    return hashError("the password hash is empty");
  }
  // libsodium's parsers take NUL-terminated strings in fixed-size buffers.
  size_t max_len = hash.substr(0, 3) == kScryptPrefix
                       ? crypto_pwhash_scryptsalsa208sha256_STRBYTES - 1
                       : crypto_pwhash_STRBYTES - 1;
  if (hash.size() > max_len || hash.find('\0') != std::string_view::npos) {
    return hashError("the password hash is longer than " + std::to_string(max_len) +
                     " bytes or contains a NUL byte");
  }

  std::string_view rest = hash;
  if (consumePrefix(rest, kArgon2idPrefix)) {
    HOODY_TRY(checkArgon2Shape(rest));
    return HashKind::Argon2id;
  }
  if (consumePrefix(rest, kArgon2iPrefix)) {
    HOODY_TRY(checkArgon2Shape(rest));
    return HashKind::Argon2i;
  }
  if (consumePrefix(rest, kScryptPrefix)) {
    HOODY_TRY(checkScryptShape(rest));
    return HashKind::Scrypt;
  }
  // The value is not echoed: it may be a plain-text password.
  return hashError(
      "the password hash is neither an argon2id PHC string (`$argon2id$v=19$m=...`) nor a "
      "libsodium scrypt string (`$7$...`); plain-text passwords are not allowed");
}

}  // namespace

Digest sha256(std::string_view data) {
  Digest out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

bool digestEqual(const Digest& a, const Digest& b) {
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> hashPassword(std::string_view password) {
  if (!internal::ensureSodium()) {
    return makeError("crypto-unavailable", "libsodium failed to initialize");
  }
  if (password.empty()) {
    return makeError("invalid-password", "the password is empty");
  }
  char out[crypto_pwhash_STRBYTES] = {};
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return makeError("password-hash-failed",
                     "argon2id hashing failed (it needs 64 MiB of free memory)");
  }
  return std::string(out);
}

Result<void> checkPasswordHash(std::string_view hash) {
  if (!internal::ensureSodium()) {
    return makeError("crypto-unavailable", "libsodium failed to initialize");
  }
  auto kind = classifyHash(hash);
  if (!kind) {
    return Unexpected<Error>{kind.error()};
  }

  // libsodium parses the string once more and returns -1 when it cannot use
  // it. The limits passed only decide between 0 and 1, which is ignored here.
  int rc = 0;
  if (*kind == HashKind::Scrypt) {
    char buffer[crypto_pwhash_scryptsalsa208sha256_STRBYTES] = {};
    std::memcpy(buffer, hash.data(), hash.size());
    rc = crypto_pwhash_scryptsalsa208sha256_str_needs_rehash(
        buffer, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE,
        crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE);
  } else {
    char buffer[crypto_pwhash_STRBYTES] = {};
    std::memcpy(buffer, hash.data(), hash.size());
    rc = *kind == HashKind::Argon2id
             ? crypto_pwhash_argon2id_str_needs_rehash(buffer, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                       crypto_pwhash_MEMLIMIT_INTERACTIVE)
             : crypto_pwhash_argon2i_str_needs_rehash(buffer, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                      crypto_pwhash_MEMLIMIT_INTERACTIVE);
  }
  if (rc < 0) {
    return hashError("libsodium cannot parse the password hash");
  }
  return {};
}

bool verifyPasswordHash(std::string_view hash, std::string_view password) {
  if (!internal::ensureSodium()) {
    return false;
  }
  // The same shape check as the compiler's, so a hash that slipped into a
  // bundle some other way cannot make the proxy allocate without bound.
  auto kind = classifyHash(hash);
  if (!kind) {
    return false;
  }

  if (*kind == HashKind::Scrypt) {
    char buffer[crypto_pwhash_scryptsalsa208sha256_STRBYTES] = {};
    std::memcpy(buffer, hash.data(), hash.size());
    return crypto_pwhash_scryptsalsa208sha256_str_verify(buffer, password.data(),
                                                         password.size()) == 0;
  }
  char buffer[crypto_pwhash_STRBYTES] = {};
  std::memcpy(buffer, hash.data(), hash.size());
  if (*kind == HashKind::Argon2id) {
    return crypto_pwhash_argon2id_str_verify(buffer, password.data(), password.size()) == 0;
  }
  return crypto_pwhash_argon2i_str_verify(buffer, password.data(), password.size()) == 0;
}

}  // namespace hoody::auth
