// SPDX-License-Identifier: Apache-2.0
// Failure cases reported against similar systems, replayed on the host
// layers: the policy goes through the real front end and back ends, and the
// filters and tables they emit are run as the kernel would run them.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <unistd.h>

#include "compiler/backend/nft/nft_backend.h"
#include "compiler/backend/seccomp/bpf_eval.h"
#include "compiler/backend/seccomp/seccomp_backend.h"
#include "runtime/host/nftables.h"
#include "tests/unit/compiler/frontend_fixture.h"
#include "tests/unit/host/support/netns.h"

namespace hoody::testing {
namespace {

uint32_t actionOf(uint32_t ret) { return ret & SECCOMP_RET_ACTION_FULL; }

// Runs the filter of the only container with its own seccomp profile.
class SeccompCaseTest : public ::testing::Test {
 protected:
  void build(const std::string& seccomp_block, const seccomp::FilterOptions& options = {}) {
    auto out = check(inProject(container("a", kContainerA, seccomp_block)));
    ASSERT_TRUE(out.ok) << rendered(out);
    ASSERT_EQ(out.host.seccomp_profiles.size(), 2u);
    auto filter = seccomp::buildFilter(out.host.seccomp_profiles[1], options);
    ASSERT_TRUE(filter) << filter.error().message;
    bpf_ = filter->bpf;
  }
  uint32_t run(uint32_t arch, int32_t nr) {
    seccomp::SyscallInput input;
    input.arch = arch;
    input.nr = nr;
    auto ret = seccomp::evaluateBpf(bpf_, input);
    EXPECT_TRUE(ret) << ret.error().message;
    return ret ? *ret : 0;
  }

  std::string bpf_;
};

// C32: x32 calls carry x86_64's architecture and bit 30 in the number. A
// deny list that ignores the bit lets `syscall(0x40000000 | nr)` through.
TEST_F(SeccompCaseTest, C32X32VariantsOfDeniedCallsAreStopped) {
  build("seccomp default { deny ptrace, process_vm_writev, mount, kexec_load }");
  const int32_t x32 = static_cast<int32_t>(seccomp::kX32SyscallBit);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, 101)), SECCOMP_RET_ERRNO) << "native ptrace";
  for (int32_t nr : {521, 165, 101}) {  // x32 ptrace, mount, and ptrace's native number.
    EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, x32 | nr)), SECCOMP_RET_KILL_PROCESS)
        << "x32 call " << nr;
  }
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, 39)), SECCOMP_RET_ALLOW) << "getpid";
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, x32 | 39)), SECCOMP_RET_KILL_PROCESS)
      << "even allowed calls are stopped through x32";
}

// C34: equal numbers on two architectures (syslog is 103 on x86_64 and on
// i386) must not make the rule land on one of them only.
TEST_F(SeccompCaseTest, C34SyslogIsDeniedOnEveryArchitecture) {
  const std::string block = "seccomp default { deny syslog, kexec_load }";
  build(block);
  const int32_t x32 = static_cast<int32_t>(seccomp::kX32SyscallBit);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, 103)), SECCOMP_RET_ERRNO);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, x32 | 103)), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchI386, 103)), SECCOMP_RET_KILL_PROCESS)
      << "i386 is blocked as a whole by default";

  // Filtering i386 instead resolves each name in the i386 table: syslog is
  // 103 there too, kexec_load is 283 (246 on x86_64).
  seccomp::FilterOptions filter_i386;
  filter_i386.filter_i386 = true;
  build(block, filter_i386);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchI386, 103)), SECCOMP_RET_ERRNO);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchI386, 283)), SECCOMP_RET_ERRNO);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, 246)), SECCOMP_RET_ERRNO);
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchI386, 20)), SECCOMP_RET_ALLOW) << "i386 getpid";
  EXPECT_EQ(actionOf(run(seccomp::kAuditArchX86_64, 103 | x32)), SECCOMP_RET_KILL_PROCESS);
}

// C07: a mapped IPv6 form must not stand for IPv4 peers in a firewall rule,
// and mapped sources cannot reach a container through the ip6 path.
TEST(HostFieldCaseTest, C07MappedAddressesInFirewallRules) {
  auto rejected = check(inProject(container(
      "a", kContainerA, "firewall { ingress allow tcp from ::ffff:192.0.2.0/120 port 22 }")));
  EXPECT_FALSE(rejected.ok);
  EXPECT_GE(countCode(rejected, "invalid-cidr") + countCode(rejected, "invalid-address"), 1u)
      << rendered(rejected);

  auto out = check(inProject(container(
      "a", kContainerA,
      "firewall { ingress allow tcp from 192.0.2.0/24 port 22 }\nnetwork { ipv4 public }")));
  ASSERT_TRUE(out.ok) << rendered(out);
  out.host.containers[0].interface = "veth-a";
  nft::Ruleset ruleset = nft::emitRuleset(out.host);
  size_t mapped_drop = ruleset.text.find("ip6 saddr ::ffff:0.0.0.0/96 drop");
  size_t allow = ruleset.text.find("ip saddr 192.0.2.0/24 tcp dport 22 accept");
  ASSERT_NE(mapped_drop, std::string::npos) << ruleset.text;
  ASSERT_NE(allow, std::string::npos) << ruleset.text;
}

// C38: overlapping and duplicate entries are merged before they reach
// nftables, so the transaction loads, and a later revision loads too.
TEST(HostFieldCaseTest, C38OverlappingEntriesLoadAndReload) {
  if (auto why = netnsUnavailable()) GTEST_SKIP() << *why;
  auto policy = [](const std::string& extra) {
    return inProject(
        "permissions { group office { ip 192.0.2.0/24, 192.0.2.128/25, 192.0.2.7, 192.0.2.0/24, "
        "2001:db8::/32, 2001:db8:1::/48" + extra + "; allow http } }\n" +
        container("a", kContainerA,
                  "firewall { ingress allow tcp from 192.0.2.0/24, 192.0.2.128/25, 192.0.2.7, "
                  "192.0.2.0/24, 2001:db8::/32, 2001:db8:1::/48" + extra + " port 22 }\n"
                  "network { ipv4 public }"));
  };
  NetNamespace ns;
  ASSERT_TRUE(ns.created()) << ns.error();
  for (const std::string& extra : {std::string(), std::string(", 192.0.2.64/26")}) {
    auto out = check(policy(extra));
    ASSERT_TRUE(out.ok) << rendered(out);
    EXPECT_GE(countCode(out, "overlapping-cidr"), 4u) << rendered(out);
    const ir::FirewallRule& rule = out.host.containers[0].firewall.rules.at(0);
    ASSERT_EQ(rule.peers.v4.size(), 1u);
    ASSERT_EQ(rule.peers.v6.size(), 1u);
    out.host.containers[0].interface = "veth-a";
    nft::Ruleset ruleset = nft::emitRuleset(out.host);
    NamespaceEntry inside(ns);
    ASSERT_TRUE(inside.entered());
    auto loaded = host::replaceTable(ruleset.text);
    ASSERT_TRUE(loaded) << loaded.error().message;
  }
  CommandResult listing = ns.exec({"nft", "list", "table", "inet", "hoody"});
  ASSERT_TRUE(listing.ok()) << listing.output;
  EXPECT_NE(listing.output.find("ip saddr 192.0.2.0/24 tcp dport 22 accept"), std::string::npos)
      << listing.output;
  EXPECT_NE(listing.output.find("ip6 saddr 2001:db8::/32 tcp dport 22 accept"), std::string::npos)
      << listing.output;
}

}  // namespace
}  // namespace hoody::testing
