// SPDX-License-Identifier: Apache-2.0
// Tests of password hashing and checking, and of the SHA-256 helpers.
#include <gtest/gtest.h>

#include <sodium.h>

#include <string>

#include "runtime/auth/auth.h"

namespace hoody::auth {
namespace {

/// Hashes `password` with argon2id at libsodium's minimum cost, so tests run fast.
std::string cheapArgon2id(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  EXPECT_EQ(crypto_pwhash_str_alg(out, password.data(), password.size(),
                                  crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                  crypto_pwhash_argon2id_MEMLIMIT_MIN, crypto_pwhash_ALG_ARGON2ID13),
            0);
  return out;
}

std::string scryptHash(const std::string& password) {
  char out[crypto_pwhash_scryptsalsa208sha256_STRBYTES];
  EXPECT_EQ(crypto_pwhash_scryptsalsa208sha256_str(
                out, password.data(), password.size(),
                crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
                crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN),
            0);
  return out;
}

std::string hex(const Digest& digest) {
  char out[65];
  sodium_bin2hex(out, sizeof(out), digest.data(), digest.size());
  return out;
}

TEST(PasswordTest, HashPasswordRoundTrip) {
  auto hash = hashPassword("p:a:ss");
  ASSERT_TRUE(hash) << hash.error().str();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(checkPasswordHash(*hash));
  EXPECT_TRUE(verifyPasswordHash(*hash, "p:a:ss"));
  EXPECT_FALSE(verifyPasswordHash(*hash, "p"));
  EXPECT_FALSE(verifyPasswordHash(*hash, "p:a:ss "));
  EXPECT_FALSE(verifyPasswordHash(*hash, ""));
}

TEST(PasswordTest, HashPasswordRejectsEmpty) {
  auto hash = hashPassword("");
  ASSERT_FALSE(hash);
  EXPECT_EQ(hash.error().code, "invalid-password");
}

// Passwords are compared as the exact bytes sent: the Latin-1 bytes of a
// password stored as UTF-8 do not match.
TEST(PasswordTest, Utf8NotLatin1) {
  std::string hash = cheapArgon2id("p\xc3\xa4ssw\xc3\xb6rd");
  EXPECT_TRUE(verifyPasswordHash(hash, "p\xc3\xa4ssw\xc3\xb6rd"));
  EXPECT_FALSE(verifyPasswordHash(hash, "p\xe4ssw\xf6rd"));
}

TEST(PasswordTest, VerifiesArgon2i) {
  char out[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_argon2i_str(out, "x", 1, crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                      crypto_pwhash_argon2i_MEMLIMIT_MIN),
            0);
  EXPECT_TRUE(checkPasswordHash(out));
  EXPECT_TRUE(verifyPasswordHash(out, "x"));
  EXPECT_FALSE(verifyPasswordHash(out, "y"));
}

TEST(PasswordTest, VerifiesScrypt) {
  std::string hash = scryptHash("x");
  ASSERT_EQ(hash.rfind("$7$", 0), 0u);
  EXPECT_TRUE(checkPasswordHash(hash));
  EXPECT_TRUE(verifyPasswordHash(hash, "x"));
  EXPECT_FALSE(verifyPasswordHash(hash, "y"));
}

TEST(PasswordTest, RejectsPlainTextWithoutEchoingIt) {
  auto result = checkPasswordHash("hunter2");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "invalid-password-hash");
  EXPECT_EQ(result.error().message.find("hunter2"), std::string::npos);
  EXPECT_NE(result.error().message.find("plain-text"), std::string::npos);
  EXPECT_NE(result.error().message.find("hoodyc hash-password"), std::string::npos);
  EXPECT_FALSE(verifyPasswordHash("hunter2", "hunter2"));
}

TEST(PasswordTest, RejectsMalformedArgon2) {
  const std::string good = cheapArgon2id("x");
  const std::string params = "$argon2id$v=19$m=8,t=1,p=1$";
  ASSERT_EQ(good.rfind(params, 0), 0u) << good;
  const std::string tail = good.substr(params.size());
  const std::string salt = tail.substr(0, tail.find('$'));
  const std::string digest = tail.substr(tail.find('$') + 1);

  const std::pair<std::string, const char*> cases[] = {
      {"", "empty"},
      {"$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", "plain-text"},
      {"$argon2d$v=19$m=8,t=1,p=1$" + tail, "plain-text"},
      {"$argon2id$v=16$m=8,t=1,p=1$" + tail, "v=19"},
      {"$argon2id$m=8,t=1,p=1$" + tail, "v=19"},
      {"$argon2id$v=19$m=08,t=1,p=1$" + tail, "m=<KiB>"},
      {"$argon2id$v=19$t=1,m=8,p=1$" + tail, "m=<KiB>"},
      {"$argon2id$v=19$m=4194304,t=1,p=1$" + tail, "out of range"},
      {"$argon2id$v=19$m=8,t=100,p=1$" + tail, "out of range"},
      {"$argon2id$v=19$m=8,t=0,p=1$" + tail, "out of range"},
      {params + salt + "==$" + digest, "base64"},
      {params + salt + "$" + digest + "$", "base64"},
      {params + salt, "no `$<salt>$<hash>`"},
      {params + "c2FsdA$" + digest, "minimum length"},
      {good + std::string(1, '\0'), "NUL"},
      {good + std::string(80, 'A'), "longer than"},
  };
  for (const auto& [hash, expected] : cases) {
    auto result = checkPasswordHash(hash);
    ASSERT_FALSE(result) << hash;
    EXPECT_EQ(result.error().code, "invalid-password-hash");
    EXPECT_NE(result.error().message.find(expected), std::string::npos)
        << hash << " -> " << result.error().message;
    EXPECT_FALSE(verifyPasswordHash(hash, "x")) << hash;
  }
  EXPECT_TRUE(checkPasswordHash(good));
}

TEST(PasswordTest, RejectsMalformedScrypt) {
  const std::string good = scryptHash("x");
  // Raise log2(N) to 21: with r = 8 that needs 2 GiB.
  std::string huge = good;
  huge[3] = 'J';
  auto result = checkPasswordHash(huge);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("more than 1 GiB"), std::string::npos)
      << result.error().message;
  EXPECT_FALSE(verifyPasswordHash(huge, "x"));

  EXPECT_FALSE(checkPasswordHash("$7$C6..../....abc"));
  EXPECT_FALSE(checkPasswordHash(good.substr(0, good.size() - 1)));
  std::string bad_digit = good;
  bad_digit[5] = '!';
  EXPECT_FALSE(checkPasswordHash(bad_digit));
}

TEST(Sha256Test, KnownVector) {
  EXPECT_EQ(hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, DigestEqual) {
  Digest a = sha256("token");
  Digest b = sha256("token");
  Digest c = sha256("token2");
  EXPECT_TRUE(digestEqual(a, b));
  EXPECT_FALSE(digestEqual(a, c));
  c = a;
  c[31] ^= 1;
  EXPECT_FALSE(digestEqual(a, c));
}

}  // namespace
}  // namespace hoody::auth
