// SPDX-License-Identifier: Apache-2.0
// Tests of the local CA and server certificate generation.
#include "runtime/tls/certificates.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/tls/context.h"

namespace hoody::tls {
namespace {

class CertificatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hoody-certs-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    dir_ = base_ + "/state";
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + base_ + "'";
    ASSERT_EQ(system(cmd.c_str()), 0);
  }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static X509* loadCert(const std::string& path) {
    FILE* f = fopen(path.c_str(), "r");
    if (f == nullptr) return nullptr;
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    fclose(f);
    return x;
  }

  static mode_t modeOf(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 0777;
  }

  // Verifies `leaf` against `ca` for the host name `name`.
  static bool verifies(X509* ca, X509* leaf, const std::string& name) {
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
  }

  std::string base_;
  std::string dir_;
};

TEST_F(CertificatesTest, CreatesCaAndLeafThatVerify) {
  std::vector<std::string> names = containerCertificateNames("node-us", "example.test");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "*.node-us.containers.example.test");
  EXPECT_EQ(names[1], "node-us.containers.example.test");

  Result<CertificateFiles> files = ensureCertificates(dir_, names);
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_TRUE(files->created_ca);
  EXPECT_TRUE(files->issued_server);
  EXPECT_EQ(modeOf(dir_), 0700u);
  EXPECT_EQ(modeOf(dir_ + "/ca-key.pem"), 0600u);
  EXPECT_EQ(modeOf(files->server_key), 0600u);

  X509* ca = loadCert(files->ca_cert);
  X509* leaf = loadCert(files->server_cert);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_NE(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN, 0u);
  EXPECT_EQ(X509_check_ca(leaf), 0);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(leaf)), EVP_PKEY_EC);
  std::string host =
      "0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03-http-1.node-us.containers.example.test";
  EXPECT_TRUE(verifies(ca, leaf, host));
  EXPECT_TRUE(verifies(ca, leaf, "node-us.containers.example.test"));
  EXPECT_FALSE(verifies(ca, leaf, "a.b.node-us.containers.example.test"));
  EXPECT_FALSE(verifies(ca, leaf, "x.node-eu.containers.example.test"));
  X509_free(ca);
  X509_free(leaf);

  Result<ContextPtr> context = makeServerContext(files->server_cert, files->server_key);
  ASSERT_TRUE(context.has_value()) << context.error().message;
}

TEST_F(CertificatesTest, ReusesFilesOnLaterStarts) {
  std::vector<std::string> names = containerCertificateNames("node-us", "example.test");
  Result<CertificateFiles> first = ensureCertificates(dir_, names);
  ASSERT_TRUE(first.has_value());
  std::string ca = read(first->ca_cert);
  std::string leaf = read(first->server_cert);
  Result<CertificateFiles> second = ensureCertificates(dir_, names);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->created_ca);
  EXPECT_FALSE(second->issued_server);
  EXPECT_EQ(read(second->ca_cert), ca);
  EXPECT_EQ(read(second->server_cert), leaf);
}

TEST_F(CertificatesTest, ReissuesLeafWhenNamesChange) {
  Result<CertificateFiles> first =
      ensureCertificates(dir_, containerCertificateNames("node-us", "example.test"));
  ASSERT_TRUE(first.has_value());
  std::string ca = read(first->ca_cert);
  std::string leaf = read(first->server_cert);
  Result<CertificateFiles> second =
      ensureCertificates(dir_, containerCertificateNames("node-eu", "example.test"));
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->created_ca);
  EXPECT_TRUE(second->issued_server);
  EXPECT_EQ(read(second->ca_cert), ca);
  EXPECT_NE(read(second->server_cert), leaf);
  X509* ca_cert = loadCert(second->ca_cert);
  X509* leaf_cert = loadCert(second->server_cert);
  EXPECT_TRUE(verifies(ca_cert, leaf_cert, "x.node-eu.containers.example.test"));
  EXPECT_FALSE(verifies(ca_cert, leaf_cert, "x.node-us.containers.example.test"));
  X509_free(ca_cert);
  X509_free(leaf_cert);
}

TEST_F(CertificatesTest, RejectsCaWithoutKey) {
  ASSERT_TRUE(ensureCertificates(dir_, containerCertificateNames("n", "example.test")).has_value());
  ASSERT_EQ(remove((dir_ + "/ca-key.pem").c_str()), 0);
  Result<CertificateFiles> r = ensureCertificates(dir_, containerCertificateNames("n", "example.test"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "invalid-certificate");
}

TEST_F(CertificatesTest, RejectsCorruptCa) {
  ASSERT_TRUE(ensureCertificates(dir_, containerCertificateNames("n", "example.test")).has_value());
  std::ofstream(dir_ + "/ca.pem") << "garbage";
  Result<CertificateFiles> r = ensureCertificates(dir_, containerCertificateNames("n", "example.test"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "invalid-certificate");
}

TEST_F(CertificatesTest, ReissuesLeafSignedByAnotherCa) {
  std::vector<std::string> names = containerCertificateNames("n", "example.test");
  ASSERT_TRUE(ensureCertificates(dir_, names).has_value());
  std::string foreign = base_ + "/foreign";
  Result<CertificateFiles> other = ensureCertificates(foreign, names);
  ASSERT_TRUE(other.has_value());
  // Put the other CA's leaf (and key) in place: it must not be trusted.
  std::ofstream(dir_ + "/server.pem") << read(foreign + "/server.pem");
  std::ofstream(dir_ + "/server-key.pem") << read(foreign + "/server-key.pem");
  Result<CertificateFiles> again = ensureCertificates(dir_, names);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->issued_server);
}

}  // namespace
}  // namespace hoody::tls
