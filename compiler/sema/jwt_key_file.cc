// SPDX-License-Identifier: Apache-2.0
// JWT key files: confinement, form and key identities.
#include "compiler/sema/jwt_key_file.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "compiler/diag/diagnostic.h"
#include "compiler/sema/values.h"
#include "runtime/auth/auth.h"

namespace hoody::sema {
namespace {

namespace fs = std::filesystem;

// Key files are public keys, certificates or JWKS documents, so a larger
// file is a mistake.
constexpr std::streamsize kMaxKeyFileBytes = 1 << 20;

constexpr std::string_view kPemBegin = "-----BEGIN ";
constexpr std::string_view kPemDashes = "-----";
constexpr std::string_view kWhitespace = " \t\r\n";

constexpr const char* kWrapSecretHelp =
    "store an HMAC secret as a PEM block: `(echo '-----BEGIN HMAC SECRET-----'; printf %s "
    "\"$SECRET\" | base64; echo '-----END HMAC SECRET-----') > keys/hmac.pem`; for a public key "
    "use its PEM (`PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`) or a JWKS file";

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using DecoderCtxPtr =
    std::unique_ptr<OSSL_DECODER_CTX, Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;

bool isWhitespace(std::string_view text) {
  return text.find_first_not_of(kWhitespace) == std::string_view::npos;
}

// Returns true when `path` is `base` or lies below it. Both are canonical.
bool isWithin(const fs::path& path, const fs::path& base) {
  auto [base_end, path_at] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  return base_end == base.end();
}

std::string hexOf(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A big-endian number as hex without leading zeros, so JWK members with
// and without a leading zero byte compare equal.
std::string numberHex(const BIGNUM* n) {
  char* hex = BN_bn2hex(n);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  return out;
}

std::string numberHex(std::string_view big_endian) {
  BignumPtr n(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                        static_cast<int>(big_endian.size()), nullptr));
  return n ? numberHex(n.get()) : std::string();
}

std::string bnParamHex(const EVP_PKEY* key, const char* name) {
  BIGNUM* value = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &value) != 1) return {};
  BignumPtr owned(value);
  return numberHex(owned.get());
}

std::string hmacIdentity(std::string_view secret) {
  auth::Digest digest = auth::sha256(secret);
  return "oct|" + hexOf(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                         digest.size()));
}

// Identity of a public key by the members a JWK of it carries (RFC 7638
// uses the same members for JWK thumbprints).
std::optional<std::string> publicKeyIdentity(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA|" + bnParamHex(key, OSSL_PKEY_PARAM_RSA_N) + "|" +
             bnParamHex(key, OSSL_PKEY_PARAM_RSA_E);
    case EVP_PKEY_EC: {
      char name[80] = {};
      size_t name_length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                         &name_length) != 1) {
        return std::nullopt;
      }
      int nid = OBJ_sn2nid(name);
      if (nid == NID_undef) nid = EC_curve_nist2nid(name);
      return fmt::format("EC|{}|{}|{}", nid, bnParamHex(key, OSSL_PKEY_PARAM_EC_PUB_X),
                         bnParamHex(key, OSSL_PKEY_PARAM_EC_PUB_Y));
    }
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448: {
      unsigned char raw[64] = {};
      size_t raw_length = sizeof(raw);
      if (EVP_PKEY_get_raw_public_key(key, raw, &raw_length) != 1) return std::nullopt;
      return fmt::format("OKP|{}|{}", EVP_PKEY_get_base_id(key),
                         hexOf(std::string_view(reinterpret_cast<const char*>(raw), raw_length)));
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> pemBlockIdentity(std::string_view label, std::string_view block) {
  if (label == "PUBLIC KEY" || label == "RSA PUBLIC KEY") {
    EVP_PKEY* key = nullptr;
    DecoderCtxPtr ctx(OSSL_DECODER_CTX_new_for_pkey(&key, "PEM", nullptr, nullptr,
                                                    EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
    const auto* data = reinterpret_cast<const unsigned char*>(block.data());
    size_t length = block.size();
    if (!ctx || OSSL_DECODER_from_data(ctx.get(), &data, &length) != 1 || key == nullptr) {
      EVP_PKEY_free(key);
      return std::nullopt;
    }
    PkeyPtr owned(key);
    return publicKeyIdentity(owned.get());
  }
  if (label == "CERTIFICATE") {
    BioPtr bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    const EVP_PKEY* key = cert ? X509_get0_pubkey(cert.get()) : nullptr;
    if (key == nullptr) return std::nullopt;
    return publicKeyIdentity(key);
  }
  if (label == "HMAC SECRET") {
    size_t body_begin = block.find('\n');
    size_t body_end = block.rfind("-----END ");
    if (body_begin == std::string_view::npos || body_end <= body_begin) return std::nullopt;
    std::string_view body = block.substr(body_begin + 1, body_end - body_begin - 1);
    std::string secret(body.size(), '\0');
    size_t secret_length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(),
                          body.data(), body.size(), " \t\r\n", &secret_length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      return std::nullopt;
    }
    secret.resize(secret_length);
    return hmacIdentity(secret);
  }
  return std::nullopt;
}

// Calls `fn(label, block)` for each PEM block in order and `outside(text)`
// for the text before, between and after them. Returns false when a block
// is not closed, a case that auth::checkJwtKey explains.
template <typename BlockFn, typename OutsideFn>
bool forEachPemBlock(std::string_view text, BlockFn fn, OutsideFn outside) {
  size_t pos = 0;
  size_t begin = 0;
  while ((begin = text.find(kPemBegin, pos)) != std::string_view::npos) {
    outside(text.substr(pos, begin - pos));
    size_t label_begin = begin + kPemBegin.size();
    size_t label_end = text.find(kPemDashes, label_begin);
    if (label_end == std::string_view::npos) return false;
    std::string_view label = text.substr(label_begin, label_end - label_begin);
    std::string footer = "-----END " + std::string(label) + "-----";
    size_t footer_pos = text.find(footer, label_end);
    if (footer_pos == std::string_view::npos) return false;
    pos = footer_pos + footer.size();
    fn(label, text.substr(begin, pos - begin));
  }
  outside(text.substr(pos));
  return true;
}

std::optional<std::string> decodeBase64Url(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  std::string bytes(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 &&
      sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE) != 0) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
}

std::optional<std::string> jwkIdentity(const nlohmann::json& jwk) {
  if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) return std::nullopt;
  // The verifier skips keys that are not for signatures.
  if (jwk.contains("use") && jwk["use"] != "sig") return std::nullopt;
  std::string type = jwk["kty"].get<std::string>();
  std::string curve = jwk.contains("crv") && jwk["crv"].is_string() ? jwk["crv"].get<std::string>()
                                                                     : std::string();
  auto member = [&](const char* name) -> std::optional<std::string> {
    return jwk.contains(name) ? decodeBase64Url(jwk[name]) : std::nullopt;
  };
  if (type == "oct") {
    auto secret = member("k");
    if (!secret) return std::nullopt;
    return hmacIdentity(*secret);
  }
  if (type == "RSA") {
    auto n = member("n");
    auto e = member("e");
    if (!n || !e) return std::nullopt;
    return "RSA|" + numberHex(*n) + "|" + numberHex(*e);
  }
  if (type == "EC") {
    auto x = member("x");
    auto y = member("y");
    int nid = EC_curve_nist2nid(curve.c_str());
    if (!x || !y || nid == NID_undef) return std::nullopt;
    return fmt::format("EC|{}|{}|{}", nid, numberHex(*x), numberHex(*y));
  }
  if (type == "OKP") {
    auto x = member("x");
    int base_id = 0;
    if (curve == "Ed25519") base_id = EVP_PKEY_ED25519;
    if (curve == "Ed448") base_id = EVP_PKEY_ED448;
    if (!x || base_id == 0) return std::nullopt;
    return fmt::format("OKP|{}|{}", base_id, hexOf(*x));
  }
  return std::nullopt;
}

}  // namespace

std::variant<KeyFileText, KeyFileProblem> readKeyFile(std::string_view policy_file,
                                                      std::string_view written) {
  std::string resolved = resolveRelative(policy_file, written);
  auto cannotRead = [&](const std::string& reason) {
    return KeyFileProblem{"invalid-jwt-key",
                          fmt::format("cannot read key file {}: {}", diag::quote(written), reason),
                          "key file paths are relative to the policy file; check that `" +
                              resolved + "` exists and is readable"};
  };
  std::error_code ec;
  fs::path real = fs::canonical(resolved, ec);
  if (ec) return cannotRead(ec.message());
  fs::path policy_dir = fs::path(policy_file).parent_path();
  if (policy_dir.empty()) policy_dir = ".";
  fs::path base = fs::canonical(policy_dir, ec);
  if (ec) return cannotRead("the policy file's directory cannot be resolved: " + ec.message());

  if (!isWithin(real, base)) {
    std::string relative = real.lexically_relative(base).string();
    std::string message =
        relative == written
            ? fmt::format("key file {} is outside the directory of the policy file",
                          diag::quote(written))
            : fmt::format("key file {} resolves to {}, outside the directory of the policy file",
                          diag::quote(written), diag::quote(relative));
    return KeyFileProblem{"key-file-outside-policy", message,
                          "keep key files in the policy file's directory or below it, e.g. "
                          "`keys/issuer.pub.pem`, and name them relative to the policy file"};
  }
  if (fs::is_directory(real, ec)) return cannotRead("it is a directory");

  std::ifstream in(real, std::ios::binary);
  if (!in) return cannotRead(std::error_code(errno, std::generic_category()).message());
  std::string text(static_cast<size_t>(kMaxKeyFileBytes) + 1, '\0');
  in.read(text.data(), kMaxKeyFileBytes + 1);
  if (in.bad()) return cannotRead("read failed");
  text.resize(static_cast<size_t>(in.gcount()));
  if (static_cast<std::streamsize>(text.size()) > kMaxKeyFileBytes) {
    return cannotRead("the file is larger than 1 MiB");
  }
  return KeyFileText{std::move(text)};
}

std::optional<KeyFileProblem> keyTextFormProblem(std::string_view written, std::string_view text) {
  size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return KeyFileProblem{"invalid-jwt-key",
                          fmt::format("key file {} is empty", diag::quote(written)),
                          kWrapSecretHelp};
  }
  // The same order as the verifier's loader: any PEM header makes the text
  // PEM, else a leading `{` makes it JSON.
  if (text.find(kPemBegin) == std::string_view::npos) {
    if (text[first] == '{') return std::nullopt;
    return KeyFileProblem{
        "invalid-jwt-key",
        fmt::format("key file {} is neither PEM nor a JWKS document; raw bytes are not accepted "
                    "as an HMAC secret",
                    diag::quote(written)),
        kWrapSecretHelp};
  }
  bool text_outside = false;
  forEachPemBlock(
      text, [](std::string_view, std::string_view) {},
      [&](std::string_view outside) { text_outside = text_outside || !isWhitespace(outside); });
  if (text_outside) {
    return KeyFileProblem{
        "invalid-jwt-key",
        fmt::format("key file {} has text outside its PEM blocks, which would be compiled into "
                    "the bundle",
                    diag::quote(written)),
        "keep only the `-----BEGIN ...-----` to `-----END ...-----` blocks in the file"};
  }
  return std::nullopt;
}

std::vector<std::string> keyIdentities(std::string_view text) {
  std::vector<std::string> identities;
  auto add = [&](std::optional<std::string> identity) {
    if (!identity) return;
    if (std::find(identities.begin(), identities.end(), *identity) == identities.end()) {
      identities.push_back(std::move(*identity));
    }
  };
  if (text.find(kPemBegin) != std::string_view::npos) {
    forEachPemBlock(
        text, [&](std::string_view label, std::string_view block) {
          add(pemBlockIdentity(label, block));
        },
        [](std::string_view) {});
    return identities;
  }
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (!document.is_object()) return identities;
  if (document.contains("keys") && document["keys"].is_array()) {
    for (const nlohmann::json& jwk : document["keys"]) add(jwkIdentity(jwk));
  } else {
    add(jwkIdentity(document));
  }
  return identities;
}

}  // namespace hoody::sema
