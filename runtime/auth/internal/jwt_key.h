// SPDX-License-Identifier: Apache-2.0
// JWS algorithms and the verification keys a policy pins for them.
//
// A key set comes only from the policy's key text, never from a token: the
// `jwk`, `jku`, `x5u`, `x5c` and `kid` header members are ignored.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "runtime/abi/result.h"

namespace hoody::auth::internal {

enum class JwsFamily : uint8_t { RsaPkcs1, RsaPss, Ecdsa, EdDsa, Hmac };

/// One supported JWS `alg` value (RFC 7518, RFC 8037).
struct JwsAlgorithm {
  std::string_view name;
  JwsFamily family;
  int hash_bits;               ///< SHA-2 output size; 0 for EdDSA.
  int ec_curve_nid;            ///< ES*: the one curve allowed; 0 otherwise.
  size_t ec_coordinate_bytes;  ///< ES*: length of r and of s in the signature.
};

/// Returns the supported algorithm named exactly `name` (case-sensitive), or
/// null. "none" is never in the table.
const JwsAlgorithm* findJwsAlgorithm(std::string_view name);

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

enum class KeyType : uint8_t { Rsa, RsaPss, Ec, Ed25519, Ed448, Hmac };

/// One verification key: a public key or an HMAC secret.
struct JwtKey {
  KeyType type = KeyType::Rsa;
  EvpPkeyPtr public_key;  ///< Null for KeyType::Hmac.
  std::string secret;     ///< HMAC secret bytes; empty for public keys.
  int bits = 0;           ///< RSA modulus size.
  int ec_curve_nid = 0;   ///< EC named curve.
  /// JWK `alg` member: when set, the only algorithm this key may verify.
  std::string algorithm;
};

/// Largest number of keys one policy key text may hold. Each key that fits
/// a token's algorithm costs one verification for a token that fails.
inline constexpr size_t kMaxJwtKeys = 16;

/// The keys of one JWT group, parsed once from its policy text.
class JwtKeySet {
 public:
  /// Parses a policy's key text: PEM blocks (`PUBLIC KEY`, `RSA PUBLIC KEY`,
  /// `CERTIFICATE`, `HMAC SECRET`), a JWK Set or single JWK in JSON, or else
  /// the raw bytes of an HMAC secret (one trailing newline dropped). Private
  /// keys are rejected. Error code "invalid-jwt-key".
  static Result<JwtKeySet> parse(std::string_view text);

  /// Succeeds when some key can verify `alg`. Otherwise the error explains
  /// why none can. Error code "invalid-jwt-key".
  Result<void> checkUsable(const JwsAlgorithm& alg) const;

  /// Returns true when any key usable with `alg` verifies `signature` (the
  /// decoded JWS signature) over `signing_input`. Key type, curve, RSA size
  /// and HMAC secret length must all fit `alg`.
  bool verify(const JwsAlgorithm& alg, std::string_view signing_input,
              std::string_view signature) const;

  const std::vector<JwtKey>& keys() const { return keys_; }

 private:
  std::vector<JwtKey> keys_;
};

/// Returns an empty string when `key` can verify `alg`, otherwise the reason
/// it cannot, for error messages.
std::string keyMismatch(const JwtKey& key, const JwsAlgorithm& alg);

/// Describes a key for messages, e.g. "an RSA 2048-bit key".
std::string describeKey(const JwtKey& key);

}  // namespace hoody::auth::internal
