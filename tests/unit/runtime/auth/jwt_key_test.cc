// SPDX-License-Identifier: Apache-2.0
// Tests of JWT key texts: checkJwtKey and verification with PEM, certificate,
// JWK Set and HMAC secret keys.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <openssl/encoder.h>
#include <openssl/x509.h>

#include "runtime/auth/auth.h"
#include "tests/unit/runtime/auth/jwt_signer.h"

namespace hoody::auth {
namespace {

using testing::PkeyPtr;
using testing::SignMode;

constexpr int64_t kNow = 1'700'000'000;

std::string payload() { return R"({"sub":"u1","exp":)" + std::to_string(kNow + 600) + "}"; }

std::string bigEndian(const PkeyPtr& key, const char* param) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key.get(), param, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

std::string rsaJwk(const PkeyPtr& key, const std::string& extra = "") {
  return R"({"kty":"RSA","n":")" + testing::base64Url(bigEndian(key, "n")) + R"(","e":")" +
         testing::base64Url(bigEndian(key, "e")) + "\"" + extra + "}";
}

std::string ecJwk(const PkeyPtr& key, const char* curve, size_t coordinate_bytes) {
  unsigned char point[200];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key.get(), "pub", point, sizeof(point), &len);
  std::string raw(reinterpret_cast<char*>(point) + 1, len - 1);
  return std::string(R"({"kty":"EC","crv":")") + curve + R"(","x":")" +
         testing::base64Url(raw.substr(0, coordinate_bytes)) + R"(","y":")" +
         testing::base64Url(raw.substr(coordinate_bytes)) + "\"}";
}

std::string ed25519Jwk(const PkeyPtr& key) {
  unsigned char raw[32];
  size_t len = sizeof(raw);
  EVP_PKEY_get_raw_public_key(key.get(), raw, &len);
  return R"({"kty":"OKP","crv":"Ed25519","x":")" +
         testing::base64Url(std::string(reinterpret_cast<char*>(raw), len)) + "\"}";
}

std::string selfSignedCertificate(const PkeyPtr& key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("idp.example"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key.get(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  X509_free(cert);
  return testing::bioText(bio);
}

class JwtKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = testing::makeRsaKey(2048);
    p256_ = testing::makeEcKey("P-256");
    ed25519_ = testing::makeEd25519Key();
  }

  static ir::JwtSpec spec(const std::string& alg, const std::string& key_text) {
    ir::JwtSpec out;
    out.algorithms = {alg};
    out.key_pem = key_text;
    return out;
  }

  static std::string rs256Token(const PkeyPtr& key) {
    std::string input = testing::signingInput(R"({"alg":"RS256"})", payload());
    return testing::joinToken(input, testing::sign(key, SignMode::RsaPkcs1, 256, input));
  }

  static std::string es256Token(const PkeyPtr& key) {
    std::string input = testing::signingInput(R"({"alg":"ES256"})", payload());
    return testing::joinToken(input, testing::sign(key, SignMode::Ecdsa, 256, input, 32));
  }

  static inline PkeyPtr rsa_, p256_, ed25519_;
};

TEST_F(JwtKeyTest, AcceptsMatchingPublicKeys) {
  EXPECT_TRUE(checkJwtKey(testing::publicPem(rsa_), {"RS256", "PS512"}));
  EXPECT_TRUE(checkJwtKey(testing::publicPem(p256_), {"ES256"}));
  EXPECT_TRUE(checkJwtKey(testing::publicPem(ed25519_), {"EdDSA"}));
}

TEST_F(JwtKeyTest, RejectsKeyOfWrongFamily) {
  auto result = checkJwtKey(testing::publicPem(rsa_), {"ES256"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "invalid-jwt-key");
  EXPECT_NE(result.error().message.find("ES256 needs an EC public key"), std::string::npos)
      << result.error().message;
  EXPECT_FALSE(checkJwtKey(testing::publicPem(p256_), {"ES384"}));
  EXPECT_FALSE(checkJwtKey(testing::publicPem(ed25519_), {"ES256"}));
  EXPECT_FALSE(checkJwtKey(testing::publicPem(rsa_), {"RS256", "ES256"}));
}

TEST_F(JwtKeyTest, RejectsPublicKeyForHmac) {
  auto result = checkJwtKey(testing::publicPem(rsa_), {"HS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("HS256 needs an HMAC secret"), std::string::npos)
      << result.error().message;
}

TEST_F(JwtKeyTest, RejectsShortRsaKey) {
  auto result = checkJwtKey(testing::publicPem(testing::makeRsaKey(1024)), {"RS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("at least 2048 bits"), std::string::npos);
}

TEST_F(JwtKeyTest, RejectsPrivateKey) {
  auto result = checkJwtKey(testing::privatePem(p256_), {"ES256"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "invalid-jwt-key");
  EXPECT_NE(result.error().message.find("private key"), std::string::npos);
  EXPECT_NE(result.error().message.find("-pubout"), std::string::npos);
}

TEST_F(JwtKeyTest, RejectsNoneAndUnknownAlgorithms) {
  std::string pem = testing::publicPem(rsa_);
  auto none = checkJwtKey(pem, {"RS256", "None"});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("never allowed"), std::string::npos);
  auto unknown = checkJwtKey(pem, {"RS1"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("not a supported JWT algorithm"), std::string::npos);
  auto empty = checkJwtKey(pem, {});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no JWT algorithm"), std::string::npos);
}

TEST_F(JwtKeyTest, RejectsBrokenPem) {
  EXPECT_FALSE(checkJwtKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                           {"RS256"}));
  EXPECT_FALSE(checkJwtKey("-----BEGIN PUBLIC KEY-----\nAAAA\n", {"RS256"}));
  auto unsupported =
      checkJwtKey("-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----\n", {"RS256"});
  ASSERT_FALSE(unsupported);
  EXPECT_NE(unsupported.error().message.find("unsupported PEM block"), std::string::npos);
}

TEST_F(JwtKeyTest, VerifiesWithCertificate) {
  std::string cert = selfSignedCertificate(rsa_);
  ASSERT_TRUE(checkJwtKey(cert, {"RS256"}));
  EXPECT_EQ(verifyJwt(spec("RS256", cert), "acme", rs256Token(rsa_), kNow), JwtFailure::None);
}

TEST_F(JwtKeyTest, VerifiesWithPkcs1RsaPem) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(rsa_.get(), EVP_PKEY_PUBLIC_KEY, "PEM",
                                                        "type-specific", nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  ASSERT_EQ(OSSL_ENCODER_to_data(ctx, &data, &len), 1);
  OSSL_ENCODER_CTX_free(ctx);
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  ASSERT_EQ(pem.rfind("-----BEGIN RSA PUBLIC KEY-----", 0), 0u) << pem;

  EXPECT_TRUE(checkJwtKey(pem, {"RS256"}));
  EXPECT_EQ(verifyJwt(spec("RS256", pem), "acme", rs256Token(rsa_), kNow), JwtFailure::None);
}

TEST_F(JwtKeyTest, VerifiesWithEd448) {
  PkeyPtr ed448 = testing::wrapKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  std::string input = testing::signingInput(R"({"alg":"EdDSA"})", payload());
  std::string token = testing::joinToken(input, testing::sign(ed448, SignMode::EdDsa, 0, input));
  EXPECT_EQ(verifyJwt(spec("EdDSA", testing::publicPem(ed448)), "acme", token, kNow),
            JwtFailure::None);
  EXPECT_EQ(verifyJwt(spec("EdDSA", testing::publicPem(ed25519_)), "acme", token, kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtKeyTest, VerifiesWithAnyOfSeveralPemKeys) {
  PkeyPtr next = testing::makeRsaKey(2048);
  std::string both = testing::publicPem(rsa_) + testing::publicPem(next);
  EXPECT_EQ(verifyJwt(spec("RS256", both), "acme", rs256Token(rsa_), kNow), JwtFailure::None);
  EXPECT_EQ(verifyJwt(spec("RS256", both), "acme", rs256Token(next), kNow), JwtFailure::None);
  EXPECT_EQ(verifyJwt(spec("RS256", testing::publicPem(next)), "acme", rs256Token(rsa_), kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtKeyTest, HmacSecretForms) {
  const std::string secret(32, 'q');
  std::string input = testing::signingInput(R"({"alg":"HS256"})", payload());
  std::string token = testing::joinToken(input, testing::hmac(secret, 256, input));

  EXPECT_EQ(verifyJwt(spec("HS256", secret + "\n"), "acme", token, kNow), JwtFailure::None);
  std::string pem = "-----BEGIN HMAC SECRET-----\n" +
                    std::string("cXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXFxcXE=") +
                    "\n-----END HMAC SECRET-----\n";
  ASSERT_TRUE(checkJwtKey(pem, {"HS256"}));
  EXPECT_EQ(verifyJwt(spec("HS256", pem), "acme", token, kNow), JwtFailure::None);
  std::string jwk = R"({"kty":"oct","k":")" + testing::base64Url(secret) + "\"}";
  EXPECT_EQ(verifyJwt(spec("HS256", jwk), "acme", token, kNow), JwtFailure::None);
}

TEST_F(JwtKeyTest, RejectsShortHmacSecret) {
  auto result = checkJwtKey(std::string(31, 'q'), {"HS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("at least 32 bytes"), std::string::npos);
  EXPECT_FALSE(checkJwtKey(std::string(32, 'q'), {"HS384"}));
  EXPECT_TRUE(checkJwtKey(std::string(48, 'q'), {"HS384"}));

  const std::string secret(16, 'q');
  std::string input = testing::signingInput(R"({"alg":"HS256"})", payload());
  std::string token = testing::joinToken(input, testing::hmac(secret, 256, input));
  EXPECT_EQ(verifyJwt(spec("HS256", secret), "acme", token, kNow), JwtFailure::BadSignature);
}

TEST_F(JwtKeyTest, VerifiesWithJwkSet) {
  PkeyPtr p384 = testing::makeEcKey("P-384");
  std::string jwks = R"({"keys":[)" + rsaJwk(rsa_, R"(,"use":"sig","kid":"r1")") + "," +
                     ecJwk(p256_, "P-256", 32) + "," + ecJwk(p384, "P-384", 48) + "," +
                     ed25519Jwk(ed25519_) + "]}";
  ASSERT_TRUE(checkJwtKey(jwks, {"RS256", "ES256", "ES384", "EdDSA"}));
  EXPECT_EQ(verifyJwt(spec("RS256", jwks), "acme", rs256Token(rsa_), kNow), JwtFailure::None);
  EXPECT_EQ(verifyJwt(spec("ES256", jwks), "acme", es256Token(p256_), kNow), JwtFailure::None);

  std::string input = testing::signingInput(R"({"alg":"EdDSA"})", payload());
  std::string ed_token =
      testing::joinToken(input, testing::sign(ed25519_, SignMode::EdDsa, 0, input));
  EXPECT_EQ(verifyJwt(spec("EdDSA", jwks), "acme", ed_token, kNow), JwtFailure::None);
}

TEST_F(JwtKeyTest, VerifiesWithSingleJwk) {
  EXPECT_EQ(verifyJwt(spec("ES256", ecJwk(p256_, "P-256", 32)), "acme", es256Token(p256_), kNow),
            JwtFailure::None);
}

TEST_F(JwtKeyTest, JwkAlgRestrictsKey) {
  std::string jwk = rsaJwk(rsa_, R"(,"alg":"PS256")");
  auto result = checkJwtKey(jwk, {"RS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("limited to `PS256`"), std::string::npos);
  EXPECT_EQ(verifyJwt(spec("RS256", jwk), "acme", rs256Token(rsa_), kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtKeyTest, SkipsEncryptionKeys) {
  std::string only_enc = R"({"keys":[)" + rsaJwk(rsa_, R"(,"use":"enc")") + "]}";
  auto result = checkJwtKey(only_enc, {"RS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("no signature key"), std::string::npos);
}

TEST_F(JwtKeyTest, RejectsPrivateJwk) {
  std::string jwk = rsaJwk(rsa_, R"(,"d":"AQAB")");
  auto result = checkJwtKey(jwk, {"RS256"});
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("private key"), std::string::npos);
}

TEST_F(JwtKeyTest, RejectsInvalidEcPoint) {
  std::string x = testing::base64Url(std::string(32, '\x01'));
  std::string jwk = R"({"kty":"EC","crv":"P-256","x":")" + x + R"(","y":")" + x + "\"}";
  auto result = checkJwtKey(jwk, {"ES256"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "invalid-jwt-key");
  std::string short_x = testing::base64Url(std::string(31, '\x01'));
  EXPECT_FALSE(checkJwtKey(R"({"kty":"EC","crv":"P-256","x":")" + short_x + R"(","y":")" + x +
                               "\"}",
                           {"ES256"}));
}

TEST_F(JwtKeyTest, RejectsMalformedJwkSet) {
  EXPECT_FALSE(checkJwtKey(R"({"keys":{}})", {"RS256"}));
  EXPECT_FALSE(checkJwtKey(R"({"keys":[42]})", {"RS256"}));
  EXPECT_FALSE(checkJwtKey(R"({"keys":[{"n":"AQAB"}]})", {"RS256"}));
  EXPECT_FALSE(checkJwtKey(R"({"keys":[{"kty":"RSA","n":"AQ==","e":"AQAB"}]})", {"RS256"}));
  EXPECT_FALSE(checkJwtKey(R"({"keys":[)", {"RS256"}));
}

}  // namespace
}  // namespace hoody::auth
