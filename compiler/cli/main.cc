// SPDX-License-Identifier: Apache-2.0
// hoodyc: the Hoody policy compiler's command line.
#include <unistd.h>

#include <llvm/Config/llvm-config.h>
#include <llvm/TargetParser/Host.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "compiler/cli/commands.h"

using namespace hoody::cli;

namespace {

void addPolicyOptions(CLI::App* cmd, PolicyInput& input, bool inventory_required) {
  cmd->add_option("policies", input.files, "Policy files (one or more realms each)")
      ->required()
      ->check(CLI::ExistingFile);
  auto* inv = cmd->add_option("--inventory", input.inventory,
                              "Inventory JSON: node, domain, upstream address and service ports "
                              "of each container");
  if (inventory_required) inv->required();
  inv->check(CLI::ExistingFile);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hoodyc: compile and check Hoody access policies"};
  app.require_subcommand(1);
  // Names the LLVM build hoodyc links, which native code generation will use.
  app.set_version_flag("--version", [] {
    return std::string("hoodyc 0.1.0 (LLVM ") + LLVM_VERSION_STRING + ", host " +
           llvm::sys::getProcessTriple() + ")";
  });

  PolicyInput input;
  input.color = ::isatty(STDERR_FILENO) != 0;

  auto* check = app.add_subcommand("check", "Parse and check policies; print diagnostics");
  addPolicyOptions(check, input, false);
  check->add_flag("--json", input.json, "Print diagnostics as JSON on stdout");

  std::string out_dir;
  auto* compile = app.add_subcommand("compile", "Check policies and write a bundle");
  addPolicyOptions(compile, input, true);
  compile->add_option("-o,--output", out_dir, "Bundle directory to write")->required();
  bool timings = false;
  compile->add_flag("--timings", timings,
                    "Print the wall time (ms) and peak resident memory (MiB) of each compile "
                    "stage to stderr");

  auto* test = app.add_subcommand("test", "Run the policies' `test` blocks");
  addPolicyOptions(test, input, false);
  test->add_flag("--json", input.json, "Print results as JSON");

  ExplainRequest req;
  long long now = 0;
  auto* explain = app.add_subcommand(
      "explain", "Decide one request and explain why; exits 1 when the request is denied");
  addPolicyOptions(explain, input, false);
  explain->add_option("--host", req.host, "Host name of the request")->required();
  explain->add_option("--client", req.client, "Client IP address")->required();
  explain->add_option("--method", req.method, "HTTP method (default GET)");
  explain->add_option("--path", req.path, "Request path (default /)");
  auto* basic = explain->add_option("--basic", req.basic, "HTTP Basic credentials USER:PASSWORD");
  auto* bearer = explain->add_option("--bearer", req.bearer, "Bearer token");
  auto* jwt = explain->add_option("--jwt", req.jwt, "JWT sent as a Bearer token");
  basic->excludes(bearer)->excludes(jwt);
  bearer->excludes(jwt);
  explain->add_option("--sni", req.sni, "TLS server name, when it differs from the host");
  auto* now_opt = explain->add_option("--now", now, "Clock for JWT checks, Unix seconds");
  explain->add_flag("--json", input.json, "Print one JSON object");
  std::string engine = "interp";
  explain
      ->add_option("--engine", engine,
                   "Decision engine: interp (reference interpreter, default) or jit "
                   "(LLVM native code); both decide the same")
      ->check(CLI::IsMember({"interp", "jit"}));

  ApplyRequest apply_req;
  int reload_pid = 0;
  auto* apply = app.add_subcommand(
      "apply", "Install the firewall, network exits and seccomp files of a policy or bundle");
  apply->add_option("policies", input.files, "Policy files (with --inventory)")
      ->check(CLI::ExistingFile);
  auto* apply_inventory =
      apply->add_option("--inventory", input.inventory, "Inventory JSON (with policy files)")
          ->check(CLI::ExistingFile);
  auto* apply_bundle = apply->add_option("--bundle", apply_req.bundle,
                                         "Apply a bundle written by `hoodyc compile`")
                           ->check(CLI::ExistingDirectory);
  apply_bundle->excludes(apply_inventory);
  apply->add_option("-o,--output", apply_req.output,
                    "Also write the compiled bundle here (with policy files)")
      ->excludes(apply_bundle);
  apply->add_flag("--dry-run", apply_req.dry_run,
                  "Check everything with the kernel and print what would change; change nothing");
  auto* reload_opt = apply->add_option("--reload-pid", reload_pid,
                                       "Send SIGHUP to this hoody-proxy after applying");
  apply->add_option("--wireguard-key-dir", apply_req.wireguard_key_dir,
                    "Where WireGuard private keys are kept (default /etc/hoody/wireguard)");

  std::string node, domain;
  auto* urls = app.add_subcommand("urls", "Print each container's service URLs");
  addPolicyOptions(urls, input, false);
  urls->add_option("--node", node, "Node name when no inventory is given (or HOODY_NODE)");
  urls->add_option("--domain", domain, "Domain when no inventory is given (or HOODY_DOMAIN)");
  urls->add_flag("--json", input.json, "Print a JSON array");

  int id_count = 1;
  auto* new_id = app.add_subcommand("new-id", "Draw container or project IDs from the OS CSPRNG");
  new_id->add_option("-n,--count", id_count, "How many IDs to print")->check(CLI::Range(1, 10000));

  bool password_stdin = false;
  auto* hash_password = app.add_subcommand(
      "hash-password", "Hash a password for a `password` group (argon2id)");
  hash_password->add_flag("--stdin", password_stdin,
                          "Read the password from the first line of stdin without a prompt");

  bool generate = false;
  auto* hash_token = app.add_subcommand(
      "hash-token", "Print the sha256 digest of a bearer token read from stdin");
  hash_token->add_flag("--generate", generate, "Generate a random token and print it too");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (check->parsed()) return runCheck(input);
  if (compile->parsed()) return runCompile(input, out_dir, timings);
  if (test->parsed()) return runTest(input);
  if (explain->parsed()) {
    if (now_opt->count() > 0) req.now = now;
    req.engine = engine == "jit" ? Engine::Jit : Engine::Interpreter;
    return runExplain(input, req);
  }
  if (apply->parsed()) {
    if (reload_opt->count() > 0) apply_req.reload_pid = reload_pid;
    bool from_policy = !input.files.empty();
    if (from_policy == apply_req.bundle.has_value() || (from_policy && !input.inventory)) {
      std::cerr << "hoodyc apply: give policy files with --inventory, or --bundle DIR\n";
      return kExitUsage;
    }
    return runApply(input, apply_req);
  }
  if (urls->parsed()) return runUrls(input, node, domain);
  if (new_id->parsed()) return runNewId(id_count);
  if (hash_password->parsed()) return runHashPassword(password_stdin);
  if (hash_token->parsed()) return runHashToken(generate);
  return kExitUsage;
}
