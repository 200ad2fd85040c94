// SPDX-License-Identifier: Apache-2.0
// hoodyc subcommands. Each returns the process exit code: 0 success, 1 policy
// errors (or a denied request where the command reports decisions), 2 usage
// or I/O errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hoody::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitPolicy = 1;
inline constexpr int kExitUsage = 2;

struct PolicyInput {
  std::vector<std::string> files;
  std::optional<std::string> inventory;
  bool json = false;
  bool color = false;
};

int runCheck(const PolicyInput& input);
/// `hoodyc compile`. With `timings`, prints the wall time and peak resident
/// memory of every stage to stderr after the summary line.
int runCompile(const PolicyInput& input, const std::string& out_dir, bool timings);
int runTest(const PolicyInput& input);

/// Decision engine of `hoodyc explain`; both give the same decisions.
enum class Engine {
  Interpreter,  ///< runtime/policy reference interpreter.
  Jit,          ///< Native code from the LLVM ORC JIT (runtime/jit).
};

struct ExplainRequest {
  std::string host;
  std::string client;
  std::string method = "GET";
  std::string path = "/";
  std::optional<std::string> basic;  ///< USER:PASSWORD
  std::optional<std::string> bearer;
  std::optional<std::string> jwt;
  std::optional<std::string> sni;
  std::optional<long long> now;  ///< Unix seconds; the clock when absent.
  Engine engine = Engine::Interpreter;
};
int runExplain(const PolicyInput& input, const ExplainRequest& request);

/// `hoodyc apply`: the policy (with `input`) or a compiled bundle.
struct ApplyRequest {
  std::optional<std::string> bundle;  ///< Apply this bundle instead of compiling.
  std::optional<std::string> output;  ///< Also write the compiled bundle here.
  bool dry_run = false;
  std::optional<int> reload_pid;  ///< hoody-proxy to send SIGHUP after applying.
  std::string wireguard_key_dir = "/etc/hoody/wireguard";  ///< Private keys of the exits.
};
int runApply(const PolicyInput& input, const ApplyRequest& request);

int runUrls(const PolicyInput& input, const std::string& node, const std::string& domain);

int runNewId(int count);
int runHashPassword(bool from_stdin);
int runHashToken(bool generate);

}  // namespace hoody::cli
