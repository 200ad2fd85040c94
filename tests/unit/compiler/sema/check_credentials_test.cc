// SPDX-License-Identifier: Apache-2.0
// Tests of credential checks: plaintext-password, invalid-password-hash,
// legacy-password-hash, weak-password-hash, costly-password-hash,
// invalid-user, invalid-bearer-digest, multiple-credentials and
// forward-without-credential.
#include <sodium.h>

#include "runtime/auth/auth.h"
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

const std::string& validHash() {
  static const std::string kHash = *auth::hashPassword("p:a:ss");
  return kHash;
}

driver::FrontEndOutput checkGroup(const std::string& body) {
  return check(inProject("permissions { default deny\n group g { " + body + " } }\n" +
                         container("a", kContainerA)));
}

TEST(CheckCredentialsTest, AcceptsArgon2idHash) {
  auto out = checkGroup("password { user \"deploy\" hash \"" + validHash() + "\" }; allow files");
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckCredentialsTest, PasswordInClearIsAnErrorWithoutEchoingIt) {
  auto out = checkGroup("password \"hunter2\"; allow files");
  const auto& d = only(out, "plaintext-password");
  EXPECT_EQ(d.message, "group `g` gives a password in clear");
  EXPECT_EQ(d.message.find("hunter2"), std::string::npos);
  EXPECT_NE(d.help.find("hoodyc hash-password"), std::string::npos);
}

TEST(CheckCredentialsTest, UserPasswordInClearIsAnError) {
  auto out = checkGroup("password { user \"deploy\" password \"hunter2\" }; allow files");
  EXPECT_EQ(only(out, "plaintext-password").message,
            "user `deploy` in group `g` has a password in clear");
}

TEST(CheckCredentialsTest, UnsupportedHashesCountAsPlaintext) {
  struct Case {
    const char* hash;
    const char* kind;
  };
  const Case cases[] = {
      {"hunter2", "not a password hash"},
      {"$2b$12$abcdefghijklmnopqrstuuJ6sVAJQK0bC4fYxO2nIsR0tF5n8F4a", "a bcrypt hash"},
      {"$1$abc$def", "an MD5-crypt hash"},
      {"$6$salt$hash", "a SHA-crypt hash"},
  };
  for (const Case& c : cases) {
    auto out = checkGroup(std::string("password { user \"deploy\" hash \"") + c.hash +
                          "\" }; allow files");
    EXPECT_EQ(only(out, "plaintext-password").message,
              std::string("the password of user `deploy` in group `g` is ") + c.kind +
                  "; only argon2id and scrypt hashes are accepted");
  }
}

TEST(CheckCredentialsTest, MalformedArgon2idHash) {
  auto out = checkGroup("password { user \"deploy\" hash \"$argon2id$v=19$broken\" }; allow files");
  EXPECT_EQ(countCode(out, "invalid-password-hash"), 1u) << rendered(out);
}

// An argon2 PHC string with the given algorithm and parameters. The checker
// reads the parameters only, so the salt and hash are fixed.
std::string argon2Hash(const std::string& algorithm, const std::string& parameters) {
  return "$" + algorithm + "$v=19$" + parameters +
         "$e1yULHT6X83/H3HJeqAVNA$jWmnAfbYjyKPnNW1J3eRYzBwPLYa8P6i7x95zyvw10k";
}

driver::FrontEndOutput checkHash(const std::string& hash) {
  return checkGroup("password { user \"deploy\" hash \"" + hash + "\" }; allow files");
}

TEST(CheckCredentialsTest, HashPasswordOutputHasNoCostWarning) {
  auto out = checkHash(validHash());
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
}

TEST(CheckCredentialsTest, CheapArgon2idIsWeak) {
  auto out = checkHash(argon2Hash("argon2id", "m=8,t=1,p=1"));
  const auto& d = only(out, "weak-password-hash");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, "the password hash of user `deploy` in group `g` is cheap to guess "
                       "offline: its cost (m=8 KiB, t=1) is below libsodium's interactive "
                       "limits (m=65536 KiB, t=2)");
  EXPECT_NE(d.help.find("hoodyc hash-password"), std::string::npos);
  EXPECT_TRUE(out.ok);
}

TEST(CheckCredentialsTest, Argon2idLimitsAreInclusive) {
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=65536,t=2,p=1")), "weak-password-hash"),
            0u);
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=65535,t=2,p=1")), "weak-password-hash"),
            1u);
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=262144,t=1,p=4")), "weak-password-hash"),
            1u);
}

TEST(CheckCredentialsTest, Argon2iIsLegacy) {
  auto out = checkHash(argon2Hash("argon2i", "m=32768,t=4,p=1"));
  const auto& d = only(out, "legacy-password-hash");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_NE(d.help.find("hoodyc hash-password"), std::string::npos);
  EXPECT_EQ(countCode(out, "weak-password-hash"), 0u) << rendered(out);

  out = checkHash(argon2Hash("argon2i", "m=4096,t=3,p=1"));
  EXPECT_EQ(countCode(out, "legacy-password-hash"), 1u);
  EXPECT_EQ(countCode(out, "weak-password-hash"), 1u);
}

TEST(CheckCredentialsTest, ExpensiveHashIsCostly) {
  auto out = checkHash(argon2Hash("argon2id", "m=1048576,t=4,p=1"));
  const auto& d = only(out, "costly-password-hash");
  EXPECT_EQ(d.message, "the password hash of user `deploy` in group `g` makes every verification "
                       "use 1024 MiB of memory for 4 passes; the proxy pays that for every "
                       "failed login, so a few clients can tie it up");
  EXPECT_EQ(countCode(out, "weak-password-hash"), 0u);
  // libsodium's moderate preset stays below the limit; one pass over 1 GiB
  // reaches it.
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=262144,t=3,p=1")),
                      "costly-password-hash"),
            0u);
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=1048576,t=2,p=1")),
                      "costly-password-hash"),
            1u);
  // Above 1 GiB the hash itself is rejected.
  EXPECT_EQ(countCode(checkHash(argon2Hash("argon2id", "m=1048577,t=2,p=1")),
                      "invalid-password-hash"),
            1u);
}

TEST(CheckCredentialsTest, ScryptCostFollowsItsMemory) {
  ASSERT_EQ(sodium_init() >= 0, true);
  char cheap[crypto_pwhash_scryptsalsa208sha256_STRBYTES];
  ASSERT_EQ(crypto_pwhash_scryptsalsa208sha256_str(cheap, "pw", 2,
                                                   crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
                                                   crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN),
            0);
  auto out = checkHash(cheap);
  const auto& d = only(out, "weak-password-hash");
  EXPECT_NE(d.message.find("below libsodium's interactive limits (16384 KiB of memory)"),
            std::string::npos)
      << d.message;

  char interactive[crypto_pwhash_scryptsalsa208sha256_STRBYTES];
  ASSERT_EQ(crypto_pwhash_scryptsalsa208sha256_str(
                interactive, "pw", 2, crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE,
                crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE),
            0);
  out = checkHash(interactive);
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
}

TEST(CheckCredentialsTest, UserNameWithColonIsAnError) {
  auto out = checkGroup("password { user \"de:ploy\" hash \"" + validHash() + "\" }; allow files");
  const auto& d = only(out, "invalid-user");
  EXPECT_EQ(d.message, "user name `de:ploy` contains `:`");
  EXPECT_NE(d.help.find("first `:`"), std::string::npos);
}

TEST(CheckCredentialsTest, UserNameWithControlCharacterOrEmpty) {
  auto out = checkGroup("password { user \"a\\tb\" hash \"" + validHash() + "\"; user \"\" hash \"" +
                        validHash() + "\" }; allow files");
  auto errors = withCode(out, "invalid-user");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0]->message, "user name `a\\x09b` contains a control character");
  EXPECT_EQ(errors[1]->message, "group `g` has an empty user name");
}

TEST(CheckCredentialsTest, DuplicateUser) {
  auto out = checkGroup("password { user \"deploy\" hash \"" + validHash() + "\"; user \"deploy\" hash \"" +
                        validHash() + "\" }; allow files");
  EXPECT_EQ(countCode(out, "duplicate-name"), 1u);
}

TEST(CheckCredentialsTest, EmptyPasswordBlock) {
  auto out = checkGroup("password { }; allow files");
  EXPECT_EQ(only(out, "missing-setting").message,
            "the password condition of group `g` lists no users");
}

TEST(CheckCredentialsTest, BearerTokenInClear) {
  auto out = checkGroup("bearer \"s3cret-token\"; allow http");
  const auto& d = only(out, "invalid-bearer-digest");
  EXPECT_EQ(d.message, "group `g` gives a bearer token in clear");
  EXPECT_EQ(d.message.find("s3cret"), std::string::npos);
}

TEST(CheckCredentialsTest, BearerDigestOfWrongLength) {
  auto out = checkGroup("bearer sha256:\"abcd\"; allow http");
  EXPECT_EQ(only(out, "invalid-bearer-digest").message,
            "`sha256:\"abcd\"` is not a SHA-256 digest: expected 64 hex digits");
}

TEST(CheckCredentialsTest, BearerDigestWithoutQuotes) {
  std::string digest(64, 'a');
  auto out = checkGroup("bearer sha256:" + digest + "; allow http");
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckCredentialsTest, PasswordAndBearerInOneGroup) {
  std::string digest(64, 'b');
  auto out = checkGroup("password { user \"deploy\" hash \"" + validHash() +
                        "\" }\n bearer sha256:\"" + digest + "\"; allow http");
  const auto& d = only(out, "multiple-credentials");
  EXPECT_EQ(d.message, "group `g` has both a `password` and a `bearer` condition");
  EXPECT_EQ(d.span.line, 5);
}

TEST(CheckCredentialsTest, ForwardWithoutCredentialWarns) {
  auto out = checkGroup("ip 192.0.2.0/24; allow http; forward_credentials");
  EXPECT_EQ(only(out, "forward-without-credential").severity, diag::Severity::Warning);
}

}  // namespace
}  // namespace hoody::testing
