// SPDX-License-Identifier: Apache-2.0
// End-to-end tests of `hoodyc apply`, run as an operator would run it, inside
// network namespaces the tests create. They cover the table and seccomp files
// it installs, the dry run, applying a compiled bundle, and the rollback
// after a failed step.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "tests/e2e/e2e_support.h"

namespace hoody::e2e {
namespace {

const std::string kHoodyc = std::string(HOODY_BUILD_DIR) + "/hoodyc";
constexpr const char* kProjectId = "6a1f3c9e0b7d4e2f8a5c1d03";
constexpr const char* kIdA = "0f3e2d1c4b5a69788796a5b4";
constexpr const char* kIdB = "9c8b7a6f5e4d3c2b1a0f9e8d";

// A network namespace owned by one test, deleted when the test ends.
class Netns {
 public:
  Netns() {
    static std::atomic<int> counter{0};
    name_ = "hoody-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    ok_ = runCommand({"ip", "netns", "add", name_}, 10).exit_code == 0;
  }
  ~Netns() {
    if (ok_) runCommand({"ip", "netns", "del", name_}, 10);
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  bool ok() const { return ok_; }
  /// Runs `argv` inside the namespace.
  CommandResult run(std::vector<std::string> argv, double timeout_s = 60) const {
    argv.insert(argv.begin(), {"ip", "netns", "exec", name_});
    return runCommand(argv, timeout_s);
  }
  CommandResult hoodyc(std::vector<std::string> args) const {
    args.insert(args.begin(), kHoodyc);
    return run(args);
  }
  /// `nft list table inet hoody`; exit code 1 when there is no table.
  CommandResult table() const { return run({"nft", "list", "table", "inet", "hoody"}, 20); }

 private:
  std::string name_;
  bool ok_ = false;
};

std::string policyText(const std::string& extra_rule) {
  return std::string("realm r {\n  project p id ") + kProjectId + " {\n" +
         "    container a id " + kIdA + " {\n" +
         "      firewall {\n        default deny\n"
         "        ingress allow tcp from 203.0.113.0/24 port 443, 8000-8100\n" +
         extra_rule +
         "      }\n"
         "      network { ipv4 nat; exit socks5 198.51.100.10:1080; dns 198.51.100.53 }\n"
         "      seccomp default { deny ptrace; kill bpf }\n"
         "    }\n"
         "    container b id " + kIdB + "\n"
         "  }\n}\n";
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "apply needs root for network namespaces";
    if (!haveProgram("ip") || !haveProgram("nft")) GTEST_SKIP() << "ip or nft missing";
    dir_ = makeTempDir("hoodyc-apply");
    writeFileText(dir_ + "/p.hoody", policyText(""));
    std::filesystem::create_directories(dir_ + "/lxc/a");
    std::filesystem::create_directories(dir_ + "/lxc/b");
    writeInventory();
  }
  void TearDown() override {
    if (!dir_.empty()) removeTree(dir_);
  }

  void writeInventory() {
    writeFileText(dir_ + "/inventory.json",
                  std::string("{ \"node\": \"n1\", \"domain\": \"example.net\", \"containers\": {\n") +
                      "\"" + kIdA + "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-a\", "
                      "\"addresses\": [\"192.0.2.10\"], \"seccomp_file\": \"" + seccompA() + "\" },\n" +
                      "\"" + kIdB + "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-b\", "
                      "\"seccomp_file\": \"" + seccompB() + "\" } } }\n");
  }
  std::string seccompA() const { return dir_ + "/lxc/a/seccomp"; }
  std::string seccompB() const { return dir_ + "/lxc/b/seccomp"; }
  std::vector<std::string> policyArgs() const {
    return {dir_ + "/p.hoody", "--inventory", dir_ + "/inventory.json"};
  }
  CommandResult apply(const Netns& ns, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"apply"};
    for (const std::string& a : policyArgs()) args.push_back(a);
    for (const std::string& a : extra) args.push_back(a);
    return ns.hoodyc(args);
  }

  std::string dir_;
};

TEST_F(ApplyTest, InstallsTableAndSeccompFiles) {
  Netns ns;
  ASSERT_TRUE(ns.ok());
  CommandResult r = apply(ns, {"-o", dir_ + "/bundle"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("applied"), std::string::npos) << r.out;

  CommandResult table = ns.table();
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(std::string("chain in_") + kIdA), std::string::npos) << table.out;
  EXPECT_NE(table.out.find(std::string("chain out_") + kIdB), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("8000-8100"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("198.51.100.10"), std::string::npos) << table.out;

  // Container a has its own profile; b runs the default one.
  std::string own = readFileText(dir_ + "/bundle/seccomp-c-" + std::string(kIdA) + ".lxc");
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(readFileText(seccompA()), own);
  EXPECT_EQ(readFileText(seccompB()), readFileText(dir_ + "/bundle/seccomp-default.lxc"));
  EXPECT_NE(own.find("ptrace"), std::string::npos) << own;
}

TEST_F(ApplyTest, DryRunChangesNothing) {
  Netns ns;
  ASSERT_TRUE(ns.ok());
  CommandResult r = apply(ns, {"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("not applied"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("r/p/a"), std::string::npos) << r.out;
  EXPECT_NE(ns.table().exit_code, 0) << "a dry run must not load the table";
  EXPECT_FALSE(std::filesystem::exists(seccompA()));
  EXPECT_FALSE(std::filesystem::exists(seccompB()));
}

TEST_F(ApplyTest, BundleApplyThenNothingChanges) {
  CommandResult compiled = runCommand({kHoodyc, "compile", dir_ + "/p.hoody", "--inventory",
                                       dir_ + "/inventory.json", "-o", dir_ + "/bundle"},
                                      60);
  ASSERT_EQ(compiled.exit_code, 0) << compiled.err;
  Netns ns;
  ASSERT_TRUE(ns.ok());
  CommandResult first = ns.hoodyc({"apply", "--bundle", dir_ + "/bundle"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_EQ(ns.table().exit_code, 0);

  CommandResult again = ns.hoodyc({"apply", "--bundle", dir_ + "/bundle", "--dry-run"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing would change"), std::string::npos) << again.out;
}

TEST_F(ApplyTest, FailedStepRollsBackTableAndFiles) {
  Netns ns;
  ASSERT_TRUE(ns.ok());
  ASSERT_EQ(apply(ns).exit_code, 0);
  std::string table_before = ns.table().out;
  std::string b_before = readFileText(seccompB());
  ASSERT_FALSE(table_before.empty());

  // The next policy opens one more port, and container a's seccomp file is
  // now a directory: the table is replaced, then installing fails.
  writeFileText(dir_ + "/p.hoody", policyText("        ingress allow udp port 9999\n"));
  std::filesystem::remove(seccompA());
  std::filesystem::create_directories(seccompA() + "/blocker");
  writeFileText(seccompB(), "changed by hand\n");

  CommandResult r = apply(ns);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rolled back"), std::string::npos) << r.err;
  EXPECT_EQ(ns.table().out, table_before) << "the previous table must be loaded again";
  EXPECT_EQ(readFileText(seccompB()), "changed by hand\n") << "files get their old content back";
  EXPECT_TRUE(std::filesystem::is_directory(seccompA()));
}

TEST_F(ApplyTest, MissingSeccompDirectoryStopsBeforeAnyChange) {
  writeFileText(dir_ + "/inventory.json",
                std::string("{ \"node\": \"n1\", \"domain\": \"example.net\", \"containers\": {\n") +
                    "\"" + kIdA + "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-a\", "
                    "\"seccomp_file\": \"" + dir_ + "/missing/seccomp\" },\n" +
                    "\"" + kIdB + "\": { \"upstream\": \"127.0.0.1\", \"interface\": \"veth-b\" } } }\n");
  Netns ns;
  ASSERT_TRUE(ns.ok());
  CommandResult r = apply(ns);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(dir_ + "/missing"), std::string::npos) << r.err;
  EXPECT_NE(ns.table().exit_code, 0) << "no table may be loaded";
}

TEST_F(ApplyTest, WireguardExitNeedsKernelSupport) {
  std::string key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
  writeFileText(dir_ + "/p.hoody",
                std::string("realm r {\n  project p id ") + kProjectId + " {\n" +
                    "    container a id " + kIdA + " {\n" +
                    "      network { exit wireguard { endpoint 198.51.100.20:51820; public_key \"" +
                    key + "\"; address 10.64.0.2/32 } }\n    }\n" +
                    "    container b id " + kIdB + "\n  }\n}\n");
  Netns ns;
  ASSERT_TRUE(ns.ok());
  CommandResult probe = ns.run({"ip", "link", "add", "hoodyprobe0", "type", "wireguard"}, 10);
  bool supported = probe.exit_code == 0;
  if (supported) ns.run({"ip", "link", "del", "hoodyprobe0"}, 10);

  CommandResult r = apply(ns, {"--wireguard-key-dir", dir_ + "/keys"});
  if (supported) {
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string wg = std::string("hwg") + std::string(kIdA).substr(0, 12);
    EXPECT_EQ(ns.run({"ip", "link", "show", wg}, 10).exit_code, 0);
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("WireGuard"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
    EXPECT_NE(ns.table().exit_code, 0) << "no table may be loaded";
  }
}

}  // namespace
}  // namespace hoody::e2e
