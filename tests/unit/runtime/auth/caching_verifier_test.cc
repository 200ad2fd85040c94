// SPDX-License-Identifier: Apache-2.0
// Tests of CachingVerifier: Basic passwords with the success cache, Bearer
// digests and JWTs with a cached signature result.
#include <gtest/gtest.h>

#include <sodium.h>

#include <string>

#include "runtime/auth/auth.h"
#include "tests/unit/runtime/auth/jwt_signer.h"

namespace hoody::auth {
namespace {

constexpr int64_t kNow = 1'700'000'000;

/// Hashes `password` with argon2id at libsodium's minimum cost, so tests run fast.
std::string cheapHash(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  EXPECT_EQ(crypto_pwhash_str_alg(out, password.data(), password.size(),
                                  crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                  crypto_pwhash_argon2id_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
            0);
  return out;
}

ir::Group passwordGroup() {
  ir::Group group;
  group.name = "deployers";
  group.credential = ir::CredentialKind::Password;
  group.passwords = {{"deploy", cheapHash("p:a:ss")}, {"ops", cheapHash("x")}};
  return group;
}

TEST(CachingVerifierTest, PasswordHitAfterSuccess) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  EXPECT_TRUE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  EXPECT_EQ(verifier.cacheMisses(), 1u);
  EXPECT_EQ(verifier.cacheHits(), 0u);
  EXPECT_TRUE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  EXPECT_EQ(verifier.cacheMisses(), 1u);
  EXPECT_EQ(verifier.cacheHits(), 1u);
}

TEST(CachingVerifierTest, WrongPasswordNeverHits) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  ASSERT_TRUE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  for (const char* wrong : {"p", "p:a:s", "p:a:ss ", "P:a:ss", ""}) {
    EXPECT_FALSE(verifier.verifyPassword(group, "deploy", wrong)) << wrong;
    EXPECT_FALSE(verifier.verifyPassword(group, "deploy", wrong)) << wrong;
  }
  EXPECT_EQ(verifier.cacheHits(), 0u);
  EXPECT_EQ(verifier.cacheMisses(), 11u);
  // The right password of one user does not open another user.
  EXPECT_FALSE(verifier.verifyPassword(group, "ops", "p:a:ss"));
  EXPECT_EQ(verifier.cacheHits(), 0u);
}

TEST(CachingVerifierTest, UnknownUserRejected) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  EXPECT_FALSE(verifier.verifyPassword(group, "nobody", "p:a:ss"));
  EXPECT_FALSE(verifier.verifyPassword(group, "deploy:p", "a:ss"));
  EXPECT_FALSE(verifier.verifyPassword(group, "Deploy", "p:a:ss"));
  EXPECT_FALSE(verifier.verifyPassword(group, "deplo", "p:a:ss"));
  EXPECT_EQ(verifier.cacheHits(), 0u);
}

TEST(CachingVerifierTest, EmptyInputsRejected) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  EXPECT_FALSE(verifier.verifyPassword(group, "", ""));
  EXPECT_FALSE(verifier.verifyPassword(group, "", "p:a:ss"));
  EXPECT_FALSE(verifier.verifyPassword(group, "deploy", ""));
  ir::Group empty = group;
  empty.passwords.clear();
  EXPECT_FALSE(verifier.verifyPassword(empty, "deploy", "p:a:ss"));
  EXPECT_FALSE(verifier.verifyBearer(group, ""));
  ir::Group jwt_group;
  jwt_group.credential = ir::CredentialKind::Jwt;
  EXPECT_FALSE(verifier.verifyJwt(jwt_group, ir::Realm{}, "", kNow));
}

TEST(CachingVerifierTest, WrongCredentialKindRejected) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  group.credential = ir::CredentialKind::Bearer;
  EXPECT_FALSE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  group.credential = ir::CredentialKind::None;
  EXPECT_FALSE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
}

TEST(CachingVerifierTest, CacheKeyedByGroup) {
  CachingVerifier verifier;
  ir::Group first = passwordGroup();
  ir::Group second = first;
  ASSERT_TRUE(verifier.verifyPassword(first, "ops", "x"));
  EXPECT_TRUE(verifier.verifyPassword(second, "ops", "x"));
  EXPECT_EQ(verifier.cacheHits(), 0u);
  EXPECT_EQ(verifier.cacheMisses(), 2u);
}

// A reload may put a group with a new hash at the old group's address; the
// old cached success must not carry over.
TEST(CachingVerifierTest, ChangedHashNotServedFromCache) {
  CachingVerifier verifier;
  ir::Group group = passwordGroup();
  ASSERT_TRUE(verifier.verifyPassword(group, "ops", "x"));
  group.passwords[1].hash = cheapHash("new");
  EXPECT_FALSE(verifier.verifyPassword(group, "ops", "x"));
  EXPECT_TRUE(verifier.verifyPassword(group, "ops", "new"));
  EXPECT_EQ(verifier.cacheHits(), 0u);
}

TEST(CachingVerifierTest, LruEvictsOldest) {
  CachingVerifier verifier(1);
  ir::Group group = passwordGroup();
  ASSERT_TRUE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  ASSERT_TRUE(verifier.verifyPassword(group, "ops", "x"));
  EXPECT_TRUE(verifier.verifyPassword(group, "ops", "x"));
  EXPECT_EQ(verifier.cacheHits(), 1u);
  EXPECT_TRUE(verifier.verifyPassword(group, "deploy", "p:a:ss"));
  EXPECT_EQ(verifier.cacheHits(), 1u);
  EXPECT_EQ(verifier.cacheMisses(), 3u);
}

TEST(CachingVerifierTest, ZeroCapacityNeverHits) {
  CachingVerifier verifier(0);
  ir::Group group = passwordGroup();
  EXPECT_TRUE(verifier.verifyPassword(group, "ops", "x"));
  EXPECT_TRUE(verifier.verifyPassword(group, "ops", "x"));
  EXPECT_EQ(verifier.cacheHits(), 0u);
  EXPECT_EQ(verifier.cacheMisses(), 2u);
}

TEST(CachingVerifierTest, BearerDigests) {
  CachingVerifier verifier;
  ir::Group group;
  group.credential = ir::CredentialKind::Bearer;
  group.bearer_sha256 = {sha256("first-token"), sha256("second-token")};
  EXPECT_TRUE(verifier.verifyBearer(group, "first-token"));
  EXPECT_TRUE(verifier.verifyBearer(group, "second-token"));
  EXPECT_FALSE(verifier.verifyBearer(group, "third-token"));
  EXPECT_FALSE(verifier.verifyBearer(group, "first-token "));
  EXPECT_FALSE(verifier.verifyBearer(group, ""));
  group.credential = ir::CredentialKind::Password;
  EXPECT_FALSE(verifier.verifyBearer(group, "first-token"));
  EXPECT_EQ(verifier.cacheHits() + verifier.cacheMisses(), 0u);
}

// The verifier keeps the last token's digest. A token written into the same
// buffer, or one that differs only in its last byte, must be hashed again.
TEST(CachingVerifierTest, BearerDigestNotReusedForNewToken) {
  CachingVerifier verifier;
  ir::Group group;
  group.credential = ir::CredentialKind::Bearer;
  group.bearer_sha256 = {sha256("token-aaaa")};
  std::string buffer = "token-aaaa";
  EXPECT_TRUE(verifier.verifyBearer(group, buffer));
  EXPECT_TRUE(verifier.verifyBearer(group, buffer));
  buffer[buffer.size() - 1] = 'b';
  EXPECT_FALSE(verifier.verifyBearer(group, buffer));
  EXPECT_FALSE(verifier.verifyBearer(group, "token-aaa"));
  buffer[buffer.size() - 1] = 'a';
  EXPECT_TRUE(verifier.verifyBearer(group, buffer));

  ir::Group other;
  other.credential = ir::CredentialKind::Bearer;
  other.bearer_sha256 = {sha256("token-bbbb")};
  EXPECT_FALSE(verifier.verifyBearer(other, buffer));
  EXPECT_TRUE(verifier.verifyBearer(other, "token-bbbb"));
  EXPECT_FALSE(verifier.verifyBearer(group, "token-bbbb"));
}

class CachingVerifierJwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    group_.name = "operators";
    group_.credential = ir::CredentialKind::Jwt;
    ir::JwtSpec spec;
    spec.algorithms = {"HS256"};
    spec.key_pem = secret_;
    spec.audiences = {"ops"};
    group_.jwt = spec;
    realm_.name = "acme";
  }

  std::string token(int64_t exp) const {
    std::string input = testing::signingInput(
        R"({"alg":"HS256"})", R"({"aud":"ops","exp":)" + std::to_string(exp) + "}");
    return testing::joinToken(input, testing::hmac(secret_, 256, input));
  }

  const std::string secret_ = std::string(32, 'j');
  ir::Group group_;
  ir::Realm realm_;
};

TEST_F(CachingVerifierJwtTest, HitAfterSuccess) {
  CachingVerifier verifier;
  std::string jwt = token(kNow + 600);
  EXPECT_TRUE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  EXPECT_TRUE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  EXPECT_EQ(verifier.cacheMisses(), 1u);
  EXPECT_EQ(verifier.cacheHits(), 1u);
}

TEST_F(CachingVerifierJwtTest, CachedTokenStillExpires) {
  CachingVerifier verifier;
  std::string jwt = token(kNow + 600);
  ASSERT_TRUE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, jwt, kNow + 601));
  EXPECT_EQ(verifier.cacheHits(), 1u);
}

TEST_F(CachingVerifierJwtTest, BadSignatureNeverCached) {
  CachingVerifier verifier;
  std::string jwt = token(kNow + 600);
  std::string forged = jwt.substr(0, jwt.rfind('.') + 1) + testing::base64Url(std::string(32, 'x'));
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, forged, kNow));
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, forged, kNow));
  EXPECT_EQ(verifier.cacheHits(), 0u);
}

TEST_F(CachingVerifierJwtTest, AlgNoneRejectedBeforeCache) {
  CachingVerifier verifier;
  std::string jwt = testing::signingInput(R"({"alg":"none"})", R"({"aud":"ops","exp":9999999999})");
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, jwt + ".", kNow));
  EXPECT_EQ(verifier.cacheHits() + verifier.cacheMisses(), 0u);
}

TEST_F(CachingVerifierJwtTest, ChangedKeyNotServedFromCache) {
  CachingVerifier verifier;
  std::string jwt = token(kNow + 600);
  ASSERT_TRUE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  group_.jwt->key_pem = std::string(32, 'k');
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  EXPECT_EQ(verifier.cacheHits(), 0u);
}

TEST_F(CachingVerifierJwtTest, ClaimsCheckedOnHit) {
  CachingVerifier verifier;
  std::string jwt = token(kNow + 600);
  ASSERT_TRUE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  group_.jwt->realm_claim = "realm";
  EXPECT_FALSE(verifier.verifyJwt(group_, realm_, jwt, kNow));
  EXPECT_EQ(verifier.cacheHits(), 1u);
}

}  // namespace
}  // namespace hoody::auth
