// SPDX-License-Identifier: Apache-2.0
// Tests for host-name parsing, Authorization parsing and path prefixes.
#include "runtime/policy/decision.h"

#include <gtest/gtest.h>

namespace hoody::policy {
namespace {

constexpr const char* kHost =
    "0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03-terminal-1.node-us.containers.example";

ParsedHost parse(std::string_view raw) { return parseHost(raw, "node-us", "example"); }

TEST(HostTest, ParsesContainerHost) {
  ParsedHost h = parse(kHost);
  ASSERT_EQ(h.status, HostStatus::Ok);
  EXPECT_EQ(h.key.container[0], 0x0f);
  EXPECT_EQ(h.key.project[11], 0x03);
  EXPECT_EQ(h.key.service, ir::Service::Terminal);
  EXPECT_EQ(h.key.instance, 1u);
}

TEST(HostTest, NormalizesCasePortAndOneTrailingDot) {
  std::string upper = kHost;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string raw : {upper, std::string(kHost) + ".", std::string(kHost) + ":443",
                          std::string(kHost) + ".:443", upper + ".:8443"}) {
    ParsedHost h = parse(raw);
    ASSERT_EQ(h.status, HostStatus::Ok) << raw;
    EXPECT_EQ(h.canonical, kHost) << raw;
  }
}

TEST(HostTest, RejectsTwoTrailingDotsAndEmptyLabels) {
  EXPECT_EQ(parse(std::string(kHost) + "..").status, HostStatus::Malformed);
  EXPECT_EQ(parse(".node-us.containers.example").status, HostStatus::Malformed);
  EXPECT_EQ(parse("a..node-us.containers.example").status, HostStatus::Malformed);
  EXPECT_EQ(parse("").status, HostStatus::Malformed);
  EXPECT_EQ(parse("bad_host.example").status, HostStatus::Malformed);
  EXPECT_EQ(parse(std::string(kHost) + ":99999").status, HostStatus::Malformed);
  EXPECT_EQ(parse(std::string(kHost) + ":").status, HostStatus::Malformed);
}

TEST(HostTest, OtherHostsAreUnknown) {
  EXPECT_EQ(parse("example.org").status, HostStatus::Unknown);
  EXPECT_EQ(parse("node-us.containers.example").status, HostStatus::Unknown);
  // Wrong node.
  std::string other = kHost;
  other.replace(other.find("node-us"), 7, "node-eu");
  EXPECT_EQ(parse(other).status, HostStatus::Unknown);
  // Short ID, unknown service, instance 0, leading zero, extra label.
  EXPECT_EQ(parse("0f3e2d1c4b5a69788796a5b-6a1f3c9e0b7d4e2f8a5c1d03-terminal-1.node-us.containers."
                  "example")
                .status,
            HostStatus::Unknown);
  for (const char* tail : {"-shell-1", "-terminal-0", "-terminal-01", "-terminal-", "-terminal"}) {
    std::string h = std::string("0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03") + tail +
                    ".node-us.containers.example";
    EXPECT_EQ(parse(h).status, HostStatus::Unknown) << h;
  }
  EXPECT_EQ(parse(std::string("x.") + kHost).status, HostStatus::Unknown);
}

TEST(HostTest, UppercaseHexIdsResolveToSameKey) {
  ParsedHost lower = parse(kHost);
  ParsedHost upper = parse(
      "0F3E2D1C4B5A69788796A5B4-6A1F3C9E0B7D4E2F8A5C1D03-terminal-1.node-us.containers.example");
  ASSERT_EQ(upper.status, HostStatus::Ok);
  EXPECT_EQ(upper.key.container, lower.key.container);
  EXPECT_EQ(upper.key.project, lower.key.project);
}

std::string base64(std::string_view in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kAlphabet[(v >> (6 * k)) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

TEST(AuthorizationTest, SplitsBasicAtFirstColon) {
  Credentials c = parseAuthorization("Basic " + base64("deploy:p:a:ss"));
  ASSERT_EQ(c.kind, Credentials::Kind::Basic);
  EXPECT_EQ(c.user, "deploy");
  EXPECT_EQ(c.password, "p:a:ss");
}

TEST(AuthorizationTest, SchemeIsCaseInsensitive) {
  for (const char* scheme : {"basic ", "BASIC ", "bAsIc "}) {
    Credentials c = parseAuthorization(scheme + base64("ops:x"));
    EXPECT_EQ(c.kind, Credentials::Kind::Basic) << scheme;
  }
  EXPECT_EQ(parseAuthorization("BEARER abc.def.ghi").kind, Credentials::Kind::Bearer);
}

TEST(AuthorizationTest, KeepsUtf8Passwords) {
  Credentials c = parseAuthorization("Basic " + base64("intl:p\xc3\xa4ssw\xc3\xb6rd"));
  ASSERT_EQ(c.kind, Credentials::Kind::Basic);
  EXPECT_EQ(c.password, "p\xc3\xa4ssw\xc3\xb6rd");
}

TEST(AuthorizationTest, RejectsBadBasic) {
  EXPECT_EQ(parseAuthorization("Basic " + base64("deploy")).kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Basic " + base64(":x")).kind, Credentials::Kind::Invalid);
  std::string unpadded = base64("ab:c");  // "YWI6Yw=="
  EXPECT_EQ(parseAuthorization("Basic " + unpadded.substr(0, unpadded.size() - 2)).kind,
            Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Basic YWI6 Yw==").kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Basic Y=I6Yw==").kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Basic !!!!").kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Basic").kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Digest abc").kind, Credentials::Kind::Invalid);
  EXPECT_EQ(parseAuthorization("Bearer a b").kind, Credentials::Kind::Invalid);
}

TEST(PathPrefixTest, MatchesAtSegmentBoundary) {
  EXPECT_TRUE(pathHasPrefix("/admin", "/admin"));
  EXPECT_TRUE(pathHasPrefix("/admin/users", "/admin"));
  EXPECT_FALSE(pathHasPrefix("/administrator", "/admin"));
  EXPECT_TRUE(pathHasPrefix("/admin/x", "/admin/"));
  EXPECT_FALSE(pathHasPrefix("/admin", "/admin/"));
  EXPECT_TRUE(pathHasPrefix("/anything", "/"));
}

}  // namespace
}  // namespace hoody::policy
