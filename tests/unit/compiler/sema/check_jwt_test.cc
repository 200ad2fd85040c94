// SPDX-License-Identifier: Apache-2.0
// Tests of JWT checks: jwt-none-algorithm, unsupported-jwt-algorithm,
// invalid-jwt-key, key-file-outside-policy, invalid-duration,
// excessive-jwt-leeway, missing-setting, unpinned-jwt-claim,
// jwt-without-exp, jwt-shared-secret, invalid-jwt-setting,
// shared-jwt-issuer and jwt-without-realm-claim.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <filesystem>
#include <cstring>
#include <memory>

#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

// Generates a public key in PEM: "EC" (P-256) or "RSA" (2048 bits).
std::string publicKeyPem(const char* type) {
  EVP_PKEY* key = std::string(type) == "EC" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                            : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> owned(key, EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string base64Url(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Converts a P-256 public key in PEM to a JWK Set with that one key.
std::string ecJwks(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::string coordinates[2];
  const char* names[2] = {OSSL_PKEY_PARAM_EC_PUB_X, OSSL_PKEY_PARAM_EC_PUB_Y};
  for (int i = 0; i < 2; ++i) {
    BIGNUM* value = nullptr;
    EVP_PKEY_get_bn_param(key.get(), names[i], &value);
    unsigned char bytes[32];
    BN_bn2binpad(value, bytes, sizeof(bytes));
    BN_free(value);
    coordinates[i] = base64Url(bytes, sizeof(bytes));
  }
  return "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"use\": \"sig\", \"x\": \"" +
         coordinates[0] + "\", \"y\": \"" + coordinates[1] + "\"}]}";
}

// Wraps `secret` in an `HMAC SECRET` PEM block.
std::string hmacSecretPem(const std::string& secret) {
  std::string base64(sodium_base64_ENCODED_LEN(secret.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(base64.data(), base64.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                    secret.size(), sodium_base64_VARIANT_ORIGINAL);
  base64.resize(std::strlen(base64.c_str()));
  return "-----BEGIN HMAC SECRET-----\n" + base64 + "\n-----END HMAC SECRET-----\n";
}

class CheckJwtTest : public ::testing::Test {
 protected:
  // Key generation (RSA especially) is slow, so the keys are made once.
  static void SetUpTestSuite() {
    ec_pem_ = new std::string(publicKeyPem("EC"));
    rsa_pem_ = new std::string(publicKeyPem("RSA"));
  }
  static void TearDownTestSuite() {
    delete ec_pem_;
    delete rsa_pem_;
  }

  void SetUp() override {
    dir_.write("keys/ec.pub.pem", *ec_pem_);
    dir_.write("keys/rsa.pub.pem", *rsa_pem_);
  }

  driver::FrontEndOutput checkJwt(const std::string& jwt_body,
                                  const std::string& policy_name = "policy.hoody",
                                  const std::string& profile = "") {
    std::string text = inProject("permissions { default deny\n group ops { jwt { " + jwt_body +
                                 " }; allow terminal } }\n" + container("a", kContainerA),
                                 profile);
    driver::FrontEndOptions options;
    options.files.push_back(dir_.write(policy_name, text));
    return driver::runFrontEnd(options);
  }

  // Two realms with one JWT group each; `first` and `second` are the bodies
  // of their jwt conditions.
  driver::FrontEndOutput checkTwoRealms(const std::string& first, const std::string& second) {
    auto realm = [](const std::string& name, const std::string& project_id,
                    const std::string& container_id, const std::string& jwt_body) {
      return "realm " + name + " {\n project p id " + project_id +
             " {\n permissions { default deny\n group ops { jwt { " + jwt_body +
             " }; allow terminal } }\n container a id " + container_id + "\n }\n}\n";
    };
    std::string text = realm("alpha", kProjectId, kContainerA, first) +
                       realm("beta", "3b9e5c27d1a04f86e2c7d5b1", kContainerB, second);
    driver::FrontEndOptions options;
    options.files.push_back(dir_.write("realms.hoody", text));
    return driver::runFrontEnd(options);
  }

  static std::string pinned(const std::string& algorithms, const std::string& key) {
    return "issuer \"https://idp.example/\"; audience \"terminal\"; algorithms " + algorithms +
           "; key file \"" + key + "\"";
  }

  TempDir dir_;
  static std::string* ec_pem_;
  static std::string* rsa_pem_;
};

std::string* CheckJwtTest::ec_pem_ = nullptr;
std::string* CheckJwtTest::rsa_pem_ = nullptr;

TEST_F(CheckJwtTest, AcceptsPinnedEs256) {
  auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; leeway 30s");
  EXPECT_TRUE(out.ok) << rendered(out);
  EXPECT_EQ(out.warning_count, 0u) << rendered(out);
}

TEST_F(CheckJwtTest, NoneAlgorithmIsRejectedInEveryCase) {
  for (const char* none : {"none", "NONE", "None", "nOnE"}) {
    auto out = checkJwt(pinned(std::string("RS256, ") + none, "keys/rsa.pub.pem"));
    const auto& d = only(out, "jwt-none-algorithm");
    EXPECT_EQ(d.message, std::string("JWT algorithm `") + none +
                             "` accepts unsigned tokens and is never allowed");
    EXPECT_FALSE(out.ok);
  }
}

TEST_F(CheckJwtTest, UnsupportedAlgorithmWithCaseHint) {
  auto out = checkJwt(pinned("es256", "keys/ec.pub.pem"));
  const auto& d = only(out, "unsupported-jwt-algorithm");
  EXPECT_EQ(d.message, "`es256` is not a supported JWT algorithm");
  EXPECT_EQ(d.help.rfind("algorithm names are case-sensitive: `ES256`", 0), 0u) << d.help;
}

TEST_F(CheckJwtTest, UnknownAlgorithm) {
  auto out = checkJwt(pinned("XS999", "keys/ec.pub.pem"));
  EXPECT_EQ(countCode(out, "unsupported-jwt-algorithm"), 1u);
}

TEST_F(CheckJwtTest, MissingKeyFileNamesTheResolvedPath) {
  auto out = checkJwt(pinned("ES256", "keys/missing.pem"));
  const auto& d = only(out, "invalid-jwt-key");
  EXPECT_EQ(d.message, "cannot read key file `keys/missing.pem`: No such file or directory");
  EXPECT_NE(d.help.find(dir_.path() + "/keys/missing.pem"), std::string::npos) << d.help;
}

TEST_F(CheckJwtTest, KeyOfWrongTypeForAlgorithm) {
  auto out = checkJwt(pinned("ES256", "keys/rsa.pub.pem"));
  const auto& d = only(out, "invalid-jwt-key");
  EXPECT_EQ(d.message.rfind("key file `keys/rsa.pub.pem` cannot verify the pinned algorithms", 0),
            0u)
      << d.message;
}

TEST_F(CheckJwtTest, KeyFileThatIsNotAKey) {
  dir_.write("keys/junk.pem", "not a key\n");
  auto out = checkJwt(pinned("ES256", "keys/junk.pem"));
  EXPECT_EQ(countCode(out, "invalid-jwt-key"), 1u);
}

TEST_F(CheckJwtTest, MissingAlgorithmsAndKey) {
  auto out = checkJwt("issuer \"https://idp.example/\"; audience \"terminal\"");
  auto missing = withCode(out, "missing-setting");
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0]->message, "the jwt condition of group `ops` pins no algorithm");
  EXPECT_EQ(missing[1]->message, "the jwt condition of group `ops` has no key");
}

TEST_F(CheckJwtTest, InvalidLeeway) {
  for (const char* leeway : {"30", "5d", "-5s", "1.5m", "99999999999s"}) {
    auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; leeway " + leeway);
    EXPECT_EQ(only(out, "invalid-duration").message,
              std::string("`") + leeway + "` is not a duration");
  }
}

TEST_F(CheckJwtTest, UnpinnedIssuerAndAudienceWarn) {
  auto out = checkJwt("algorithms ES256; key file \"keys/ec.pub.pem\"");
  auto warnings = withCode(out, "unpinned-jwt-claim");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0]->message, "the jwt condition of group `ops` accepts tokens from any issuer");
  EXPECT_EQ(warnings[1]->message,
            "the jwt condition of group `ops` accepts tokens for any audience");
  EXPECT_TRUE(out.ok);
}

TEST_F(CheckJwtTest, RequireExpFalseWarns) {
  auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; require_exp false");
  EXPECT_EQ(only(out, "jwt-without-exp").severity, diag::Severity::Warning);
}

TEST_F(CheckJwtTest, HmacAlgorithmWarnsAboutSharedSecret) {
  dir_.write("keys/hmac.pem", hmacSecretPem("0123456789abcdef0123456789abcdef"));
  auto out = checkJwt(pinned("HS256", "keys/hmac.pem"));
  const auto& d = only(out, "jwt-shared-secret");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.span.line, 4);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST_F(CheckJwtTest, RawSecretIsRejected) {
  dir_.write("keys/hmac.key", "0123456789abcdef0123456789abcdef\n");
  auto out = checkJwt(pinned("HS256", "keys/hmac.key"));
  const auto& d = only(out, "invalid-jwt-key");
  EXPECT_EQ(d.message, "key file `keys/hmac.key` is neither PEM nor a JWKS document; raw bytes "
                       "are not accepted as an HMAC secret");
  EXPECT_NE(d.help.find("-----BEGIN HMAC SECRET-----"), std::string::npos) << d.help;
  EXPECT_FALSE(out.ok);
}

TEST_F(CheckJwtTest, EmptyKeyFileIsRejected) {
  dir_.write("keys/empty.pem", "\n");
  auto out = checkJwt(pinned("HS256", "keys/empty.pem"));
  EXPECT_EQ(only(out, "invalid-jwt-key").message, "key file `keys/empty.pem` is empty");
}

TEST_F(CheckJwtTest, TextAroundPemBlocksIsRejected) {
  dir_.write("keys/notes.pem", "operators key, rotated yearly\n" + *ec_pem_);
  auto out = checkJwt(pinned("ES256", "keys/notes.pem"));
  EXPECT_EQ(only(out, "invalid-jwt-key").message,
            "key file `keys/notes.pem` has text outside its PEM blocks, which would be compiled "
            "into the bundle");
  dir_.write("keys/trailer.pem", *ec_pem_ + "password=hunter2\n");
  out = checkJwt(pinned("ES256", "keys/trailer.pem"));
  EXPECT_EQ(countCode(out, "invalid-jwt-key"), 1u) << rendered(out);
}

TEST_F(CheckJwtTest, JwksAndHmacPemAreAccepted) {
  dir_.write("keys/ec.jwks", ecJwks(*ec_pem_));
  auto out = checkJwt(pinned("ES256", "keys/ec.jwks"));
  EXPECT_TRUE(out.ok) << rendered(out);
  ASSERT_EQ(out.policy.realms.size(), 1u);
  EXPECT_EQ(out.policy.realms[0].blocks[0].groups[0].jwt->key_pem, ecJwks(*ec_pem_));
}

TEST_F(CheckJwtTest, KeyFileOutsidePolicyDirectoryIsRejected) {
  // The policy lives in `policies/`; the key is a sibling directory's file.
  auto out = checkJwt(pinned("ES256", "../keys/ec.pub.pem"), "policies/policy.hoody");
  const auto& d = only(out, "key-file-outside-policy");
  EXPECT_EQ(d.message, "key file `../keys/ec.pub.pem` is outside the directory of the policy file");
  EXPECT_EQ(d.help, "keep key files in the policy file's directory or below it, e.g. "
                    "`keys/issuer.pub.pem`, and name them relative to the policy file");
  EXPECT_FALSE(out.ok);
}

TEST_F(CheckJwtTest, SystemFileIsNeverRead) {
  auto out = checkJwt(pinned("HS256", "../../../../../../../../etc/passwd"));
  EXPECT_EQ(countCode(out, "key-file-outside-policy"), 1u) << rendered(out);
  EXPECT_EQ(countCode(out, "invalid-jwt-key"), 0u) << rendered(out);
  out = checkJwt(pinned("HS256", "/etc/passwd"));
  EXPECT_EQ(countCode(out, "key-file-outside-policy"), 1u) << rendered(out);
}

TEST_F(CheckJwtTest, SymlinkOutOfPolicyDirectoryIsRejected) {
  dir_.write("outside/ec.pub.pem", *ec_pem_);
  std::filesystem::create_directories(dir_.path() + "/policies/keys");
  std::filesystem::create_symlink(dir_.path() + "/outside/ec.pub.pem",
                                  dir_.path() + "/policies/keys/link.pem");
  auto out = checkJwt(pinned("ES256", "keys/link.pem"), "policies/policy.hoody");
  EXPECT_EQ(only(out, "key-file-outside-policy").message,
            "key file `keys/link.pem` resolves to `../outside/ec.pub.pem`, outside the directory "
            "of the policy file");
}

TEST_F(CheckJwtTest, PathsInsidePolicyDirectoryAreAccepted) {
  // `..` that stays inside, and an absolute path inside, are both fine.
  auto out = checkJwt(pinned("ES256", "keys/../keys/ec.pub.pem"));
  EXPECT_TRUE(out.ok) << rendered(out);
  out = checkJwt(pinned("ES256", dir_.path() + "/keys/ec.pub.pem"));
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST_F(CheckJwtTest, LeewayLimits) {
  struct Case {
    const char* leeway;
    size_t warnings;
    size_t errors;
  };
  const Case cases[] = {{"30s", 0, 0},   {"5m", 0, 0},     {"301s", 1, 0},
                        {"1h", 1, 0},    {"3601s", 0, 1},  {"1000000h", 0, 1}};
  for (const Case& c : cases) {
    auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; leeway " + c.leeway);
    auto found = withCode(out, "excessive-jwt-leeway");
    ASSERT_EQ(found.size(), c.warnings + c.errors) << c.leeway << "\n" << rendered(out);
    EXPECT_EQ(out.error_count, c.errors) << c.leeway << "\n" << rendered(out);
  }
  auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; leeway 2h");
  EXPECT_EQ(only(out, "excessive-jwt-leeway").message,
            "leeway `2h` is more than 1 hour, so tokens stay valid that long after `exp` and "
            "before `nbf`");
}

TEST_F(CheckJwtTest, SharedIssuerAcrossRealmsNeedsRealmClaim) {
  std::string alpha = pinned("ES256", "keys/ec.pub.pem");
  std::string beta = pinned("RS256", "keys/rsa.pub.pem");
  auto out = checkTwoRealms(alpha, beta);
  auto errors = withCode(out, "shared-jwt-issuer");
  ASSERT_EQ(errors.size(), 2u) << rendered(out);
  EXPECT_EQ(errors[0]->message,
            "the jwt condition of group `ops` does not set `realm_claim`, but group `ops` of realm "
            "`beta` also trusts issuer `https://idp.example/`, so tokens minted for realm `beta` "
            "are accepted in realm `alpha`");
  EXPECT_EQ(errors[1]->message,
            "the jwt condition of group `ops` does not set `realm_claim`, but group `ops` of realm "
            "`alpha` also trusts issuer `https://idp.example/`, so tokens minted for realm `alpha` "
            "are accepted in realm `beta`");
  EXPECT_NE(errors[0]->help.find("realm_claim \"<claim name>\""), std::string::npos);
  EXPECT_FALSE(out.ok);

  // Only the condition without the claim is reported.
  out = checkTwoRealms(alpha + "; realm_claim \"hoody_realm\"", beta);
  ASSERT_EQ(countCode(out, "shared-jwt-issuer"), 1u) << rendered(out);
  EXPECT_NE(only(out, "shared-jwt-issuer").message.find("so tokens minted for realm `alpha` are "
                                                          "accepted in realm `beta`"),
            std::string::npos);

  out = checkTwoRealms(alpha + "; realm_claim \"hoody_realm\"",
                       beta + "; realm_claim \"hoody_realm\"");
  EXPECT_EQ(countCode(out, "shared-jwt-issuer"), 0u) << rendered(out);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST_F(CheckJwtTest, SharedKeyFoundInAnyForm) {
  // The same EC key, once as PEM and once as a JWK Set, under two issuers.
  dir_.write("keys/ec.jwks", ecJwks(*ec_pem_));
  auto out = checkTwoRealms(
      "issuer \"https://a.example\"; audience \"t\"; algorithms ES256; key file \"keys/ec.pub.pem\"",
      "issuer \"https://b.example\"; audience \"t\"; algorithms ES256; key file \"keys/ec.jwks\"");
  auto errors = withCode(out, "shared-jwt-issuer");
  ASSERT_EQ(errors.size(), 2u) << rendered(out);
  EXPECT_EQ(errors[0]->message,
            "the jwt condition of group `ops` does not set `realm_claim`, but group `ops` of realm "
            "`beta` also trusts the key in `keys/ec.pub.pem`, so tokens minted for realm `beta` "
            "are accepted in realm `alpha`");

  // The same HMAC secret as a PEM block and as a JWK.
  std::string secret = "0123456789abcdef0123456789abcdef";
  dir_.write("keys/hmac.pem", hmacSecretPem(secret));
  dir_.write("keys/hmac.jwk",
             "{\"kty\": \"oct\", \"k\": \"" +
                 base64Url(reinterpret_cast<const unsigned char*>(secret.data()), secret.size()) +
                 "\"}");
  out = checkTwoRealms(
      "issuer \"https://a.example\"; audience \"t\"; algorithms HS256; key file \"keys/hmac.pem\"",
      "issuer \"https://b.example\"; audience \"t\"; algorithms HS256; key file \"keys/hmac.jwk\"");
  EXPECT_EQ(countCode(out, "shared-jwt-issuer"), 2u) << rendered(out);
}

TEST_F(CheckJwtTest, SeparateIssuersAndKeysNeedNoRealmClaim) {
  auto out = checkTwoRealms(
      "issuer \"https://a.example\"; audience \"t\"; algorithms ES256; key file \"keys/ec.pub.pem\"",
      "issuer \"https://b.example\"; audience \"t\"; algorithms RS256; key file \"keys/rsa.pub.pem\"");
  EXPECT_EQ(countCode(out, "shared-jwt-issuer"), 0u) << rendered(out);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST_F(CheckJwtTest, ProductionWarnsWithoutRealmClaim) {
  auto out = checkJwt(pinned("ES256", "keys/ec.pub.pem"), "policy.hoody", "production");
  const auto& d = only(out, "jwt-without-realm-claim");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.message, "the jwt condition of group `ops` does not bind tokens to realm `r` under "
                       "profile `production`");
  out = checkJwt(pinned("ES256", "keys/ec.pub.pem") + "; realm_claim \"hoody_realm\"",
                 "policy.hoody", "production");
  EXPECT_EQ(countCode(out, "jwt-without-realm-claim"), 0u) << rendered(out);
  out = checkJwt(pinned("ES256", "keys/ec.pub.pem"));
  EXPECT_EQ(countCode(out, "jwt-without-realm-claim"), 0u) << rendered(out);
}

TEST_F(CheckJwtTest, EmptyAudienceIsInvalid) {
  auto out = checkJwt("issuer \"x\"; audience \"\"; algorithms ES256; key file \"keys/ec.pub.pem\"");
  EXPECT_EQ(only(out, "invalid-jwt-setting").message, "audience is an empty string");
}

}  // namespace
}  // namespace hoody::testing
