// SPDX-License-Identifier: Apache-2.0
// The proxy's own certificate authority and server certificate, created on
// first start so that TLS needs no configuration.
//
// The state directory contains `ca.pem` and `ca-key.pem` (a local CA, EC P-256)
// and `server.pem` and `server-key.pem` (a leaf certificate signed by that CA
// for the container host names). Keys are written with mode 0600.
//
// Clients are asked to trust the CA, so the CA can vouch only for the
// proxy's own names. It carries a critical nameConstraints extension that
// permits DNS names under the given domains and excludes every IP address,
// and an extendedKeyUsage of serverAuth only. Later starts reuse the files. The CA
// is replaced (and the leaf with it) when its name constraints differ from
// the ones the current domains need. The leaf is issued again when its
// names differ from the requested ones, when it expires within 30 days, or
// when it was not signed by the CA in the directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/result.h"

namespace hoody::tls {

struct CertificateFiles {
  std::string ca_cert;      ///< The CA certificate clients must trust.
  std::string server_cert;  ///< Leaf certificate.
  std::string server_key;   ///< Leaf private key.
  bool created_ca = false;      ///< A new CA was written by this call.
  bool replaced_ca = false;     ///< An existing CA lacked the name constraints and was replaced.
  bool issued_server = false;  ///< The leaf was (re)issued by this call.
};

/// The DNS names the leaf certificate needs for a node:
/// `*.<node>.containers.<domain>` and `<node>.containers.<domain>`.
std::vector<std::string> containerCertificateNames(std::string_view node, std::string_view domain);

/// The domains the local CA may issue for on a node: `<node>.containers.<domain>`,
/// which covers every name under it.
/// NOTE: alias domains are not added yet; the proxy serves no alias names.
std::vector<std::string> containerCaDomains(std::string_view node, std::string_view domain);

/// Creates or reuses the CA, constrained to `ca_domains`, and the leaf for
/// `dns_names` in `state_dir` (created with mode 0700 when missing). Every
/// name in `dns_names` must lie within `ca_domains`. Error codes: "io-error"
/// (a file cannot be read or written), "invalid-certificate" (an existing CA
/// file is unreadable, expired or does not match its key), "invalid-argument"
/// (no CA domain, or a leaf name outside them), "crypto-error".
Result<CertificateFiles> ensureCertificates(const std::string& state_dir,
                                            const std::vector<std::string>& dns_names,
                                            const std::vector<std::string>& ca_domains);

}  // namespace hoody::tls
