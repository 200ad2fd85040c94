// SPDX-License-Identifier: Apache-2.0
// Tests for the binary IR encoding and bundle directories.
#include "runtime/abi/bundle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/abi/address.h"

namespace hoody::bundle {
namespace {

ir::Policy samplePolicy() {
  ir::Policy p;
  p.node = "node-us";
  p.domain = "example.test";
  ir::Realm realm;
  realm.name = "acme";
  ir::PermissionBlock block;
  block.origin = "project production";
  block.default_allow = ir::bit(ir::Service::Exec);
  ir::Group ops;
  ops.name = "ops";
  ops.has_ip = true;
  net::addToSet(ops.ip, *net::parseCidr("203.0.113.0/24"));
  net::addToSet(ops.ip, *net::parseCidr("2001:db8::/32"));
  ops.credential = ir::CredentialKind::Jwt;
  ir::JwtSpec jwt;
  jwt.algorithms = {"ES256"};
  jwt.issuer = "https://idp.example/";
  jwt.audiences = {"ops"};
  jwt.key_pem = "-----BEGIN PUBLIC KEY-----\n...\n";
  jwt.leeway_seconds = 30;
  jwt.claims.push_back({"roles", ir::ClaimOp::Contains, "viewer"});
  ops.jwt = jwt;
  ops.grants.push_back({ir::kAllServices, ir::bit(ir::Method::Get), {"/admin"}});
  block.groups.push_back(ops);
  ir::Group mon;
  mon.name = "monitoring";
  mon.credential = ir::CredentialKind::Bearer;
  mon.bearer_sha256.push_back({});
  mon.bearer_sha256[0][0] = 7;
  mon.grants.push_back({ir::bit(ir::Service::Http), ir::kAllMethods, {}});
  block.groups.push_back(mon);
  realm.blocks.push_back(block);
  ir::Container c;
  c.name = "api";
  c.project = "production";
  c.id[0] = 1;
  c.project_id[11] = 2;
  c.maintenance = true;
  c.upstream.address = "127.0.0.1";
  c.upstream.ports.push_back({ir::Service::Http, 1, 8080});
  realm.containers.push_back(c);
  p.realms.push_back(realm);
  return p;
}

TEST(IrCodecTest, RoundTrips) {
  ir::Policy p = samplePolicy();
  auto decoded = decodeIr(encodeIr(p));
  ASSERT_TRUE(decoded) << decoded.error().str();
  EXPECT_EQ(*decoded, p);
}

TEST(IrCodecTest, IsDeterministic) {
  EXPECT_EQ(encodeIr(samplePolicy()), encodeIr(samplePolicy()));
}

TEST(IrCodecTest, RejectsEveryTruncation) {
  std::string bytes = encodeIr(samplePolicy());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decodeIr(std::string_view(bytes).substr(0, n))) << n;
  }
}

TEST(IrCodecTest, RejectsOtherVersion) {
  std::string bytes = encodeIr(samplePolicy());
  bytes[8] = 99;
  auto r = decodeIr(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "bad-version");
}

TEST(IrCodecTest, RejectsTrailingBytes) {
  auto r = decodeIr(encodeIr(samplePolicy()) + "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "invalid-ir");
}

TEST(IrCodecTest, SurvivesByteFlips) {
  // Every single-byte corruption either decodes or fails cleanly.
  std::string bytes = encodeIr(samplePolicy());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string copy = bytes;
    copy[i] = static_cast<char>(copy[i] ^ 0xff);
    (void)decodeIr(copy);
  }
  SUCCEED();
}

class BundleDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hoody-bundle-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(BundleDirTest, WritesAndLoads) {
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), {{"a.hoody"}, "inventory.json"}));
  auto loaded = loadBundle(dir_);
  ASSERT_TRUE(loaded) << loaded.error().str();
  EXPECT_EQ(*loaded, samplePolicy());
}

TEST_F(BundleDirTest, DetectsTamperedIr) {
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), {}));
  {
    std::ofstream out(dir_ / "decision.ir", std::ios::binary | std::ios::app);
    out << "x";
  }
  auto loaded = loadBundle(dir_);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "hash-mismatch");
}

TEST_F(BundleDirTest, MissingDirectoryIsIoError) {
  auto loaded = loadBundle(dir_ / "nope");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, "io-error");
}

}  // namespace
}  // namespace hoody::bundle
