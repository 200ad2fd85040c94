// SPDX-License-Identifier: Apache-2.0
// Tests of JWT claim checks: exp, nbf, iss, aud, claim rules, realm claim.
#include <gtest/gtest.h>

#include <string>

#include "runtime/auth/auth.h"
#include "tests/unit/runtime/auth/jwt_signer.h"

namespace hoody::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;
const std::string kSecret(32, 's');

/// Signs `payload` (JSON text) with HS256, the fastest algorithm; the claim
/// checks do not depend on the algorithm.
std::string token(const std::string& payload) {
  std::string input = testing::signingInput(R"({"alg":"HS256","typ":"JWT"})", payload);
  return testing::joinToken(input, testing::hmac(kSecret, 256, input));
}

ir::JwtSpec baseSpec() {
  ir::JwtSpec spec;
  spec.algorithms = {"HS256"};
  spec.key_pem = kSecret;
  return spec;
}

std::string exp(int64_t offset) { return std::to_string(kNow + offset); }

JwtFailure check(const ir::JwtSpec& spec, const std::string& payload) {
  return verifyJwt(spec, "acme", token(payload), kNow);
}

// Expired token with claim rules present, including a rule on exp itself.
TEST(JwtClaimsTest, ExpiredWithClaimRules) {
  ir::JwtSpec spec = baseSpec();
  spec.claims = {{"roles", ir::ClaimOp::Contains, "viewer"}, {"exp", ir::ClaimOp::Exists, ""}};
  EXPECT_EQ(check(spec, R"({"roles":["viewer"],"exp":)" + exp(-86400) + "}"),
            JwtFailure::Expired);
  EXPECT_EQ(check(spec, R"({"roles":["viewer"],"exp":)" + exp(600) + "}"), JwtFailure::None);
}

TEST(JwtClaimsTest, MissingExp) {
  ir::JwtSpec spec = baseSpec();
  spec.claims = {{"roles", ir::ClaimOp::Contains, "viewer"}};
  EXPECT_EQ(check(spec, R"({"roles":["viewer"]})"), JwtFailure::MissingExp);
  spec.require_exp = false;
  EXPECT_EQ(check(spec, R"({"roles":["viewer"]})"), JwtFailure::None);
  // Opting out of a required exp still checks one that is present.
  EXPECT_EQ(check(spec, R"({"roles":["viewer"],"exp":)" + exp(-10) + "}"), JwtFailure::Expired);
}

TEST(JwtClaimsTest, RejectsNonNumericExp) {
  ir::JwtSpec spec = baseSpec();
  for (const char* value : {R"("9999999999")", "1e300", "true", "null", "[9999999999]",
                            "{\"v\":1}", "18446744073709551616", "9007199254740993"}) {
    EXPECT_EQ(check(spec, std::string(R"({"exp":)") + value + "}"), JwtFailure::Malformed) << value;
  }
  ir::JwtSpec optional = baseSpec();
  optional.require_exp = false;
  EXPECT_EQ(check(optional, R"({"exp":"9999999999"})"), JwtFailure::Malformed);
}

TEST(JwtClaimsTest, AcceptsFloatExp) {
  ir::JwtSpec spec = baseSpec();
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(10) + ".5}"), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(-1) + ".5}"), JwtFailure::Expired);
}

TEST(JwtClaimsTest, ExpLeewayEdges) {
  ir::JwtSpec spec = baseSpec();
  spec.leeway_seconds = 30;
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(-30) + "}"), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(-31) + "}"), JwtFailure::Expired);
  spec.leeway_seconds = 0;
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(0) + "}"), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(-1) + "}"), JwtFailure::Expired);
}

TEST(JwtClaimsTest, NbfLeewayEdges) {
  ir::JwtSpec spec = baseSpec();
  spec.leeway_seconds = 30;
  std::string valid = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"nbf":)" + exp(30) + valid), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"nbf":)" + exp(31) + valid), JwtFailure::NotYetValid);
  spec.leeway_seconds = 0;
  EXPECT_EQ(check(spec, R"({"nbf":)" + exp(0) + valid), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"nbf":)" + exp(1) + valid), JwtFailure::NotYetValid);
  EXPECT_EQ(check(spec, R"({"nbf":"0")" + valid), JwtFailure::Malformed);
  EXPECT_EQ(check(spec, R"({"nbf":1e300)" + valid), JwtFailure::Malformed);
}

TEST(JwtClaimsTest, IssuerExact) {
  ir::JwtSpec spec = baseSpec();
  spec.issuer = "https://idp.example/";
  std::string valid = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"iss":"https://idp.example/")" + valid), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"iss":"https://idp.example")" + valid), JwtFailure::BadIssuer);
  EXPECT_EQ(check(spec, R"({"iss":"HTTPS://idp.example/")" + valid), JwtFailure::BadIssuer);
  EXPECT_EQ(check(spec, R"({"iss":["https://idp.example/"])" + valid), JwtFailure::BadIssuer);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(600) + "}"), JwtFailure::BadIssuer);
}

// aud shapes: only an exact match in a string or an array of strings passes.
TEST(JwtClaimsTest, AudienceShapes) {
  ir::JwtSpec spec = baseSpec();
  spec.audiences = {"files"};
  const std::pair<const char*, JwtFailure> cases[] = {
      {R"(["terminal"])", JwtFailure::BadAudience},
      {"[]", JwtFailure::BadAudience},
      {R"("")", JwtFailure::BadAudience},
      {"null", JwtFailure::BadAudience},
      {"42", JwtFailure::BadAudience},
      {R"({"x":1})", JwtFailure::BadAudience},
      {R"(["files",42])", JwtFailure::BadAudience},
      {R"([["files"]])", JwtFailure::BadAudience},
      {R"(["files","terminal"])", JwtFailure::None},
      {R"("files")", JwtFailure::None},
      {R"("Files")", JwtFailure::BadAudience},
      {R"("files ")", JwtFailure::BadAudience},
  };
  for (const auto& [aud, expected] : cases) {
    std::string payload = std::string(R"({"aud":)") + aud + R"(,"exp":)" + exp(600) + "}";
    EXPECT_EQ(check(spec, payload), expected) << aud;
  }
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(600) + "}"), JwtFailure::BadAudience);
}

TEST(JwtClaimsTest, AudienceUncheckedWhenNotConfigured) {
  EXPECT_EQ(check(baseSpec(), R"({"aud":42,"exp":)" + exp(600) + "}"), JwtFailure::None);
}

TEST(JwtClaimsTest, ClaimRuleEquals) {
  ir::JwtSpec spec = baseSpec();
  spec.claims = {{"tier", ir::ClaimOp::Equals, "7"}};
  std::string tail = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"tier":7)" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"tier":"7")" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"tier":"07")" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"tier":[7])" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"other":7)" + tail), JwtFailure::ClaimMismatch);
  spec.claims = {{"email_verified", ir::ClaimOp::Equals, "true"}};
  EXPECT_EQ(check(spec, R"({"email_verified":true)" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"email_verified":false)" + tail), JwtFailure::ClaimMismatch);
}

TEST(JwtClaimsTest, ClaimRuleContains) {
  ir::JwtSpec spec = baseSpec();
  spec.claims = {{"scope", ir::ClaimOp::Contains, "admin"}};
  std::string tail = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"scope":"read admin write")" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"scope":["read","admin"])" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"scope":"read administrator")" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"scope":["Admin"])" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"scope":[["admin"]])" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"scope":{"admin":true})" + tail), JwtFailure::ClaimMismatch);
}

TEST(JwtClaimsTest, ClaimRuleExists) {
  ir::JwtSpec spec = baseSpec();
  spec.claims = {{"sub", ir::ClaimOp::Exists, ""}};
  std::string tail = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"sub":"u1")" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"sub":null)" + tail), JwtFailure::ClaimMismatch);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(600) + "}"), JwtFailure::ClaimMismatch);
}

TEST(JwtClaimsTest, RealmClaim) {
  ir::JwtSpec spec = baseSpec();
  spec.realm_claim = "hoody_realm";
  std::string tail = R"(,"exp":)" + exp(600) + "}";
  EXPECT_EQ(check(spec, R"({"hoody_realm":"acme")" + tail), JwtFailure::None);
  EXPECT_EQ(check(spec, R"({"hoody_realm":"other")" + tail), JwtFailure::BadRealm);
  EXPECT_EQ(check(spec, R"({"hoody_realm":["acme"])" + tail), JwtFailure::BadRealm);
  EXPECT_EQ(check(spec, R"({"exp":)" + exp(600) + "}"), JwtFailure::BadRealm);
}

TEST(JwtClaimsTest, RejectsBadPayloadJson) {
  ir::JwtSpec spec = baseSpec();
  spec.require_exp = false;
  EXPECT_EQ(check(spec, "[]"), JwtFailure::Malformed);
  EXPECT_EQ(check(spec, "\"claims\""), JwtFailure::Malformed);
  EXPECT_EQ(check(spec, ""), JwtFailure::Malformed);
  EXPECT_EQ(check(spec, R"({"exp":1,"exp":)" + exp(600) + "}"), JwtFailure::Malformed);
  EXPECT_EQ(check(spec, "{\"sub\":\"\xff\"}"), JwtFailure::Malformed);
  std::string deep(40, '[');
  EXPECT_EQ(check(spec, "{\"d\":" + deep + std::string(40, ']') + "}"), JwtFailure::Malformed);
}

}  // namespace
}  // namespace hoody::auth
