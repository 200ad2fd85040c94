// SPDX-License-Identifier: Apache-2.0
// Parsing of a JWT group's key text: PEM public keys and certificates, JWK
// Sets, and HMAC secrets.
//
// The loader runs when the checker reads a policy and when a verifier first
// meets a group, never per request, so it explains every failure in full.
#include "runtime/auth/internal/jwt_key.h"

#include <optional>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "runtime/auth/internal/sodium_util.h"
#include "runtime/auth/internal/strict_json.h"

namespace hoody::auth::internal {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPemDashes = "-----";
constexpr std::string_view kPublicKeyHelp =
    "pin the public key instead, e.g. `openssl pkey -in KEY.pem -pubout -out KEY.pub.pem`";

Unexpected<Error> keyError(std::string message) {
  return makeError("invalid-jwt-key", std::move(message));
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using DecoderCtxPtr =
    std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;

BioPtr memoryBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

/// Fills type, size and curve from an OpenSSL key, rejecting key types no JWS
/// algorithm uses and keys that fail OpenSSL's public-key check.
Result<JwtKey> classifyPublicKey(EvpPkeyPtr key) {
  JwtKey out;
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA:
      out.type = KeyType::Rsa;
      break;
    case EVP_PKEY_RSA_PSS:
      out.type = KeyType::RsaPss;
      break;
    case EVP_PKEY_EC: {
      out.type = KeyType::Ec;
      char name[80] = {};
      size_t name_len = 0;
      if (EVP_PKEY_get_group_name(key.get(), name, sizeof(name), &name_len) != 1) {
        return keyError("the EC key does not name its curve; use P-256, P-384 or P-521");
      }
      out.ec_curve_nid = OBJ_sn2nid(name);
      if (out.ec_curve_nid == NID_undef) {
        out.ec_curve_nid = EC_curve_nist2nid(name);
      }
      break;
    }
    case EVP_PKEY_ED25519:
      out.type = KeyType::Ed25519;
      break;
    case EVP_PKEY_ED448:
      out.type = KeyType::Ed448;
      break;
    default: {
      const char* type_name = EVP_PKEY_get0_type_name(key.get());
      return keyError(std::string("unsupported key type `") + (type_name ? type_name : "?") +
                      "`; use an RSA, EC, Ed25519 or Ed448 public key or an HMAC secret");
    }
  }

  if (out.type == KeyType::Rsa || out.type == KeyType::RsaPss || out.type == KeyType::Ec) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
      return keyError("the public key fails OpenSSL's validity check (" + describeKey(out) + ")");
    }
  }
  out.bits = EVP_PKEY_get_bits(key.get());
  out.public_key = std::move(key);
  return out;
}

Result<EvpPkeyPtr> decodePublicKeyPem(std::string_view block) {
  EVP_PKEY* key = nullptr;
  DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, nullptr,
                                                  EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
  const auto* data = reinterpret_cast<const unsigned char*>(block.data());
  size_t len = block.size();
  if (!ctx || OSSL_DECODER_from_data(ctx.get(), &data, &len) != 1 || key == nullptr) {
    EVP_PKEY_free(key);
    return keyError("the PEM public key cannot be decoded");
  }
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> decodeCertificatePem(std::string_view block) {
  BioPtr bio = memoryBio(block);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  EVP_PKEY* key = cert ? X509_get_pubkey(cert.get()) : nullptr;
  if (key == nullptr) {
    return keyError("the PEM certificate cannot be decoded");
  }
  return EvpPkeyPtr(key);
}

/// Decodes the base64 body of a `HMAC SECRET` block.
Result<std::string> decodeSecretPem(std::string_view block) {
  size_t body_begin = block.find('\n');
  size_t body_end = block.rfind("-----END ");
  if (body_begin == std::string_view::npos || body_end <= body_begin) {
    return keyError("the `HMAC SECRET` PEM block has no body");
  }
  std::string_view body = block.substr(body_begin + 1, body_end - body_begin - 1);
  std::string secret(body.size(), '\0');
  size_t secret_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(),
                        body.data(), body.size(), " \t\r\n", &secret_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != body.data() + body.size() || secret_len == 0) {
    return keyError("the `HMAC SECRET` PEM block is not valid base64");
  }
  secret.resize(secret_len);
  return secret;
}

/// Parses one PEM block by its label.
Result<std::optional<JwtKey>> parsePemBlock(std::string_view label, std::string_view block) {
  if (label.find("PRIVATE KEY") != std::string_view::npos) {
    return keyError("the key text contains a private key (`" + std::string(label) + "`); " +
                    std::string(kPublicKeyHelp));
  }
  if (label == "EC PARAMETERS") {
    return std::optional<JwtKey>();  // Curve parameters only; they carry no key.
  }
  if (label == "HMAC SECRET") {
    auto secret = decodeSecretPem(block);
    if (!secret) {
      return Unexpected<Error>{secret.error()};
    }
    JwtKey key;
    key.type = KeyType::Hmac;
    key.secret = std::move(*secret);
    return std::optional<JwtKey>(std::move(key));
  }

  Result<EvpPkeyPtr> decoded = keyError("unsupported PEM block `" + std::string(label) +
                                        "`; use `PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE` "
                                        "or `HMAC SECRET`");
  if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") {
    decoded = decodePublicKeyPem(block);
  } else if (label == "CERTIFICATE") {
    decoded = decodeCertificatePem(block);
  }
  if (!decoded) {
    return Unexpected<Error>{decoded.error()};
  }
  auto key = classifyPublicKey(std::move(*decoded));
  if (!key) {
    return Unexpected<Error>{key.error()};
  }
  return std::optional<JwtKey>(std::move(*key));
}

Result<std::vector<JwtKey>> parsePem(std::string_view text) {
  std::vector<JwtKey> keys;
  size_t pos = 0;
  while ((pos = text.find(kPemBegin, pos)) != std::string_view::npos) {
    size_t label_begin = pos + kPemBegin.size();
    size_t label_end = text.find(kPemDashes, label_begin);
    if (label_end == std::string_view::npos) {
      return keyError("a PEM `-----BEGIN` line is not closed by `-----`");
    }
    std::string_view label = text.substr(label_begin, label_end - label_begin);
    std::string footer = "-----END " + std::string(label) + "-----";
    size_t footer_pos = text.find(footer, label_end);
    if (footer_pos == std::string_view::npos) {
      return keyError("the PEM block `" + std::string(label) + "` has no `" + footer + "` line");
    }
    size_t block_end = footer_pos + footer.size();
    auto key = parsePemBlock(label, text.substr(pos, block_end - pos));
    if (!key) {
      return Unexpected<Error>{key.error()};
    }
    if (key->has_value()) {
      keys.push_back(std::move(**key));
    }
    pos = block_end;
  }
  return keys;
}

/// Reads a base64url member of a JWK.
Result<std::string> jwkBytes(const Json& jwk, const char* member) {
  auto it = jwk.find(member);
  if (it == jwk.end() || !it->is_string()) {
    return keyError(std::string("a JWK has no string member `") + member + "`");
  }
  auto decoded = decodeBase64Url(it->get_ref<const std::string&>());
  if (!decoded || decoded->empty()) {
    return keyError(std::string("the JWK member `") + member + "` is not valid base64url");
  }
  return std::move(*decoded);
}

Result<EvpPkeyPtr> keyFromParams(const char* key_type, OSSL_PARAM_BLD* builder) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return keyError(std::string("the ") + key_type + " JWK is not a valid public key");
  }
  return EvpPkeyPtr(key);
}

BignumPtr bignumFrom(std::string_view big_endian) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                             static_cast<int>(big_endian.size()), nullptr));
}

Result<EvpPkeyPtr> rsaFromJwk(const Json& jwk) {
  auto modulus = jwkBytes(jwk, "n");
  auto exponent = modulus ? jwkBytes(jwk, "e") : modulus;
  if (!exponent) {
    return Unexpected<Error>{exponent.error()};
  }
  BignumPtr n = bignumFrom(*modulus);
  BignumPtr e = bignumFrom(*exponent);
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return keyError("the RSA JWK cannot be built");
  }
  return keyFromParams("RSA", builder.get());
}

/// Builds an EC key from `x` and `y`, each exactly as long as the curve's
/// field (RFC 7518 section 6.2.1.2), as an uncompressed point.
Result<EvpPkeyPtr> ecFromJwk(const Json& jwk, const char* group, size_t coordinate_bytes) {
  auto x = jwkBytes(jwk, "x");
  auto y = x ? jwkBytes(jwk, "y") : x;
  if (!y) {
    return Unexpected<Error>{y.error()};
  }
  if (x->size() != coordinate_bytes || y->size() != coordinate_bytes) {
    return keyError(std::string("the ") + group + " JWK coordinates must be " +
                    std::to_string(coordinate_bytes) + " bytes each");
  }
  std::string point = "\x04" + *x + *y;
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return keyError("the EC JWK cannot be built");
  }
  return keyFromParams("EC", builder.get());
}

Result<EvpPkeyPtr> okpFromJwk(const Json& jwk, int type, size_t key_bytes) {
  auto x = jwkBytes(jwk, "x");
  if (!x) {
    return Unexpected<Error>{x.error()};
  }
  if (x->size() != key_bytes) {
    return keyError("the OKP JWK member `x` must be " + std::to_string(key_bytes) + " bytes");
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      type, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (key == nullptr) {
    return keyError("the OKP JWK is not a valid public key");
  }
  return EvpPkeyPtr(key);
}

/// Returns the string member `name`, nullopt when absent, or an error when
/// present with another type.
Result<std::optional<std::string>> optionalString(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) {
    return std::optional<std::string>();
  }
  if (!it->is_string()) {
    return keyError(std::string("the JWK member `") + name + "` must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

/// Parses one JWK (RFC 7517). Keys not meant for signatures (`use` other
/// than "sig") and key types no supported algorithm uses are skipped, as
/// identity providers publish them next to their signing keys.
Result<std::optional<JwtKey>> parseJwk(const Json& jwk) {
  if (!jwk.is_object()) {
    return keyError("every entry of the JWK Set `keys` array must be an object");
  }
  auto kty = optionalString(jwk, "kty");
  auto use = kty ? optionalString(jwk, "use") : kty;
  auto alg = use ? optionalString(jwk, "alg") : use;
  if (!alg) {
    return Unexpected<Error>{alg.error()};
  }
  if (!kty->has_value()) {
    return keyError("a JWK has no `kty` member");
  }
  const std::string& type = **kty;
  for (const char* member : {"d", "p", "q", "dp", "dq", "qi", "oth"}) {
    if (type != "oct" && jwk.contains(member)) {
      return keyError("the JWK Set contains a private key (member `" + std::string(member) + "`); " +
                      std::string(kPublicKeyHelp));
    }
  }
  bool skip = (use->has_value() && **use != "sig") ||
              (alg->has_value() && findJwsAlgorithm(**alg) == nullptr);
  if (skip) {
    return std::optional<JwtKey>();
  }

  Result<EvpPkeyPtr> decoded = keyError("unsupported");
  std::string curve = jwk.contains("crv") && jwk["crv"].is_string() ? jwk["crv"].get<std::string>()
                                                                     : std::string();
  if (type == "oct") {
    auto secret = jwkBytes(jwk, "k");
    if (!secret) {
      return Unexpected<Error>{secret.error()};
    }
    JwtKey key;
    key.type = KeyType::Hmac;
    key.secret = std::move(*secret);
    key.algorithm = alg->value_or("");
    return std::optional<JwtKey>(std::move(key));
  } else if (type == "RSA") {
    decoded = rsaFromJwk(jwk);
  } else if (type == "EC" && curve == "P-256") {
    decoded = ecFromJwk(jwk, "P-256", 32);
  } else if (type == "EC" && curve == "P-384") {
    decoded = ecFromJwk(jwk, "P-384", 48);
  } else if (type == "EC" && curve == "P-521") {
    decoded = ecFromJwk(jwk, "P-521", 66);
  } else if (type == "OKP" && curve == "Ed25519") {
    decoded = okpFromJwk(jwk, EVP_PKEY_ED25519, 32);
  } else if (type == "OKP" && curve == "Ed448") {
    decoded = okpFromJwk(jwk, EVP_PKEY_ED448, 57);
  } else {
    return std::optional<JwtKey>();
  }
  if (!decoded) {
    return Unexpected<Error>{decoded.error()};
  }
  auto key = classifyPublicKey(std::move(*decoded));
  if (!key) {
    return Unexpected<Error>{key.error()};
  }
  key->algorithm = alg->value_or("");
  return std::optional<JwtKey>(std::move(*key));
}

Result<std::vector<JwtKey>> parseJwks(std::string_view text) {
  auto document = parseJsonObject(text);
  if (!document) {
    return keyError("the key text starts with `{` but is not a valid JSON object");
  }
  std::vector<Json> entries;
  if (auto it = document->find("keys"); it != document->end()) {
    if (!it->is_array()) {
      return keyError("the JWK Set member `keys` must be an array");
    }
    entries.assign(it->begin(), it->end());
  } else {
    entries.push_back(*document);  // A single JWK.
  }

  std::vector<JwtKey> keys;
  for (const Json& entry : entries) {
    auto key = parseJwk(entry);
    if (!key) {
      return Unexpected<Error>{key.error()};
    }
    if (key->has_value()) {
      keys.push_back(std::move(**key));
    }
  }
  if (keys.empty()) {
    return keyError("the JWK Set contains no signature key of a supported type (RSA, EC P-256, "
                    "P-384, P-521, OKP Ed25519, Ed448 or oct)");
  }
  return keys;
}

/// Treats the whole text as the secret, minus one trailing line break, which
/// text editors and `echo` add.
Result<std::vector<JwtKey>> parseRawSecret(std::string_view text) {
  if (text.size() >= 2 && text.substr(text.size() - 2) == "\r\n") {
    text.remove_suffix(2);
  } else if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return keyError("the key text is empty");
  }
  JwtKey key;
  key.type = KeyType::Hmac;
  key.secret = std::string(text);
  std::vector<JwtKey> keys;
  keys.push_back(std::move(key));
  return keys;
}

}  // namespace

Result<JwtKeySet> JwtKeySet::parse(std::string_view text) {
  if (!ensureSodium()) {
    return makeError("crypto-unavailable", "libsodium failed to initialize");
  }
  size_t first = text.find_first_not_of(" \t\r\n");
  Result<std::vector<JwtKey>> keys = std::vector<JwtKey>();
  if (text.find(kPemBegin) != std::string_view::npos) {
    keys = parsePem(text);
  } else if (first != std::string_view::npos && text[first] == '{') {
    keys = parseJwks(text);
  } else {
    keys = parseRawSecret(text);
  }
  if (!keys) {
    return Unexpected<Error>{keys.error()};
  }
  if (keys->empty()) {
    return keyError("the PEM text contains no public key or HMAC secret");
  }
  if (keys->size() > kMaxJwtKeys) {
    return keyError("the key text contains " + std::to_string(keys->size()) + " keys, but at most " +
                    std::to_string(kMaxJwtKeys) + " are allowed");
  }
  JwtKeySet set;
  set.keys_ = std::move(*keys);
  return set;
}

}  // namespace hoody::auth::internal
