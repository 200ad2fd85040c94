// SPDX-License-Identifier: Apache-2.0
// Tests of JWT structure, the pinned-algorithm check and signature
// verification for every supported algorithm.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/auth/auth.h"
#include "tests/unit/runtime/auth/jwt_signer.h"

namespace hoody::auth {
namespace {

using testing::base64Url;
using testing::joinToken;
using testing::PkeyPtr;
using testing::SignMode;
using testing::signingInput;

constexpr int64_t kNow = 1'700'000'000;

std::string defaultPayload() {
  return R"({"sub":"u1","iss":"https://idp.example/","aud":"terminal","exp":)" +
         std::to_string(kNow + 600) + "}";
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = testing::makeRsaKey(2048);
    other_rsa_ = testing::makeRsaKey(2048);
    p256_ = testing::makeEcKey("P-256");
    p384_ = testing::makeEcKey("P-384");
    p521_ = testing::makeEcKey("P-521");
    ed25519_ = testing::makeEd25519Key();
  }

  static ir::JwtSpec specFor(const std::string& alg, const std::string& key_pem) {
    ir::JwtSpec spec;
    spec.algorithms = {alg};
    spec.issuer = "https://idp.example/";
    spec.audiences = {"terminal"};
    spec.key_pem = key_pem;
    return spec;
  }

  static std::string rsaToken(const std::string& payload = defaultPayload()) {
    std::string input = signingInput(R"({"alg":"RS256","typ":"JWT"})", payload);
    return joinToken(input, testing::sign(rsa_, SignMode::RsaPkcs1, 256, input));
  }

  static JwtFailure verifyRs256(const std::string& token) {
    return verifyJwt(specFor("RS256", testing::publicPem(rsa_)), "acme", token, kNow);
  }

  static inline PkeyPtr rsa_, other_rsa_, p256_, p384_, p521_, ed25519_;
};

TEST_F(JwtTest, AcceptsValidRs256) { EXPECT_EQ(verifyRs256(rsaToken()), JwtFailure::None); }

// An unsigned token never passes, whatever the spelling of "none" and
// whatever follows the second dot.
TEST_F(JwtTest, RejectsAlgNoneVariants) {
  for (const char* alg : {"none", "NONE", "None", "nOnE"}) {
    std::string header = std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})";
    std::string input = signingInput(header, defaultPayload());
    EXPECT_EQ(verifyRs256(input + "."), JwtFailure::AlgorithmNotAllowed) << alg;
    EXPECT_EQ(verifyRs256(input + "." + base64Url("random signature bytes")),
              JwtFailure::AlgorithmNotAllowed)
        << alg;
  }
}

TEST_F(JwtTest, RejectsMissingOrNonStringAlg) {
  for (const char* header : {R"({"typ":"JWT"})", R"({"alg":42})", R"({"alg":null})",
                             R"({"alg":["RS256"]})", R"({"alg":"rs256"})", R"({"alg":"RS256 "})"}) {
    std::string input = signingInput(header, defaultPayload());
    std::string token = joinToken(input, testing::sign(rsa_, SignMode::RsaPkcs1, 256, input));
    EXPECT_EQ(verifyRs256(token), JwtFailure::AlgorithmNotAllowed) << header;
  }
}

TEST_F(JwtTest, RejectsUnpinnedSupportedAlg) {
  std::string input = signingInput(R"({"alg":"PS256"})", defaultPayload());
  std::string token = joinToken(input, testing::sign(rsa_, SignMode::RsaPss, 256, input));
  EXPECT_EQ(verifyRs256(token), JwtFailure::AlgorithmNotAllowed);
}

TEST_F(JwtTest, RejectsNoneEvenWhenPinned) {
  ir::JwtSpec spec = specFor("none", testing::publicPem(rsa_));
  std::string token = signingInput(R"({"alg":"none"})", defaultPayload()) + ".";
  EXPECT_EQ(verifyJwt(spec, "acme", token, kNow), JwtFailure::AlgorithmNotAllowed);
}

TEST_F(JwtTest, RejectsWrongSegmentCount) {
  std::string token = rsaToken();
  std::string two = token.substr(0, token.rfind('.'));
  EXPECT_EQ(verifyRs256(two), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(token + ".x"), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(token + "."), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(""), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(".."), JwtFailure::Malformed);
  // Two segments with alg none: malformed before the header is read.
  EXPECT_EQ(verifyRs256(base64Url(R"({"alg":"none"})") + "." + base64Url(defaultPayload())),
            JwtFailure::Malformed);
}

TEST_F(JwtTest, RejectsEmptySignature) {
  std::string token = rsaToken();
  EXPECT_EQ(verifyRs256(token.substr(0, token.rfind('.') + 1)), JwtFailure::Malformed);
}

TEST_F(JwtTest, RejectsNonCanonicalBase64) {
  std::string token = rsaToken();
  size_t first_dot = token.find('.');
  EXPECT_EQ(verifyRs256(token + "="), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(" " + token), JwtFailure::Malformed);
  EXPECT_EQ(verifyRs256(token.substr(0, first_dot) + "=" + token.substr(first_dot)),
            JwtFailure::Malformed);
  std::string with_newline = token;
  with_newline.insert(first_dot + 5, "\n");
  EXPECT_EQ(verifyRs256(with_newline), JwtFailure::Malformed);
  // Standard-alphabet characters in the signature.
  std::string standard = token;
  standard.back() = '+';
  EXPECT_EQ(verifyRs256(standard), JwtFailure::Malformed);
}

TEST_F(JwtTest, RejectsBadHeaderJson) {
  for (const char* header : {R"(["RS256"])", R"({"alg":"RS256")", R"({"alg":"RS256","alg":"RS256"})",
                             "not json"}) {
    std::string input = signingInput(header, defaultPayload());
    std::string token = joinToken(input, testing::sign(rsa_, SignMode::RsaPkcs1, 256, input));
    EXPECT_EQ(verifyRs256(token), JwtFailure::Malformed) << header;
  }
}

TEST_F(JwtTest, RejectsCritHeader) {
  std::string input = signingInput(R"({"alg":"RS256","crit":["exp"],"exp":1})", defaultPayload());
  std::string token = joinToken(input, testing::sign(rsa_, SignMode::RsaPkcs1, 256, input));
  EXPECT_EQ(verifyRs256(token), JwtFailure::Malformed);
}

TEST_F(JwtTest, IgnoresEmbeddedJwkAndKid) {
  // The token names the attacker's key in every way a header can; the
  // policy's key still decides.
  std::string header = R"({"alg":"RS256","kid":"k1","jku":"https://198.51.100.1/jwks",)"
                       R"("x5u":"https://198.51.100.1/cert","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}})";
  std::string input = signingInput(header, defaultPayload());
  std::string token = joinToken(input, testing::sign(other_rsa_, SignMode::RsaPkcs1, 256, input));
  EXPECT_EQ(verifyRs256(token), JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsTamperedPayload) {
  std::string token = rsaToken();
  std::string forged_payload = base64Url(R"({"sub":"admin","iss":"https://idp.example/",)"
                                         R"("aud":"terminal","exp":9999999999})");
  size_t first_dot = token.find('.');
  size_t second_dot = token.find('.', first_dot + 1);
  std::string forged =
      token.substr(0, first_dot + 1) + forged_payload + token.substr(second_dot);
  EXPECT_EQ(verifyRs256(forged), JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsSignatureByOtherKey) {
  std::string input = signingInput(R"({"alg":"RS256"})", defaultPayload());
  std::string token = joinToken(input, testing::sign(other_rsa_, SignMode::RsaPkcs1, 256, input));
  EXPECT_EQ(verifyRs256(token), JwtFailure::BadSignature);
}

struct AlgorithmCase {
  const char* alg;
  SignMode mode;
  int bits;
  size_t coordinate_bytes;
};

TEST_F(JwtTest, VerifiesEveryAsymmetricAlgorithm) {
  const std::vector<std::pair<AlgorithmCase, PkeyPtr>> cases = {
      {{"RS256", SignMode::RsaPkcs1, 256, 0}, rsa_},
      {{"RS384", SignMode::RsaPkcs1, 384, 0}, rsa_},
      {{"RS512", SignMode::RsaPkcs1, 512, 0}, rsa_},
      {{"PS256", SignMode::RsaPss, 256, 0}, rsa_},
      {{"PS384", SignMode::RsaPss, 384, 0}, rsa_},
      {{"PS512", SignMode::RsaPss, 512, 0}, rsa_},
      {{"ES256", SignMode::Ecdsa, 256, 32}, p256_},
      {{"ES384", SignMode::Ecdsa, 384, 48}, p384_},
      {{"ES512", SignMode::Ecdsa, 512, 66}, p521_},
      {{"EdDSA", SignMode::EdDsa, 0, 0}, ed25519_},
  };
  for (const auto& [c, key] : cases) {
    ir::JwtSpec spec = specFor(c.alg, testing::publicPem(key));
    std::string input = signingInput(std::string(R"({"alg":")") + c.alg + "\"}", defaultPayload());
    std::string signature = testing::sign(key, c.mode, c.bits, input, c.coordinate_bytes);
    EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, signature), kNow), JwtFailure::None)
        << c.alg;

    std::string flipped = signature;
    flipped[flipped.size() / 2] ^= 0x01;
    EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, flipped), kNow), JwtFailure::BadSignature)
        << c.alg;
  }
}

TEST_F(JwtTest, VerifiesEveryHmacAlgorithm) {
  const std::string secret(64, 'k');
  for (int bits : {256, 384, 512}) {
    std::string alg = "HS" + std::to_string(bits);
    ir::JwtSpec spec = specFor(alg, secret);
    std::string input = signingInput(R"({"alg":")" + alg + "\"}", defaultPayload());
    std::string mac = testing::hmac(secret, bits, input);
    EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, mac), kNow), JwtFailure::None) << alg;
    EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, mac.substr(0, 16)), kNow),
              JwtFailure::BadSignature)
        << alg;
    EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, testing::hmac("other", bits, input)), kNow),
              JwtFailure::BadSignature)
        << alg;
  }
}

TEST_F(JwtTest, RejectsEs256WrongSignatureLength) {
  ir::JwtSpec spec = specFor("ES256", testing::publicPem(p256_));
  std::string input = signingInput(R"({"alg":"ES256"})", defaultPayload());
  std::string raw = testing::sign(p256_, SignMode::Ecdsa, 256, input, 32);
  ASSERT_EQ(verifyJwt(spec, "acme", joinToken(input, raw), kNow), JwtFailure::None);

  std::string der = testing::sign(p256_, SignMode::EcdsaDer, 256, input);
  EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, der), kNow), JwtFailure::BadSignature);
  EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, raw.substr(0, 63)), kNow),
            JwtFailure::BadSignature);
  EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, raw + std::string(1, '\0')), kNow),
            JwtFailure::BadSignature);
  EXPECT_EQ(verifyJwt(spec, "acme", joinToken(input, std::string(64, '\0')), kNow),
            JwtFailure::BadSignature);
}

// The classic confusion: a verifier that takes HS256 from the token and uses
// the RSA public key text as the HMAC secret.
TEST_F(JwtTest, RejectsRsaHsConfusion) {
  std::string pem = testing::publicPem(rsa_);
  ir::JwtSpec spec = specFor("RS256", pem);
  spec.algorithms = {"RS256", "HS256"};
  std::string input = signingInput(R"({"alg":"HS256"})", defaultPayload());
  std::string token = joinToken(input, testing::hmac(pem, 256, input));
  EXPECT_EQ(verifyJwt(spec, "acme", token, kNow), JwtFailure::BadSignature);

  spec.algorithms = {"HS256"};
  EXPECT_EQ(verifyJwt(spec, "acme", token, kNow), JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsKeyOfWrongFamily) {
  std::string input = signingInput(R"({"alg":"ES256"})", defaultPayload());
  std::string token = joinToken(input, testing::sign(p256_, SignMode::Ecdsa, 256, input, 32));
  EXPECT_EQ(verifyJwt(specFor("ES256", testing::publicPem(rsa_)), "acme", token, kNow),
            JwtFailure::BadSignature);
  // Right family, wrong curve.
  EXPECT_EQ(verifyJwt(specFor("ES256", testing::publicPem(p384_)), "acme", token, kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsRs256SignedWithPss) {
  std::string input = signingInput(R"({"alg":"RS256"})", defaultPayload());
  std::string token = joinToken(input, testing::sign(rsa_, SignMode::RsaPss, 256, input));
  EXPECT_EQ(verifyRs256(token), JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsShortRsaKey) {
  PkeyPtr small = testing::makeRsaKey(1024);
  std::string input = signingInput(R"({"alg":"RS256"})", defaultPayload());
  std::string token = joinToken(input, testing::sign(small, SignMode::RsaPkcs1, 256, input));
  EXPECT_EQ(verifyJwt(specFor("RS256", testing::publicPem(small)), "acme", token, kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsUnusableKeyText) {
  std::string token = rsaToken();
  EXPECT_EQ(verifyJwt(specFor("RS256", ""), "acme", token, kNow), JwtFailure::BadSignature);
  EXPECT_EQ(verifyJwt(specFor("RS256", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
                      "acme", token, kNow),
            JwtFailure::BadSignature);
}

TEST_F(JwtTest, RejectsOversizedToken) {
  std::string payload = R"({"pad":")" + std::string(40000, 'a') + R"(","exp":)" +
                        std::to_string(kNow + 60) + "}";
  EXPECT_EQ(verifyJwt(specFor("RS256", testing::publicPem(rsa_)), "acme", rsaToken(payload), kNow),
            JwtFailure::Malformed);
}

TEST(JwtAlgorithmTest, SupportsExactNames) {
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                          "ES512", "EdDSA", "HS256", "HS384", "HS512"}) {
    EXPECT_TRUE(isSupportedJwtAlgorithm(alg)) << alg;
  }
  for (const char* alg : {"none", "NONE", "None", "rs256", "EDDSA", "ES256K", "HS1", ""}) {
    EXPECT_FALSE(isSupportedJwtAlgorithm(alg)) << alg;
  }
}

TEST(JwtFailureNameTest, NamesEveryFailure) {
  EXPECT_EQ(jwtFailureName(JwtFailure::None), "none");
  EXPECT_EQ(jwtFailureName(JwtFailure::AlgorithmNotAllowed), "algorithm-not-allowed");
  EXPECT_EQ(jwtFailureName(JwtFailure::BadAudience), "bad-audience");
  EXPECT_EQ(jwtFailureName(JwtFailure::BadRealm), "bad-realm");
}

}  // namespace
}  // namespace hoody::auth
