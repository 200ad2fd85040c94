// SPDX-License-Identifier: Apache-2.0
// Tests for the binary IR encoding and bundle directories.
#include "runtime/abi/bundle.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), {{"a.hoody"}, "inventory.json", {}}));
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

// Bytes with a NUL and high bytes, as in real bitcode.
const std::string kBitcode("BC\xc0\xde\0\x01payload", 13);

Artifact bitcodeArtifact() {
  return {"decision.bc", kBitcode, {{"target_triple", "x86_64-pc-linux-gnu"}}};
}

std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST_F(BundleDirTest, ArtifactRoundTrips) {
  BundleInfo info;
  info.artifacts.push_back(bitcodeArtifact());
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), info));

  auto bytes = loadArtifact(dir_, "decision.bc");
  ASSERT_TRUE(bytes) << bytes.error().str();
  EXPECT_EQ(*bytes, kBitcode);
  auto loaded = loadBundle(dir_);
  ASSERT_TRUE(loaded) << loaded.error().str();
  EXPECT_EQ(*loaded, samplePolicy());
  auto ir_bytes = loadArtifact(dir_, "decision.ir");
  ASSERT_TRUE(ir_bytes) << ir_bytes.error().str();
  EXPECT_EQ(*ir_bytes, encodeIr(samplePolicy()));
}

TEST_F(BundleDirTest, ManifestListsArtifact) {
  BundleInfo info;
  info.artifacts.push_back(bitcodeArtifact());
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), info));

  nlohmann::json manifest = nlohmann::json::parse(readText(dir_ / "manifest.json"));
  const nlohmann::json& entry = manifest["artifacts"]["decision.bc"];
  // SHA-256 of kBitcode, computed with Python hashlib.
  EXPECT_EQ(entry["sha256"], "e90867caf9c084facf87154040785a3761e32d59aad7ce22bb88760f4cc95d1c");
  EXPECT_EQ(entry["size"], kBitcode.size());
  EXPECT_EQ(entry["target_triple"], "x86_64-pc-linux-gnu");
  EXPECT_TRUE(manifest["artifacts"]["decision.ir"]["sha256"].is_string());
}

TEST_F(BundleDirTest, TamperedArtifactIsHashMismatch) {
  BundleInfo info;
  info.artifacts.push_back(bitcodeArtifact());
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), info));
  {
    std::fstream out(dir_ / "decision.bc", std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(5);
    out.put('\x02');
  }

  auto bytes = loadArtifact(dir_, "decision.bc");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, "hash-mismatch");
  EXPECT_NE(bytes.error().message.find("decision.bc"), std::string::npos) << bytes.error().message;
  // The IR is untouched, so the bundle itself still loads.
  EXPECT_TRUE(loadBundle(dir_));
}

TEST_F(BundleDirTest, UnlistedArtifactIsMissing) {
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), {}));
  ASSERT_TRUE(loadBundle(dir_));

  auto bytes = loadArtifact(dir_, "decision.bc");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, "missing-artifact");
  EXPECT_NE(bytes.error().message.find("`decision.bc`"), std::string::npos)
      << bytes.error().message;
}

TEST_F(BundleDirTest, DeletedArtifactIsIoError) {
  BundleInfo info;
  info.artifacts.push_back(bitcodeArtifact());
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), info));
  std::filesystem::remove(dir_ / "decision.bc");

  auto bytes = loadArtifact(dir_, "decision.bc");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, "io-error");
}

TEST_F(BundleDirTest, PathNamesAreNotLookedUp) {
  ASSERT_TRUE(writeBundle(dir_, samplePolicy(), {}));
  for (const char* name : {"../manifest.json", "/etc/hostname", "", ".", ".."}) {
    auto bytes = loadArtifact(dir_, name);
    ASSERT_FALSE(bytes) << name;
    EXPECT_EQ(bytes.error().code, "missing-artifact") << name;
  }
}

TEST_F(BundleDirTest, RejectsInvalidArtifacts) {
  std::vector<std::vector<Artifact>> cases = {
      {{"../decision.bc", "x", {}}},
      {{"", "x", {}}},
      {{"..", "x", {}}},
      {{"decision.ir", "x", {}}},
      {{"manifest.json", "x", {}}},
      {{"a.bc", "x", {}}, {"a.bc", "y", {}}},
      {{"a.bc", "x", {{"sha256", "00"}}}},
      {{"a.bc", "x", {{"size", "1"}}}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    BundleInfo info;
    info.artifacts = cases[i];
    auto written = writeBundle(dir_, samplePolicy(), info);
    ASSERT_FALSE(written) << "case " << i;
    EXPECT_EQ(written.error().code, "invalid-artifact") << "case " << i;
    EXPECT_FALSE(std::filesystem::exists(dir_)) << "case " << i;
  }
}

}  // namespace
}  // namespace hoody::bundle
