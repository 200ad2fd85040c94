// SPDX-License-Identifier: Apache-2.0
// Tests of the WireGuard host side: keys, key files, the kernel probe, the
// set-device message, and bringUp on kernels with and without WireGuard.
//
// Interfaces are only created inside network namespaces the tests make for a
// thread of their own, so the host's interfaces never change.
#include "runtime/host/wireguard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "runtime/abi/address.h"

namespace hoody::host {
namespace {

namespace fs = std::filesystem;

// RFC 7748, section 6.1: Alice's and Bob's X25519 keys, in base64.
constexpr const char* kAlicePrivate = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
constexpr const char* kAlicePublic = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
constexpr const char* kBobPrivate = "XasIfmJKikt54X+Lg4AO5m87sSkmGLb9HC+LJ/+I4Os=";
constexpr const char* kBobPublic = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";

ir::Exit wireguardExit() {
  ir::Exit exit;
  exit.kind = ir::Exit::Kind::Wireguard;
  exit.wireguard.endpoint = *net::parseAddress("198.51.100.10");
  exit.wireguard.endpoint_port = 51820;
  exit.wireguard.public_key = kBobPublic;
  exit.wireguard.addresses = {"10.64.0.2/32"};
  exit.interface = "hwgtest0";
  exit.origin = "team.hoody:61";
  return exit;
}

std::set<std::string> interfaceNames() {
  std::set<std::string> names;
  if (struct if_nameindex* list = if_nameindex()) {
    for (struct if_nameindex* i = list; i->if_index != 0; ++i) names.insert(i->if_name);
    if_freenameindex(list);
  }
  return names;
}

// Decodes standard base64; returns "" when `text` is not base64.
std::string decodeBase64(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return "";
  }
  out.resize(length);
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs a shell command and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
    pclose(pipe);
  }
  return out;
}

// Runs `body` in a thread with a network namespace of its own. Returns
// false when the namespace cannot be created (no CAP_SYS_ADMIN).
bool inPrivateNetns(const std::function<void()>& body) {
  bool created = false;
  std::thread worker([&] {
    if (unshare(CLONE_NEWNET) != 0) return;
    created = true;
    body();
  });
  worker.join();
  return created;
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "hoody-wg-XXXXXX").string();
    EXPECT_NE(mkdtemp(templ.data()), nullptr);
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TEST(WireguardTest, PublicKeyMatchesRfc7748) {
  auto alice = publicKeyFromPrivate(kAlicePrivate);
  ASSERT_TRUE(alice) << alice.error().str();
  EXPECT_EQ(*alice, kAlicePublic);
  auto bob = publicKeyFromPrivate(kBobPrivate);
  ASSERT_TRUE(bob) << bob.error().str();
  EXPECT_EQ(*bob, kBobPublic);
}

TEST(WireguardTest, RejectsMalformedKeys) {
  for (const char* key : {"", "abc=", "not base64 at all, but 44 characters long!!"}) {
    auto result = publicKeyFromPrivate(key);
    ASSERT_FALSE(result) << key;
    EXPECT_EQ(result.error().code, "invalid-key");
  }
}

TEST(WireguardTest, CreatesKeyFileWithMode0600) {
  TempDir dir;
  std::string path = dir / "keys/wireguard/hwgtest0.key";
  auto pub = ensurePrivateKey(path);
  ASSERT_TRUE(pub) << pub.error().str();

  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(stat((dir / "keys/wireguard").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);

  std::string content = readFile(path);
  ASSERT_EQ(content.size(), 45u) << content;
  EXPECT_EQ(content.back(), '\n');
  std::string private_key = content.substr(0, 44);
  auto derived = publicKeyFromPrivate(private_key);
  ASSERT_TRUE(derived);
  EXPECT_EQ(*derived, *pub);

  // The key is clamped as `wg genkey` clamps it.
  std::string raw = decodeBase64(private_key);
  ASSERT_EQ(raw.size(), 32u);
  EXPECT_EQ(static_cast<uint8_t>(raw[0]) & 7, 0);
  EXPECT_EQ(static_cast<uint8_t>(raw[31]) & 0x80, 0);
  EXPECT_EQ(static_cast<uint8_t>(raw[31]) & 0x40, 0x40);

  auto again = ensurePrivateKey(path);
  ASSERT_TRUE(again) << again.error().str();
  EXPECT_EQ(*again, *pub);
  EXPECT_EQ(readFile(path), content);
  EXPECT_EQ(fs::directory_iterator(dir / "keys/wireguard")->path().filename(), "hwgtest0.key");
}

TEST(WireguardTest, RejectsReadableKeyFile) {
  TempDir dir;
  std::string path = dir / "hwgtest0.key";
  std::ofstream(path) << kAlicePrivate << "\n";
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto pub = ensurePrivateKey(path);
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code, "insecure-key-file");
  EXPECT_NE(pub.error().message.find("chmod 600"), std::string::npos) << pub.error().message;

  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  auto fixed = ensurePrivateKey(path);
  ASSERT_TRUE(fixed) << fixed.error().str();
  EXPECT_EQ(*fixed, kAlicePublic);
}

TEST(WireguardTest, RejectsGarbageKeyFile) {
  TempDir dir;
  std::string path = dir / "hwgtest0.key";
  std::ofstream(path) << "PrivateKey = nothing\n";
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  auto pub = ensurePrivateKey(path);
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.error().code, "invalid-key");
  EXPECT_NE(pub.error().message.find(path), std::string::npos);
}

// The probe either succeeds or reports that the kernel lacks WireGuard.
// Either way the host keeps its interfaces.
TEST(WireguardTest, ProbeMatchesKernel) {
  auto before = interfaceNames();
  auto probe = probeWireguardSupport();
  EXPECT_EQ(interfaceNames(), before);
  if (probe) {
    SUCCEED() << "this kernel supports WireGuard";
    return;
  }
  if (probe.error().code == "permission-denied") GTEST_SKIP() << probe.error().message;
  EXPECT_EQ(probe.error().code, "wireguard-unsupported") << probe.error().str();
  EXPECT_EQ(probe.error().message.rfind("this kernel has no WireGuard support; ", 0), 0u)
      << probe.error().message;
  EXPECT_FALSE(fs::exists("/sys/module/wireguard"));
}

TEST(WireguardTest, BringUpChecksExitFirst) {
  ir::Exit exit = wireguardExit();
  exit.wireguard.public_key = "short=";
  TempDir dir;
  TunnelOptions options;
  options.key_file = dir / "hwgtest0.key";
  auto result = bringUp(exit, options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, "invalid-wireguard-exit");
  EXPECT_FALSE(fs::exists(options.key_file)) << "the key file was created before the check";
}

// On a kernel without WireGuard, bringUp fails before it changes anything;
// with WireGuard, it configures the interface in the private namespace.
TEST(WireguardTest, BringUpMatchesKernelSupport) {
  TempDir dir;
  TunnelOptions options;
  options.key_file = dir / "hwgtest0.key";
  options.route_table = 1000;
  options.sources = {*net::parseAddress("192.0.2.10")};
  bool ran = inPrivateNetns([&] {
    auto probe = probeWireguardSupport();
    auto result = bringUp(wireguardExit(), options);
    if (!probe) {
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().code, probe.error().code);
      EXPECT_EQ(result.error().message, probe.error().message);
      EXPECT_FALSE(fs::exists(options.key_file)) << "bringUp wrote a key before failing";
      EXPECT_EQ(if_nametoindex("hwgtest0"), 0u);
      return;
    }
    ASSERT_TRUE(result) << result.error().str();
    EXPECT_NE(if_nametoindex("hwgtest0"), 0u);
    struct stat st {};
    ASSERT_EQ(stat(options.key_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    auto again = bringUp(wireguardExit(), options);
    EXPECT_TRUE(again) << "bringUp on an existing interface: " << again.error().str();
    auto down = tearDown("hwgtest0", options);
    ASSERT_TRUE(down) << down.error().str();
    EXPECT_EQ(if_nametoindex("hwgtest0"), 0u);
  });
  if (!ran) GTEST_SKIP() << "cannot create a network namespace (needs CAP_SYS_ADMIN)";
}

// The rtnetlink steps of bringUp, run on a veth link because this kernel
// may lack WireGuard; `ip` reads back what they did.
TEST(WireguardTest, AddressesRoutesAndRulesReachKernel) {
  TunnelOptions options;
  options.route_table = 1000;
  options.sources = {*net::parseAddress("192.0.2.10"), *net::parseAddress("2001:db8::10")};
  bool ran = inPrivateNetns([&] {
    ASSERT_EQ(std::system("ip link add hwgveth0 type veth peer name hwgveth1"), 0)
        << "the test needs veth links";
    std::vector<std::string> addresses = {"10.64.0.2/24", "fd00:64::2/128"};
    auto assigned = setTunnelAddresses("hwgveth0", addresses);
    ASSERT_TRUE(assigned) << assigned.error().str();
    std::string link = run("ip -o addr show dev hwgveth0");
    EXPECT_NE(link.find("inet 10.64.0.2/24"), std::string::npos) << link;
    EXPECT_NE(link.find("inet6 fd00:64::2/128"), std::string::npos) << link;
    EXPECT_NE(run("ip -o link show dev hwgveth0").find(",UP"), std::string::npos);

    for (int round = 0; round < 2; ++round) {  // The second round finds everything in place.
      auto routed = routeSources("hwgveth0", options);
      ASSERT_TRUE(routed) << "round " << round << ": " << routed.error().str();
    }
    EXPECT_EQ(run("ip -4 route show table 1000").rfind("default dev hwgveth0 scope link", 0), 0u);
    EXPECT_NE(run("ip -6 route show table 1000").find("default dev hwgveth0"), std::string::npos);
    std::string rules4 = run("ip -4 rule show");
    std::string rules6 = run("ip -6 rule show");
    EXPECT_NE(rules4.find("20000:\tfrom 192.0.2.10 lookup 1000"), std::string::npos) << rules4;
    EXPECT_NE(rules6.find("20000:\tfrom 2001:db8::10 lookup 1000"), std::string::npos) << rules6;
    EXPECT_EQ(rules4.find("lookup 1000"), rules4.rfind("lookup 1000"))
        << "duplicate rule: " << rules4;

    auto down = tearDown("hwgveth0", options);
    ASSERT_TRUE(down) << down.error().str();
    EXPECT_EQ(run("ip -4 rule show").find("lookup 1000"), std::string::npos);
    EXPECT_EQ(run("ip -6 rule show").find("lookup 1000"), std::string::npos);
    EXPECT_EQ(if_nametoindex("hwgveth0"), 0u);
    auto again = tearDown("hwgveth0", options);
    EXPECT_TRUE(again) << "tearing down twice: " << again.error().str();
  });
  if (!ran) GTEST_SKIP() << "cannot create a network namespace (needs CAP_SYS_ADMIN)";
}

TEST(WireguardTest, RejectsBadTunnelAddress) {
  std::vector<std::string> addresses = {"10.64.0.300/24"};
  auto assigned = setTunnelAddresses("lo", addresses);
  ASSERT_FALSE(assigned);
  EXPECT_EQ(assigned.error().code, "invalid-address");
}

// Walks netlink attributes of `data` into a map by type (last one wins).
std::map<uint16_t, std::string> attributes(std::string_view data) {
  std::map<uint16_t, std::string> out;
  while (data.size() >= NLA_HDRLEN) {
    nlattr attr{};
    std::memcpy(&attr, data.data(), sizeof attr);
    EXPECT_GE(attr.nla_len, NLA_HDRLEN);
    EXPECT_LE(attr.nla_len, data.size());
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > data.size()) break;
    out[attr.nla_type] = std::string(data.substr(NLA_HDRLEN, attr.nla_len - NLA_HDRLEN));
    data.remove_prefix(std::min<size_t>(NLA_ALIGN(attr.nla_len), data.size()));
  }
  return out;
}

TEST(WireguardTest, EncodesSetDevice) {
  std::array<uint8_t, 32> key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  auto bytes = encodeSetDevice(0x1f, 7, wireguardExit(), key, 25);
  ASSERT_TRUE(bytes) << bytes.error().str();

  nlmsghdr header{};
  std::memcpy(&header, bytes->data(), sizeof header);
  EXPECT_EQ(header.nlmsg_len, bytes->size());
  EXPECT_EQ(header.nlmsg_type, 0x1f);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(header.nlmsg_seq, 7u);
  genlmsghdr genl{};
  std::memcpy(&genl, bytes->data() + NLMSG_HDRLEN, sizeof genl);
  EXPECT_EQ(genl.cmd, WG_CMD_SET_DEVICE);
  EXPECT_EQ(genl.version, WG_GENL_VERSION);

  auto device = attributes(std::string_view(*bytes).substr(NLMSG_HDRLEN + GENL_HDRLEN));
  EXPECT_EQ(device[WGDEVICE_A_IFNAME], std::string("hwgtest0", 9));
  EXPECT_EQ(device[WGDEVICE_A_PRIVATE_KEY], std::string(key.begin(), key.end()));
  uint32_t flags = 0;
  std::memcpy(&flags, device[WGDEVICE_A_FLAGS].data(), 4);
  EXPECT_EQ(flags, static_cast<uint32_t>(WGDEVICE_F_REPLACE_PEERS));
  ASSERT_EQ(device.count(WGDEVICE_A_PEERS | NLA_F_NESTED), 1u) << "peers must be nested";

  auto peers = attributes(device[WGDEVICE_A_PEERS | NLA_F_NESTED]);
  ASSERT_EQ(peers.size(), 1u);
  auto peer = attributes(peers.begin()->second);
  EXPECT_EQ(peer[WGPEER_A_PUBLIC_KEY], decodeBase64(kBobPublic));
  sockaddr_in endpoint{};
  ASSERT_EQ(peer[WGPEER_A_ENDPOINT].size(), sizeof endpoint);
  std::memcpy(&endpoint, peer[WGPEER_A_ENDPOINT].data(), sizeof endpoint);
  EXPECT_EQ(endpoint.sin_family, AF_INET);
  EXPECT_EQ(ntohs(endpoint.sin_port), 51820);
  EXPECT_EQ(ntohl(endpoint.sin_addr.s_addr), 0xc633640au);  // 198.51.100.10
  uint16_t keepalive = 0;
  std::memcpy(&keepalive, peer[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL].data(), 2);
  EXPECT_EQ(keepalive, 25);

  auto allowed = attributes(peer[WGPEER_A_ALLOWEDIPS | NLA_F_NESTED]);
  ASSERT_EQ(allowed.size(), 2u);
  std::set<uint16_t> families;
  for (const auto& [index, entry] : allowed) {
    auto fields = attributes(entry);
    uint16_t family = 0;
    std::memcpy(&family, fields[WGALLOWEDIP_A_FAMILY].data(), 2);
    families.insert(family);
    EXPECT_EQ(fields[WGALLOWEDIP_A_IPADDR], std::string(family == AF_INET ? 4 : 16, '\0'));
    EXPECT_EQ(fields[WGALLOWEDIP_A_CIDR_MASK], std::string(1, '\0'));
  }
  EXPECT_EQ(families, (std::set<uint16_t>{AF_INET, AF_INET6}));
}

}  // namespace
}  // namespace hoody::host
