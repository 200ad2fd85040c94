// SPDX-License-Identifier: Apache-2.0
// Local CA and leaf certificate generation with OpenSSL 3.
#include "runtime/tls/certificates.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

namespace hoody::tls {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr long kCaLifetimeSeconds = 10L * 365 * 24 * 3600;
constexpr long kServerLifetimeSeconds = 397L * 24 * 3600;
constexpr long kRenewBeforeSeconds = 30L * 24 * 3600;

std::string opensslError() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

Unexpected<Error> cryptoError(std::string_view what) {
  return makeError("crypto-error", fmt::format("{}: {}", what, opensslError()));
}

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError("io-error", fmt::format("cannot read `{}`: {}", path, strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Writes `data` to a temporary file with `mode` and renames it over `path`,
// so a crash never leaves a half-written key.
Result<void> writeFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return makeError("io-error", fmt::format("cannot write `{}`: {}", tmp, strerror(errno)));
  // The mode argument is filtered by the umask; set it explicitly.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t off = 0;
  while (ok && off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else off += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    return makeError("io-error", fmt::format("cannot write `{}`: {}", path, strerror(saved)));
  }
  return {};
}

Result<std::string> pemOfCert(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return cryptoError("encoding a certificate");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> pemOfKey(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return cryptoError("encoding a private key");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

X509Ptr loadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr loadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Result<PkeyPtr> generateKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return cryptoError("generating an EC P-256 key");
  return key;
}

bool addExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// Fills the fields both certificates share: version 3, a random 127-bit
// serial, validity from one hour ago (clock skew) for `lifetime` seconds.
bool setBasics(X509* cert, EVP_PKEY* key, const std::string& common_name, long lifetime) {
  if (X509_set_version(cert, 2) != 1) return false;
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return false;
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  bool ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  if (!ok) return false;
  if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr) return false;
  if (X509_gmtime_adj(X509_getm_notAfter(cert), lifetime) == nullptr) return false;
  X509_NAME* name = X509_get_subject_name(cert);
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("hoody-proxy"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return false;
  }
  return X509_set_pubkey(cert, key) == 1;
}

// The nameConstraints value of the CA in OpenSSL's configuration syntax:
// DNS names under `domains` only, and no IP address of either family.
// OpenSSL 3.0 matches a DNS constraint without a leading dot to the name
// itself and every name under it. IP addresses are excluded explicitly
// because a constraint on DNS names leaves other name types unconstrained.
std::string nameConstraintsValue(const std::vector<std::string>& domains) {
  std::string value = "critical";
  for (const std::string& domain : domains) value += ",permitted;DNS:" + domain;
  value += ",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::";
  return value;
}

struct ExtensionFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, ExtensionFree>;

// True when `cert` has a critical nameConstraints extension with exactly
// the subtrees the CA for `domains` gets.
bool hasNameConstraints(X509* cert, const std::vector<std::string>& domains) {
  int index = X509_get_ext_by_NID(cert, NID_name_constraints, -1);
  if (index < 0) return false;
  X509_EXTENSION* present = X509_get_ext(cert, index);
  std::string value = nameConstraintsValue(domains);
  ExtensionPtr expected(
      X509V3_EXT_conf_nid(nullptr, nullptr, NID_name_constraints, value.c_str()));
  if (!expected || X509_EXTENSION_get_critical(present) != 1) {
    ERR_clear_error();
    return false;
  }
  return ASN1_OCTET_STRING_cmp(X509_EXTENSION_get_data(present),
                               X509_EXTENSION_get_data(expected.get())) == 0;
}

Result<X509Ptr> makeCaCert(EVP_PKEY* key, const std::vector<std::string>& domains) {
  X509Ptr cert(X509_new());
  if (!cert) return cryptoError("creating the CA certificate");
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  std::string cn = fmt::format("hoody-proxy local CA ({})", host);
  if (!setBasics(cert.get(), key, cn, kCaLifetimeSeconds) ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      !addExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !addExtension(cert.get(), cert.get(), NID_ext_key_usage, "serverAuth") ||
      !addExtension(cert.get(), cert.get(), NID_name_constraints, nameConstraintsValue(domains)) ||
      !addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    return cryptoError("creating the CA certificate");
  }
  return cert;
}

Result<X509Ptr> makeServerCert(EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key,
                               const std::vector<std::string>& names) {
  X509Ptr cert(X509_new());
  if (!cert) return cryptoError("creating the server certificate");
  std::string san;
  for (const std::string& name : names) {
    if (!san.empty()) san += ",";
    san += "DNS:" + name;
  }
  if (!setBasics(cert.get(), key, names.empty() ? "hoody-proxy" : names.front(),
                 kServerLifetimeSeconds) ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1 ||
      !addExtension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(cert.get(), ca, NID_key_usage, "critical,digitalSignature") ||
      !addExtension(cert.get(), ca, NID_ext_key_usage, "serverAuth") ||
      !addExtension(cert.get(), ca, NID_subject_key_identifier, "hash") ||
      !addExtension(cert.get(), ca, NID_authority_key_identifier, "keyid:always") ||
      (!san.empty() && !addExtension(cert.get(), ca, NID_subject_alt_name, san)) ||
      X509_sign(cert.get(), ca_key, EVP_sha256()) == 0) {
    return cryptoError("creating the server certificate");
  }
  return cert;
}

std::vector<std::string> dnsNamesOf(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = gn->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  }
  GENERAL_NAMES_free(sans);
  std::sort(names.begin(), names.end());
  return names;
}

// True when `cert` expires within `seconds` from now.
bool expiresWithin(X509* cert, long seconds) {
  time_t limit = time(nullptr) + seconds;
  return X509_cmp_time(X509_get0_notAfter(cert), &limit) <= 0;
}

struct Ca {
  X509Ptr cert;
  PkeyPtr key;
  bool created = false;
  bool replaced = false;
};

Result<Ca> createCa(const std::string& cert_path, const std::string& key_path,
                    const std::vector<std::string>& domains) {
  Result<PkeyPtr> key = generateKey();
  if (!key) return Unexpected<Error>{key.error()};
  Result<X509Ptr> cert = makeCaCert(key->get(), domains);
  if (!cert) return Unexpected<Error>{cert.error()};
  Result<std::string> key_pem = pemOfKey(key->get());
  if (!key_pem) return Unexpected<Error>{key_pem.error()};
  Result<std::string> cert_pem = pemOfCert(cert->get());
  if (!cert_pem) return Unexpected<Error>{cert_pem.error()};
  HOODY_TRY(writeFileAtomic(key_path, *key_pem, 0600));
  HOODY_TRY(writeFileAtomic(cert_path, *cert_pem, 0644));
  Ca ca;
  ca.cert = std::move(*cert);
  ca.key = std::move(*key);
  ca.created = true;
  return ca;
}

Result<Ca> loadOrCreateCa(const std::string& cert_path, const std::string& key_path,
                          const std::vector<std::string>& domains) {
  Ca ca;
  bool have_cert = fileExists(cert_path);
  bool have_key = fileExists(key_path);
  if (have_cert != have_key) {
    return makeError("invalid-certificate",
                     fmt::format("`{}` exists without `{}`; restore it or remove both to create "
                                 "a new CA",
                                 have_cert ? cert_path : key_path, have_cert ? key_path : cert_path));
  }
  if (have_cert) {
    Result<std::string> cert_pem = readFile(cert_path);
    if (!cert_pem) return Unexpected<Error>{cert_pem.error()};
    Result<std::string> key_pem = readFile(key_path);
    if (!key_pem) return Unexpected<Error>{key_pem.error()};
    ca.cert = loadCert(*cert_pem);
    ca.key = loadKey(*key_pem);
    if (!ca.cert || !ca.key || X509_check_private_key(ca.cert.get(), ca.key.get()) != 1) {
      ERR_clear_error();
      return makeError("invalid-certificate",
                       fmt::format("`{}` and `{}` are not a valid certificate and matching key; "
                                   "remove both to create a new CA",
                                   cert_path, key_path));
    }
    if (expiresWithin(ca.cert.get(), 0)) {
      return makeError("invalid-certificate",
                       fmt::format("the CA certificate `{}` has expired; remove it and `{}` to "
                                   "create a new CA",
                                   cert_path, key_path));
    }
    if (hasNameConstraints(ca.cert.get(), domains)) return ca;
    // A CA without these constraints can vouch for names the proxy does
    // not serve, so it is replaced rather than used for another leaf.
    Result<Ca> replacement = createCa(cert_path, key_path, domains);
    if (replacement) replacement->replaced = true;
    return replacement;
  }
  return createCa(cert_path, key_path, domains);
}

// True when `name` is `domain` or a name under it.
bool withinDomain(std::string_view name, std::string_view domain) {
  if (name.size() == domain.size()) return name == domain;
  return name.size() > domain.size() && name.substr(name.size() - domain.size()) == domain &&
         name[name.size() - domain.size() - 1] == '.';
}

// True when the leaf files exist, match, were signed by `ca`, carry exactly
// `names` and stay valid for more than 30 days.
bool serverCertUsable(const std::string& cert_path, const std::string& key_path, const Ca& ca,
                      std::vector<std::string> names) {
  if (!fileExists(cert_path) || !fileExists(key_path)) return false;
  Result<std::string> cert_pem = readFile(cert_path);
  Result<std::string> key_pem = readFile(key_path);
  if (!cert_pem || !key_pem) return false;
  X509Ptr cert = loadCert(*cert_pem);
  PkeyPtr key = loadKey(*key_pem);
  bool ok = cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
            X509_verify(cert.get(), X509_get0_pubkey(ca.cert.get())) == 1 &&
            !expiresWithin(cert.get(), kRenewBeforeSeconds);
  if (ok) {
    std::sort(names.begin(), names.end());
    ok = dnsNamesOf(cert.get()) == names;
  }
  ERR_clear_error();
  return ok;
}

}  // namespace

std::vector<std::string> containerCertificateNames(std::string_view node, std::string_view domain) {
  std::string base = fmt::format("{}.containers.{}", node, domain);
  return {"*." + base, base};
}

std::vector<std::string> containerCaDomains(std::string_view node, std::string_view domain) {
  return {fmt::format("{}.containers.{}", node, domain)};
}

Result<CertificateFiles> ensureCertificates(const std::string& state_dir,
                                            const std::vector<std::string>& dns_names,
                                            const std::vector<std::string>& ca_domains) {
  std::vector<std::string> domains = ca_domains;
  std::sort(domains.begin(), domains.end());
  domains.erase(std::unique(domains.begin(), domains.end()), domains.end());
  if (domains.empty()) {
    return makeError("invalid-argument", "the local CA needs at least one domain");
  }
  for (const std::string& name : dns_names) {
    bool covered = std::any_of(domains.begin(), domains.end(),
                               [&](const std::string& d) { return withinDomain(name, d); });
    if (!covered) {
      return makeError("invalid-argument",
                       fmt::format("the certificate name `{}` is outside the CA domains {}", name,
                                   fmt::join(domains, ", ")));
    }
  }
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return makeError("io-error",
                     fmt::format("cannot create the state directory `{}`: {}", state_dir,
                                 strerror(errno)));
  }
  CertificateFiles files;
  files.ca_cert = state_dir + "/ca.pem";
  std::string ca_key = state_dir + "/ca-key.pem";
  files.server_cert = state_dir + "/server.pem";
  files.server_key = state_dir + "/server-key.pem";

  Result<Ca> ca = loadOrCreateCa(files.ca_cert, ca_key, domains);
  if (!ca) return Unexpected<Error>{ca.error()};
  files.created_ca = ca->created;
  files.replaced_ca = ca->replaced;
  if (!ca->created && serverCertUsable(files.server_cert, files.server_key, *ca, dns_names)) {
    return files;
  }

  Result<PkeyPtr> key = generateKey();
  if (!key) return Unexpected<Error>{key.error()};
  Result<X509Ptr> cert = makeServerCert(key->get(), ca->cert.get(), ca->key.get(), dns_names);
  if (!cert) return Unexpected<Error>{cert.error()};
  Result<std::string> key_pem = pemOfKey(key->get());
  if (!key_pem) return Unexpected<Error>{key_pem.error()};
  Result<std::string> cert_pem = pemOfCert(cert->get());
  if (!cert_pem) return Unexpected<Error>{cert_pem.error()};
  HOODY_TRY(writeFileAtomic(files.server_key, *key_pem, 0600));
  HOODY_TRY(writeFileAtomic(files.server_cert, *cert_pem, 0644));
  files.issued_server = true;
  return files;
}

}  // namespace hoody::tls
