// SPDX-License-Identifier: Apache-2.0
// Tests of header rewriting toward upstreams and clients.
#include "runtime/proxy/forwarding.h"

#include <string>

#include <gtest/gtest.h>

namespace hoody::proxy {
namespace {

ForwardContext context() {
  ForwardContext c;
  c.authority = "host.example:8443";
  c.client = "192.0.2.10";
  c.realm = "acme";
  c.group = "devops";
  c.container = "public-api";
  c.service = "http";
  return c;
}

// Counts lines of `head` that start with `prefix` (case-sensitive).
int countLines(const std::string& head, const std::string& prefix) {
  int n = 0;
  size_t pos = 0;
  while ((pos = head.find("\r\n" + prefix, pos)) != std::string::npos) {
    ++n;
    pos += 2;
  }
  return n;
}

TEST(UpstreamRequestHeadTest, ReplacesHoodyAndForwardedFields) {
  http::HeaderList client = {
      {"X-Hoody-Group", "admins"},      {"x-hoody-realm", "other"}, {"X-HOODY-Anything", "1"},
      {"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9"},
      {"Accept", "*/*"},
  };
  std::string head = buildUpstreamRequestHead("GET", "/a?b=1", client, context(), {});
  EXPECT_EQ(head.rfind("GET /a?b=1 HTTP/1.1\r\nHost: host.example:8443\r\n", 0), 0u);
  EXPECT_EQ(countLines(head, "X-Hoody-Group: devops\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Hoody-Realm: acme\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Hoody-Container: public-api\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Hoody-Service: http\r\n"), 1);
  EXPECT_EQ(head.find("admins"), std::string::npos);
  EXPECT_EQ(head.find("other"), std::string::npos);
  EXPECT_EQ(head.find("Anything"), std::string::npos);
  EXPECT_EQ(head.find("203.0.113.9"), std::string::npos);
  EXPECT_EQ(countLines(head, "X-Forwarded-For: 192.0.2.10\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Forwarded-Proto: https\r\n"), 1);
  EXPECT_EQ(countLines(head, "Accept: */*\r\n"), 1);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST(UpstreamRequestHeadTest, RemovesHopByHopFields) {
  http::HeaderList client = {
      {"Connection", "keep-alive, X-Private"}, {"X-Private", "secret"}, {"Keep-Alive", "timeout=5"},
      {"TE", "trailers"}, {"Trailer", "X-T"}, {"Upgrade", "websocket"},
      {"Proxy-Authorization", "Basic abc"}, {"Proxy-Connection", "keep-alive"},
      {"Transfer-Encoding", "chunked"}, {"Content-Length", "99"}, {"Expect", "100-continue"},
      {"Host", "spoofed.example"}, {"X-Kept", "yes"},
  };
  UpstreamFraming framing;
  framing.has_body = true;
  framing.content_length = 12;
  std::string head = buildUpstreamRequestHead("POST", "/", client, context(), framing);
  for (const char* gone : {"Connection:", "X-Private", "Keep-Alive", "TE:", "Trailer", "Upgrade",
                           "Proxy-", "Transfer-Encoding", "Expect", "spoofed", "99"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone;
  }
  EXPECT_EQ(countLines(head, "X-Kept: yes\r\n"), 1);
  EXPECT_EQ(countLines(head, "Content-Length: 12\r\n"), 1);
  EXPECT_EQ(countLines(head, "Host: "), 1);
}

TEST(UpstreamRequestHeadTest, ChunkedWhenLengthUnknown) {
  UpstreamFraming framing;
  framing.has_body = true;
  std::string head = buildUpstreamRequestHead("POST", "/", {}, context(), framing);
  EXPECT_EQ(countLines(head, "Transfer-Encoding: chunked\r\n"), 1);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);

  std::string no_body = buildUpstreamRequestHead("GET", "/", {}, context(), {});
  EXPECT_EQ(no_body.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(no_body.find("Content-Length"), std::string::npos);

  UpstreamFraming empty;
  empty.content_length = 0;
  std::string zero = buildUpstreamRequestHead("POST", "/", {}, context(), empty);
  EXPECT_EQ(countLines(zero, "Content-Length: 0\r\n"), 1);
}

TEST(UpstreamRequestHeadTest, AuthorizationOnlyWhenGroupForwardsIt) {
  http::HeaderList client = {{"Authorization", "Bearer token-1"}};
  ForwardContext strip = context();
  EXPECT_EQ(buildUpstreamRequestHead("GET", "/", client, strip, {}).find("token-1"),
            std::string::npos);
  ForwardContext keep = context();
  keep.keep_authorization = true;
  EXPECT_EQ(countLines(buildUpstreamRequestHead("GET", "/", client, keep, {}),
                       "Authorization: Bearer token-1\r\n"),
            1);
}

TEST(UpstreamRequestHeadTest, JoinsSplitCookies) {
  http::HeaderList client = {{"cookie", "a=1"}, {"cookie", "b=2"}};
  std::string head = buildUpstreamRequestHead("GET", "/", client, context(), {});
  EXPECT_EQ(countLines(head, "Cookie: a=1; b=2\r\n"), 1);
}

TEST(ResponseHeadersTest, RemovesHopByHopAndLowercasesForH2) {
  http::HeaderList upstream = {
      {"Content-Type", "text/plain"}, {"Connection", "close, X-Drop"}, {"X-Drop", "1"},
      {"Keep-Alive", "timeout=5"},    {"Transfer-Encoding", "chunked"}, {"Set-Cookie", "a=1"},
      {"Upgrade", "h2c"},             {"Proxy-Authenticate", "Basic"},
  };
  http::HeaderList h1 = filterResponseHeaders(upstream, false);
  ASSERT_EQ(h1.size(), 2u);
  EXPECT_EQ(h1[0].name, "Content-Type");
  EXPECT_EQ(h1[1].name, "Set-Cookie");
  http::HeaderList h2 = filterResponseHeaders(upstream, true);
  ASSERT_EQ(h2.size(), 2u);
  EXPECT_EQ(h2[0].name, "content-type");
  EXPECT_EQ(h2[1].name, "set-cookie");
}

TEST(HopByHopTest, Classifies) {
  for (const char* name : {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding",
                           "Upgrade", "Proxy-Authorization", "proxy-anything"}) {
    EXPECT_TRUE(isHopByHopField(name)) << name;
  }
  for (const char* name : {"Content-Length", "Authorization", "Host", "Trailers", "Tea"}) {
    EXPECT_FALSE(isHopByHopField(name)) << name;
  }
}

}  // namespace
}  // namespace hoody::proxy
