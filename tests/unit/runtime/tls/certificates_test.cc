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
#include <utility>
#include <vector>

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

  // Verifies `leaf` against `ca` for the host name `name` (an IP address
  // when `ip` is set). Returns the OpenSSL verification error, X509_V_OK
  // when it verifies.
  static int verifyError(X509* ca, X509* leaf, const std::string& name, bool ip = false) {
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    }
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    int error = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return error;
  }

  static bool verifies(X509* ca, X509* leaf, const std::string& name) {
    return verifyError(ca, leaf, name) == X509_V_OK;
  }

  static EVP_PKEY* loadKey(const std::string& path) {
    FILE* f = fopen(path.c_str(), "r");
    if (f == nullptr) return nullptr;
    EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    fclose(f);
    return k;
  }

  static bool addExt(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) return false;
    bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
  }

  // Makes a certificate for `key` named `cn`, signed by `issuer_key` (and
  // self-issued when `issuer` is null), with `extensions` as nid/value pairs.
  static X509* makeCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                        const std::vector<std::pair<int, std::string>>& extensions) {
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(issuer != nullptr ? issuer : cert));
    X509_set_pubkey(cert, key);
    for (const auto& [nid, value] : extensions) {
      if (!addExt(cert, issuer != nullptr ? issuer : cert, nid, value.c_str())) {
        X509_free(cert);
        return nullptr;
      }
    }
    if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) {
      X509_free(cert);
      return nullptr;
    }
    return cert;
  }

  // Signs a leaf for the subjectAltName `san` with the CA in `dir`.
  static X509* signLeafWithCa(const std::string& dir, const std::string& san) {
    X509* ca = loadCert(dir + "/ca.pem");
    EVP_PKEY* ca_key = loadKey(dir + "/ca-key.pem");
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* leaf = nullptr;
    if (ca != nullptr && ca_key != nullptr && key != nullptr) {
      leaf = makeCert(key, "leaf", ca, ca_key,
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_key_usage, "critical,digitalSignature"},
                       {NID_ext_key_usage, "serverAuth"},
                       {NID_subject_alt_name, san}});
    }
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    return leaf;
  }

  static void writePem(const std::string& path, X509* cert) {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_X509(f, cert);
    fclose(f);
  }

  static void writeKeyPem(const std::string& path, EVP_PKEY* key) {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    fclose(f);
  }

  static Result<CertificateFiles> ensure(const std::string& dir, const std::string& node) {
    return ensureCertificates(dir, containerCertificateNames(node, "example.test"),
                              containerCaDomains(node, "example.test"));
  }

  std::string base_;
  std::string dir_;
};

TEST_F(CertificatesTest, CreatesCaAndLeafThatVerify) {
  std::vector<std::string> names = containerCertificateNames("node-us", "example.test");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "*.node-us.containers.example.test");
  EXPECT_EQ(names[1], "node-us.containers.example.test");
  EXPECT_EQ(containerCaDomains("node-us", "example.test"),
            std::vector<std::string>{"node-us.containers.example.test"});

  Result<CertificateFiles> files = ensure(dir_, "node-us");
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_TRUE(files->created_ca);
  EXPECT_FALSE(files->replaced_ca);
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
  int nc = X509_get_ext_by_NID(ca, NID_name_constraints, -1);
  ASSERT_GE(nc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(ca, nc)), 1);
  EXPECT_EQ(X509_get_extended_key_usage(ca), static_cast<uint32_t>(XKU_SSL_SERVER));
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
  Result<CertificateFiles> first = ensure(dir_, "node-us");
  ASSERT_TRUE(first.has_value());
  std::string ca = read(first->ca_cert);
  std::string leaf = read(first->server_cert);
  Result<CertificateFiles> second = ensure(dir_, "node-us");
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->created_ca);
  EXPECT_FALSE(second->replaced_ca);
  EXPECT_FALSE(second->issued_server);
  EXPECT_EQ(read(second->ca_cert), ca);
  EXPECT_EQ(read(second->server_cert), leaf);
}

TEST_F(CertificatesTest, ReissuesLeafWhenNamesChange) {
  std::vector<std::string> domains = containerCaDomains("node-us", "example.test");
  Result<CertificateFiles> first =
      ensureCertificates(dir_, containerCertificateNames("node-us", "example.test"), domains);
  ASSERT_TRUE(first.has_value());
  std::string ca = read(first->ca_cert);
  std::string leaf = read(first->server_cert);
  Result<CertificateFiles> second =
      ensureCertificates(dir_, {"node-us.containers.example.test"}, domains);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->created_ca);
  EXPECT_TRUE(second->issued_server);
  EXPECT_EQ(read(second->ca_cert), ca);
  EXPECT_NE(read(second->server_cert), leaf);
}

TEST_F(CertificatesTest, ReplacesCaWhenNodeChanges) {
  Result<CertificateFiles> first = ensure(dir_, "node-us");
  ASSERT_TRUE(first.has_value());
  std::string ca = read(first->ca_cert);
  std::string leaf = read(first->server_cert);
  // The node-us CA may not vouch for node-eu names, so a new CA is made.
  Result<CertificateFiles> second = ensure(dir_, "node-eu");
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->created_ca);
  EXPECT_TRUE(second->replaced_ca);
  EXPECT_TRUE(second->issued_server);
  EXPECT_NE(read(second->ca_cert), ca);
  EXPECT_NE(read(second->server_cert), leaf);
  X509* ca_cert = loadCert(second->ca_cert);
  X509* leaf_cert = loadCert(second->server_cert);
  EXPECT_TRUE(verifies(ca_cert, leaf_cert, "x.node-eu.containers.example.test"));
  EXPECT_FALSE(verifies(ca_cert, leaf_cert, "x.node-us.containers.example.test"));
  X509_free(ca_cert);
  X509_free(leaf_cert);
}

TEST_F(CertificatesTest, CaCannotVouchForOtherNames) {
  Result<CertificateFiles> files = ensure(dir_, "node-us");
  ASSERT_TRUE(files.has_value()) << files.error().message;
  X509* ca = loadCert(files->ca_cert);
  ASSERT_NE(ca, nullptr);

  // A leaf the CA's key signs for a name under the CA domain verifies.
  std::string inside_name =
      "0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03-http-1.node-us.containers.example.test";
  X509* inside = signLeafWithCa(dir_, "DNS:" + inside_name);
  ASSERT_NE(inside, nullptr);
  EXPECT_EQ(verifyError(ca, inside, inside_name), X509_V_OK);

  // Leaves for any other name fail, even when the key leaks.
  struct Case {
    std::string san;
    std::string name;
    bool ip;
    int error;
  };
  std::vector<Case> cases = {
      {"DNS:www.example.com", "www.example.com", false, X509_V_ERR_PERMITTED_VIOLATION},
      {"DNS:x.node-eu.containers.example.test", "x.node-eu.containers.example.test", false,
       X509_V_ERR_PERMITTED_VIOLATION},
      {"DNS:evilnode-us.containers.example.test", "evilnode-us.containers.example.test", false,
       X509_V_ERR_PERMITTED_VIOLATION},
      {"DNS:*.containers.example.test", "a.containers.example.test", false,
       X509_V_ERR_PERMITTED_VIOLATION},
      {"IP:127.0.0.1", "127.0.0.1", true, X509_V_ERR_EXCLUDED_VIOLATION},
      {"IP:::1", "::1", true, X509_V_ERR_EXCLUDED_VIOLATION},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.san);
    X509* leaf = signLeafWithCa(dir_, c.san);
    ASSERT_NE(leaf, nullptr);
    EXPECT_EQ(verifyError(ca, leaf, c.name, c.ip), c.error);
    X509_free(leaf);
  }
  X509_free(inside);
  X509_free(ca);
}

TEST_F(CertificatesTest, ReplacesUnconstrainedCa) {
  // A CA as earlier releases made it: no name constraints, with a valid leaf.
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  EVP_PKEY* old_key = EVP_EC_gen("P-256");
  ASSERT_NE(old_key, nullptr);
  X509* old_ca = makeCert(old_key, "old CA", nullptr, old_key,
                          {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                           {NID_key_usage, "critical,keyCertSign,cRLSign"},
                           {NID_subject_key_identifier, "hash"}});
  ASSERT_NE(old_ca, nullptr);
  writePem(dir_ + "/ca.pem", old_ca);
  writeKeyPem(dir_ + "/ca-key.pem", old_key);
  X509* old_leaf = signLeafWithCa(dir_, "DNS:*.node-us.containers.example.test");
  ASSERT_NE(old_leaf, nullptr);
  EXPECT_TRUE(verifies(old_ca, old_leaf, "x.node-us.containers.example.test"));
  X509* foreign = signLeafWithCa(dir_, "DNS:www.example.com");
  ASSERT_NE(foreign, nullptr);
  EXPECT_TRUE(verifies(old_ca, foreign, "www.example.com"));
  writePem(dir_ + "/server.pem", old_leaf);
  std::string old_ca_pem = read(dir_ + "/ca.pem");

  Result<CertificateFiles> files = ensure(dir_, "node-us");
  ASSERT_TRUE(files.has_value()) << files.error().message;
  EXPECT_TRUE(files->created_ca);
  EXPECT_TRUE(files->replaced_ca);
  EXPECT_TRUE(files->issued_server);
  EXPECT_NE(read(files->ca_cert), old_ca_pem);
  EXPECT_EQ(modeOf(dir_ + "/ca-key.pem"), 0600u);

  X509* ca = loadCert(files->ca_cert);
  X509* leaf = loadCert(files->server_cert);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(leaf, nullptr);
  EXPECT_GE(X509_get_ext_by_NID(ca, NID_name_constraints, -1), 0);
  EXPECT_TRUE(verifies(ca, leaf, "x.node-us.containers.example.test"));
  EXPECT_FALSE(verifies(old_ca, leaf, "x.node-us.containers.example.test"));
  X509* foreign_new = signLeafWithCa(dir_, "DNS:www.example.com");
  ASSERT_NE(foreign_new, nullptr);
  EXPECT_EQ(verifyError(ca, foreign_new, "www.example.com"), X509_V_ERR_PERMITTED_VIOLATION);

  // The replacement is constrained, so the next start keeps it.
  Result<CertificateFiles> again = ensure(dir_, "node-us");
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->created_ca);
  EXPECT_FALSE(again->replaced_ca);
  EXPECT_FALSE(again->issued_server);

  X509_free(foreign_new);
  X509_free(leaf);
  X509_free(ca);
  X509_free(foreign);
  X509_free(old_leaf);
  X509_free(old_ca);
  EVP_PKEY_free(old_key);
}

TEST_F(CertificatesTest, RejectsLeafNameOutsideCaDomains) {
  Result<CertificateFiles> r = ensureCertificates(
      dir_, {"*.node-us.containers.example.test", "www.example.com"},
      containerCaDomains("node-us", "example.test"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "invalid-argument");
  EXPECT_NE(r.error().message.find("www.example.com"), std::string::npos);
  Result<CertificateFiles> none = ensureCertificates(dir_, {}, {});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, "invalid-argument");
}

TEST_F(CertificatesTest, RejectsCaWithoutKey) {
  ASSERT_TRUE(ensure(dir_, "n").has_value());
  ASSERT_EQ(remove((dir_ + "/ca-key.pem").c_str()), 0);
  Result<CertificateFiles> r = ensure(dir_, "n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "invalid-certificate");
}

TEST_F(CertificatesTest, RejectsCorruptCa) {
  ASSERT_TRUE(ensure(dir_, "n").has_value());
  std::ofstream(dir_ + "/ca.pem") << "garbage";
  Result<CertificateFiles> r = ensure(dir_, "n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, "invalid-certificate");
}

TEST_F(CertificatesTest, ReissuesLeafSignedByAnotherCa) {
  ASSERT_TRUE(ensure(dir_, "n").has_value());
  std::string foreign = base_ + "/foreign";
  Result<CertificateFiles> other = ensure(foreign, "n");
  ASSERT_TRUE(other.has_value());
  // Put the other CA's leaf (and key) in place: it must not be trusted.
  std::ofstream(dir_ + "/server.pem") << read(foreign + "/server.pem");
  std::ofstream(dir_ + "/server-key.pem") << read(foreign + "/server-key.pem");
  Result<CertificateFiles> again = ensure(dir_, "n");
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->issued_server);
}

}  // namespace
}  // namespace hoody::tls
