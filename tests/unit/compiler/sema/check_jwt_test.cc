// SPDX-License-Identifier: Apache-2.0
// Tests of JWT checks: jwt-none-algorithm, unsupported-jwt-algorithm,
// invalid-jwt-key, invalid-duration, missing-setting, unpinned-jwt-claim,
// jwt-without-exp, jwt-shared-secret and invalid-jwt-setting.
#include <openssl/evp.h>
#include <openssl/pem.h>

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

  driver::FrontEndOutput checkJwt(const std::string& jwt_body) {
    std::string text = inProject("permissions { default deny\n group ops { jwt { " + jwt_body +
                                 " }; allow terminal } }\n" + container("a", kContainerA));
    driver::FrontEndOptions options;
    options.files.push_back(dir_.write("policy.hoody", text));
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
  dir_.write("keys/hmac.key", "0123456789abcdef0123456789abcdef\n");
  auto out = checkJwt(pinned("HS256", "keys/hmac.key"));
  const auto& d = only(out, "jwt-shared-secret");
  EXPECT_EQ(d.severity, diag::Severity::Warning);
  EXPECT_EQ(d.span.line, 4);
}

TEST_F(CheckJwtTest, EmptyAudienceIsInvalid) {
  auto out = checkJwt("issuer \"x\"; audience \"\"; algorithms ES256; key file \"keys/ec.pub.pem\"");
  EXPECT_EQ(only(out, "invalid-jwt-setting").message, "audience is an empty string");
}

}  // namespace
}  // namespace hoody::testing
