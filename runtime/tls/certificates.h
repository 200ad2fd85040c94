// SPDX-License-Identifier: Apache-2.0
// The proxy's own certificate authority and server certificate, created on
// first start so that TLS needs no configuration.
//
// The state directory contains `ca.pem` and `ca-key.pem` (a local CA, EC P-256)
// and `server.pem` and `server-key.pem` (a leaf certificate signed by that CA
// for the container host names). Keys are written with mode 0600. Later
// starts reuse the files; the leaf is issued again when its names differ from
// the requested ones, when it expires within 30 days, or when it was not
// signed by the CA in the directory.
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
  bool created_ca = false;
  bool issued_server = false;  ///< The leaf was (re)issued by this call.
};

/// The DNS names the leaf certificate needs for a node:
/// `*.<node>.containers.<domain>` and `<node>.containers.<domain>`.
std::vector<std::string> containerCertificateNames(std::string_view node, std::string_view domain);

/// Creates or reuses the CA and the leaf for `dns_names` in `state_dir`
/// (created with mode 0700 when missing). Error codes: "io-error" (a file
/// cannot be read or written), "invalid-certificate" (an existing CA file is
/// unreadable, expired or does not match its key), "crypto-error".
Result<CertificateFiles> ensureCertificates(const std::string& state_dir,
                                            const std::vector<std::string>& dns_names);

}  // namespace hoody::tls
