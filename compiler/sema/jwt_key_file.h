// SPDX-License-Identifier: Apache-2.0
// JWT key files: where a policy may read them from, which forms they may
// take, and which keys they hold.
//
// Key text is compiled into every bundle, so the checker reads only files in
// the policy file's directory or below it, and only in a key format: PEM
// blocks or a JWK (Set) in JSON. The verifier would also take any other
// bytes as a raw HMAC secret, which would let `key file` embed an arbitrary
// file, so the checker rejects that form.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hoody::sema {

/// The text of a key file whose path passed the confinement check.
struct KeyFileText {
  std::string text;
};

/// A reason a key file cannot be used, as the parts of a diagnostic.
struct KeyFileProblem {
  std::string code;  ///< `key-file-outside-policy` or `invalid-jwt-key`.
  std::string message;
  std::string help;
};

/// Reads the key file that `policy_file` names as `written`. The path is
/// resolved against the policy file's directory, and its real path (with
/// symbolic links and `..` resolved) must lie in that directory or below it.
std::variant<KeyFileText, KeyFileProblem> readKeyFile(std::string_view policy_file,
                                                      std::string_view written);

/// Checks the form of the text of key file `written`: PEM blocks with
/// nothing but whitespace around them, or JSON (a JWK or JWK Set). The
/// blocks' labels and the JSON are validated by auth::checkJwtKey. Returns
/// the problem, or nullopt.
std::optional<KeyFileProblem> keyTextFormProblem(std::string_view written, std::string_view text);

/// Returns an identity for each verification key in key text that
/// auth::checkJwtKey accepted. The same key gives the same identity in every
/// form (PEM public key, certificate, JWK), so two files can be compared for
/// shared keys. HMAC secrets are identified by their SHA-256 digest.
std::vector<std::string> keyIdentities(std::string_view text);

}  // namespace hoody::sema
