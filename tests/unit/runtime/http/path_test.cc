// SPDX-License-Identifier: Apache-2.0
// Tests of request path normalization.
#include "runtime/http/path.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hoody::http {
namespace {

struct Normalized {
  std::string in;
  std::string out;
};

struct Rejected {
  std::string in;
  std::string code;
};

TEST(NormalizePathTest, RemovesDotSegments) {
  std::vector<Normalized> cases = {
      {"/", "/"},
      {"/docs/../admin/config", "/admin/config"},
      {"/docs/./../admin", "/admin"},
      {"/docs/a/../../admin", "/admin"},
      {"/docs/..", "/"},
      {"/docs/../../etc/passwd", "/etc/passwd"},
      {"/..", "/"},
      {"/a/b/c/./../../g", "/a/g"},
      {"/a/.", "/a/"},
      {"/a/b/..", "/a/"},
      {"/a/", "/a/"},
      {"//a///b//", "/a/b/"},
      {"/a/.../b", "/a/.../b"},
      {"/a/..b/c", "/a/..b/c"},
  };
  for (const Normalized& c : cases) {
    Result<std::string> r = normalizePath(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(NormalizePathTest, DecodesUnreservedOnce) {
  std::vector<Normalized> cases = {
      {"/docs/%2e%2e/admin", "/admin"},
      {"/docs/%2E%2E/admin", "/admin"},
      {"/docs/.%2e/admin", "/admin"},
      {"/docs/%2e./admin", "/admin"},
      {"/%61dmin/users", "/admin/users"},
      {"/%7Euser/%5F", "/~user/_"},
      // %25 is '%', which is not unreserved: it stays encoded, so the
      // double-encoded dots are never decoded to `..`.
      {"/docs/%252e%252e/admin", "/docs/%252e%252e/admin"},
      {"/a%20b", "/a%20b"},
      {"/a%2bb", "/a%2Bb"},
      {"/caf%c3%a9", "/caf%C3%A9"},
      {"/%F0%9F%98%80", "/%F0%9F%98%80"},
      {"/a:b@c!$&'()*+,=", "/a:b@c!$&'()*+,="},
  };
  for (const Normalized& c : cases) {
    Result<std::string> r = normalizePath(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message;
    EXPECT_EQ(*r, c.out) << c.in;
  }
}

TEST(NormalizePathTest, RejectsEncodedReservedAndInvalidInput) {
  std::vector<Rejected> cases = {
      {"/admin%2F", "encoded-reserved"},
      {"/admin%2fusers", "encoded-reserved"},
      {"/admin%5Cusers", "encoded-reserved"},
      {"/admin%5c", "encoded-reserved"},
      {"/admin%00", "encoded-reserved"},
      {"/admin%3B", "encoded-reserved"},
      {"/admin%3b", "encoded-reserved"},
      {"/admin%3F", "encoded-reserved"},
      {"/admin%23", "encoded-reserved"},
      {"/admin;jsessionid=1", "path-parameter"},
      {"/a%", "invalid-escape"},
      {"/a%2", "invalid-escape"},
      {"/a%zz", "invalid-escape"},
      {"/a%g1", "invalid-escape"},
      {"/docs/%c0%ae%c0%ae/admin", "invalid-utf8"},
      {"/%c1%9c", "invalid-utf8"},
      {"/%e0%80%ae", "invalid-utf8"},
      {"/%f0%80%80%ae", "invalid-utf8"},
      {"/%ed%a0%80", "invalid-utf8"},
      {"/%ff", "invalid-utf8"},
      {"/%c3", "invalid-utf8"},
      {"/%80", "invalid-utf8"},
      {"/a\\b", "invalid-path"},
      {"/a b", "invalid-path"},
      {"/a\x01", "invalid-path"},
      {"/caf\xc3\xa9", "invalid-path"},
      {"/a\"b", "invalid-path"},
      {"/a[b]", "invalid-path"},
      {"relative", "invalid-path"},
      {"", "invalid-path"},
  };
  for (const Rejected& c : cases) {
    Result<std::string> r = normalizePath(c.in);
    ASSERT_FALSE(r.has_value()) << c.in << " gave " << *r;
    EXPECT_EQ(r.error().code, c.code) << c.in;
  }
}

TEST(NormalizeTargetTest, KeepsQueryByteForByte) {
  Result<NormalizedTarget> t = normalizeTarget("/a/../b%2e?x=%2e%2e/../&y=%zz?z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->path, "/b.");
  EXPECT_EQ(t->query, "x=%2e%2e/../&y=%zz?z");
  EXPECT_TRUE(t->has_query);
  EXPECT_EQ(t->forwardTarget(), "/b.?x=%2e%2e/../&y=%zz?z");

  Result<NormalizedTarget> empty_query = normalizeTarget("/a?");
  ASSERT_TRUE(empty_query.has_value());
  EXPECT_EQ(empty_query->forwardTarget(), "/a?");

  Result<NormalizedTarget> none = normalizeTarget("/a");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_query);
  EXPECT_EQ(none->forwardTarget(), "/a");
}

TEST(NormalizeTargetTest, RejectsBadQueryAndPath) {
  Result<NormalizedTarget> fragment = normalizeTarget("/a?b#c");
  ASSERT_FALSE(fragment.has_value());
  EXPECT_EQ(fragment.error().code, "invalid-query");
  Result<NormalizedTarget> space = normalizeTarget("/a?b c");
  ASSERT_FALSE(space.has_value());
  EXPECT_EQ(space.error().code, "invalid-query");
  Result<NormalizedTarget> path = normalizeTarget("/a%2f?b");
  ASSERT_FALSE(path.has_value());
  EXPECT_EQ(path.error().code, "encoded-reserved");
}

TEST(NormalizePathTest, IsIdempotent) {
  for (const char* in : {"/docs/%2e%2e/admin", "/a//b/./c/..", "/%61%62%63", "/x%20y/"}) {
    Result<std::string> once = normalizePath(in);
    ASSERT_TRUE(once.has_value()) << in;
    Result<std::string> twice = normalizePath(*once);
    ASSERT_TRUE(twice.has_value()) << in;
    EXPECT_EQ(*once, *twice) << in;
  }
}

}  // namespace
}  // namespace hoody::http
