// SPDX-License-Identifier: Apache-2.0
// Tests of credential checks: plaintext-password, invalid-password-hash,
// invalid-user, invalid-bearer-digest, multiple-credentials and
// forward-without-credential.
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
