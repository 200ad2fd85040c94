// SPDX-License-Identifier: Apache-2.0
// Tests of the wg-quick files rendered for WireGuard exits.
#include "compiler/backend/wireguard/wireguard_config.h"

#include <gtest/gtest.h>

#include "runtime/abi/address.h"

namespace hoody::wireguard {
namespace {

constexpr const char* kPeerKey = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";

ir::IpAddress address(std::string_view text) {
  auto parsed = net::parseAddress(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : ir::IpAddress{};
}

ir::Exit wireguardExit() {
  ir::Exit exit;
  exit.kind = ir::Exit::Kind::Wireguard;
  exit.wireguard.endpoint = address("198.51.100.10");
  exit.wireguard.endpoint_port = 51820;
  exit.wireguard.public_key = kPeerKey;
  exit.wireguard.addresses = {"10.64.0.2/24", "fd00:64::2/128"};
  exit.interface = "hwg0f3e2d1c4b5a";
  exit.origin = "team.hoody:61";
  return exit;
}

ir::HostContainer webContainer() {
  ir::HostContainer c;
  c.realm = "acme";
  c.project = "production";
  c.name = "web";
  c.addresses = {address("192.0.2.10"), address("2001:db8::10")};
  c.has_network = true;
  c.network.exits = {wireguardExit()};
  return c;
}

TEST(WireguardConfigTest, RendersWgQuickFile) {
  auto config = renderConfig(webContainer(), wireguardExit());
  ASSERT_TRUE(config) << config.error().str();
  EXPECT_EQ(config->interface, "hwg0f3e2d1c4b5a");
  EXPECT_EQ(config->file_name, "hwg0f3e2d1c4b5a.conf");
  EXPECT_EQ(config->key_file, "/etc/hoody/wireguard/hwg0f3e2d1c4b5a.key");
  EXPECT_EQ(config->text,
            "# WireGuard exit of acme/production/web (team.hoody:61), written by hoodyc; edits "
            "are overwritten.\n"
            "# The private key stays in the key file on this host, never in this file.\n"
            "[Interface]\n"
            "Address = 10.64.0.2/24, fd00:64::2/128\n"
            "Table = off\n"
            "PostUp = wg set %i private-key /etc/hoody/wireguard/hwg0f3e2d1c4b5a.key\n"
            "\n"
            "[Peer]\n"
            "PublicKey = hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"
            "Endpoint = 198.51.100.10:51820\n"
            "AllowedIPs = 0.0.0.0/0, ::/0\n"
            "PersistentKeepalive = 25\n");
  EXPECT_EQ(config->text.find("PrivateKey"), std::string::npos);
}

TEST(WireguardConfigTest, RoutesContainerThroughTable) {
  ConfigOptions options;
  options.route_table = 1000;
  options.key_directory = "/var/lib/hoody/keys/";
  auto config = renderConfig(webContainer(), wireguardExit(), options);
  ASSERT_TRUE(config) << config.error().str();
  EXPECT_EQ(config->key_file, "/var/lib/hoody/keys/hwg0f3e2d1c4b5a.key");
  const std::string& text = config->text;
  EXPECT_NE(text.find("\nTable = 1000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nPostUp = ip -4 rule add from 192.0.2.10 lookup 1000 priority 20000\n"
                      "PostUp = ip -6 rule add from 2001:db8::10 lookup 1000 priority 20000\n"
                      "PreDown = ip -4 rule del from 192.0.2.10 lookup 1000 priority 20000\n"
                      "PreDown = ip -6 rule del from 2001:db8::10 lookup 1000 priority 20000\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("Table = off"), std::string::npos);
}

TEST(WireguardConfigTest, TableNeedsContainerAddresses) {
  ir::HostContainer container = webContainer();
  container.addresses.clear();
  ConfigOptions options;
  options.route_table = 1000;
  auto config = renderConfig(container, wireguardExit(), options);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "missing-inventory-addresses");
  EXPECT_NE(config.error().message.find("acme/production/web"), std::string::npos);
}

TEST(WireguardConfigTest, BracketsIpv6Endpoint) {
  ir::Exit exit = wireguardExit();
  exit.wireguard.endpoint = address("2001:db8::53");
  exit.provider = "examplevpn";
  ConfigOptions options;
  options.keepalive_seconds = 0;
  auto config = renderConfig(webContainer(), exit, options);
  ASSERT_TRUE(config) << config.error().str();
  EXPECT_NE(config->text.find("\nEndpoint = [2001:db8::53]:51820\n"), std::string::npos);
  EXPECT_NE(config->text.find("(team.hoody:61, VPN provider `examplevpn`)"), std::string::npos);
  EXPECT_EQ(config->text.find("PersistentKeepalive"), std::string::npos);
}

TEST(WireguardConfigTest, RejectsInvalidExits) {
  struct Case {
    const char* name;
    void (*change)(ir::Exit&);
  };
  const Case cases[] = {
      {"long interface", [](ir::Exit& e) { e.interface = "hwg0123456789abc"; }},
      {"interface with space", [](ir::Exit& e) { e.interface = "hwg 1"; }},
      {"short key", [](ir::Exit& e) { e.wireguard.public_key = "abc="; }},
      {"key without padding", [](ir::Exit& e) { e.wireguard.public_key = std::string(44, 'A'); }},
      {"port 0", [](ir::Exit& e) { e.wireguard.endpoint_port = 0; }},
      {"no address", [](ir::Exit& e) { e.wireguard.addresses.clear(); }},
      {"bad address", [](ir::Exit& e) { e.wireguard.addresses = {"10.64.0.300/32"}; }},
  };
  for (const Case& c : cases) {
    ir::Exit exit = wireguardExit();
    c.change(exit);
    auto config = renderConfig(webContainer(), exit);
    ASSERT_FALSE(config) << c.name;
    EXPECT_EQ(config.error().code, "invalid-wireguard-exit") << c.name;
    EXPECT_NE(config.error().message.find("team.hoody:61"), std::string::npos) << c.name;
  }
}

// wg-quick runs PostUp through bash; a key directory must not inject commands.
TEST(WireguardConfigTest, RejectsUnsafeKeyDirectory) {
  for (const char* dir : {"keys", "/etc/hoody; rm -rf /", "/etc/$(id)", "/etc/../root", ""}) {
    ConfigOptions options;
    options.key_directory = dir;
    auto config = renderConfig(webContainer(), wireguardExit(), options);
    ASSERT_FALSE(config) << dir;
    EXPECT_EQ(config.error().code, "invalid-wireguard-exit") << dir;
  }
}

TEST(WireguardConfigTest, RejectsOtherExitKinds) {
  ir::Exit exit = wireguardExit();
  exit.kind = ir::Exit::Kind::Socks5;
  auto config = renderConfig(webContainer(), exit);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, "not-wireguard");
}

TEST(WireguardConfigTest, RendersEveryWireguardExit) {
  ir::HostPolicy policy;
  ir::HostContainer web = webContainer();
  ir::Exit proxy;
  proxy.kind = ir::Exit::Kind::Socks5;
  web.network.exits.push_back(proxy);
  ir::HostContainer worker = webContainer();
  worker.name = "worker";
  worker.network.exits[0].interface = "hwg9c8b7a6f5e4d";
  ir::HostContainer offline = webContainer();
  offline.has_network = false;
  policy.containers = {web, worker, offline};

  auto configs = renderConfigs(policy);
  ASSERT_TRUE(configs) << configs.error().str();
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[0].interface, "hwg0f3e2d1c4b5a");
  EXPECT_EQ((*configs)[1].interface, "hwg9c8b7a6f5e4d");
}

TEST(WireguardConfigTest, RejectsSharedInterface) {
  ir::HostPolicy policy;
  ir::HostContainer web = webContainer();
  ir::Exit second = wireguardExit();
  second.origin = "team.hoody:62";
  web.network.exits.push_back(second);
  policy.containers = {web};
  auto configs = renderConfigs(policy);
  ASSERT_FALSE(configs);
  EXPECT_EQ(configs.error().code, "duplicate-wireguard-interface");
  EXPECT_NE(configs.error().message.find("team.hoody:61 and team.hoody:62"), std::string::npos);
}

}  // namespace
}  // namespace hoody::wireguard
