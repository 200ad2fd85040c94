// SPDX-License-Identifier: Apache-2.0
// hoodyc new-id, hash-password and hash-token.
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>

#include "compiler/cli/commands.h"
#include "runtime/auth/auth.h"

namespace hoody::cli {
namespace {

std::string toHex(const uint8_t* data, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[data[i] >> 4]);
    s.push_back(kHex[data[i] & 15]);
  }
  return s;
}

bool randomBytes(uint8_t* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(out + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

// Reads one line from stdin; with a terminal, prompts and turns echo off.
bool readSecret(const char* prompt, bool prompt_allowed, std::string& out) {
  bool tty = prompt_allowed && ::isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    std::cerr << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  bool ok = static_cast<bool>(std::getline(std::cin, out));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return ok;
}

}  // namespace

int runNewId(int count) {
  for (int i = 0; i < count; ++i) {
    uint8_t id[12];
    if (!randomBytes(id, sizeof id)) {
      std::cerr << "hoodyc: error: cannot read the OS random generator\n";
      return kExitUsage;
    }
    std::cout << toHex(id, sizeof id) << "\n";
  }
  return kExitOk;
}

int runHashPassword(bool from_stdin) {
  std::string password;
  if (!readSecret("password: ", !from_stdin, password) || password.empty()) {
    std::cerr << "hoodyc: error: no password given on stdin\n";
    return kExitUsage;
  }
  auto hash = auth::hashPassword(password);
  if (!hash) {
    std::cerr << "hoodyc: error: " << hash.error().message << "\n";
    return kExitUsage;
  }
  std::cout << *hash << "\n";
  return kExitOk;
}

int runHashToken(bool generate) {
  std::string token;
  if (generate) {
    uint8_t raw[32];
    if (!randomBytes(raw, sizeof raw)) {
      std::cerr << "hoodyc: error: cannot read the OS random generator\n";
      return kExitUsage;
    }
    token = toHex(raw, sizeof raw);
    std::cout << "token: " << token << "\n";
  } else if (!readSecret("token: ", true, token) || token.empty()) {
    std::cerr << "hoodyc: error: no token given on stdin\n";
    return kExitUsage;
  }
  auth::Digest d = auth::sha256(token);
  std::string digest = "sha256:\"" + toHex(d.data(), d.size()) + "\"";
  std::cout << (generate ? "digest: " : "") << digest << "\n";
  return kExitOk;
}

}  // namespace hoody::cli
