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

TEST(UpstreamRequestHeadTest, RemovesUnderscoreSpellings) {
  // CGI and WSGI gateways map `_` and `-` to the same variable, so each of
  // these would reach the application as one of the proxy's own fields.
  http::HeaderList client = {
      {"X-Hoody_Group", "spoof-1"},      {"X_Hoody_Realm", "spoof-2"},
      {"x_hoody_container", "spoof-3"},  {"X-HOODY_service", "spoof-4"},
      {"X-Forwarded_For", "spoof-5"},    {"X_Forwarded_Proto", "spoof-6"},
      {"x-forwarded_host", "spoof-7"},   {"X-Real_IP", "spoof-8"},
      {"X-Real-Ip", "spoof-9"},          {"X-Forwarded-Host", "spoof-10"},
      {"Content_Length", "spoof-11"},    {"Transfer_Encoding", "spoof-12"},
      {"Proxy_Authorization", "spoof-13"}, {"Keep_Alive", "spoof-14"},
      {"Connection", "X-Private_Field"}, {"X_Private-Field", "spoof-15"},
      {"X-Hoodyish", "kept-1"},          {"X_Request_Id", "kept-2"},
  };
  std::string head = buildUpstreamRequestHead("GET", "/", client, context(), {});
  EXPECT_EQ(head.find("spoof-"), std::string::npos) << head;
  EXPECT_EQ(countLines(head, "X-Hoodyish: kept-1\r\n"), 1);
  EXPECT_EQ(countLines(head, "X_Request_Id: kept-2\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Hoody-Group: devops\r\n"), 1);
  EXPECT_EQ(countLines(head, "X-Forwarded-For: 192.0.2.10\r\n"), 1);
}

TEST(GatewayFieldNameTest, LowercasesAndMapsUnderscores) {
  EXPECT_EQ(gatewayFieldName("X_Hoody_Realm"), "x-hoody-realm");
  EXPECT_EQ(gatewayFieldName("X-FORWARDED-For"), "x-forwarded-for");
  EXPECT_EQ(gatewayFieldName("accept"), "accept");
  EXPECT_EQ(gatewayFieldName(""), "");
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

TEST(ResponseHeadersTest, SetCookieLosesDomain) {
  http::HeaderList upstream = {
      {"Set-Cookie", "sid=1; Domain=node-us.containers.example.test; Path=/; Secure"},
      {"set-cookie", "pref=dark"},
      {"Content-Type", "text/html"},
      {"X-Note", "Domain=kept"},
  };
  for (bool h2 : {false, true}) {
    SCOPED_TRACE(h2 ? "h2" : "h1");
    http::HeaderList out = filterResponseHeaders(upstream, h2);
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0].name, h2 ? "set-cookie" : "Set-Cookie");
    EXPECT_EQ(out[0].value, "sid=1; Path=/; Secure");
    EXPECT_EQ(out[1].value, "pref=dark");
    EXPECT_EQ(out[3].value, "Domain=kept");
  }
}

TEST(RemoveCookieDomainTest, RewritesOnlyDomainAttributes) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      // Several attributes around the Domain attribute stay byte for byte.
      {"sid=abc; Path=/; Domain=example.test; Max-Age=60; Secure; HttpOnly; SameSite=Lax",
       "sid=abc; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax"},
      {"sid=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT; domain=.example.test",
       "sid=abc; Expires=Wed, 21 Oct 2037 07:28:00 GMT"},
      // Letter case, spaces and tabs around the attribute name.
      {"sid=abc;DOMAIN=example.test;Path=/", "sid=abc;Path=/"},
      {"sid=abc;  Domain = example.test ; Path=/", "sid=abc; Path=/"},
      {"sid=abc;\tdoMain\t=example.test", "sid=abc"},
      // Empty and missing values, and more than one Domain attribute.
      {"sid=abc; Domain=", "sid=abc"},
      {"sid=abc; Domain; Secure", "sid=abc; Secure"},
      {"sid=abc; Domain=a.example; Domain=b.example; Path=/", "sid=abc; Path=/"},
      // Browsers split at every `;`, even inside quotes, so a Domain after a
      // quoted `;` is an attribute to them and is removed.
      {"sid=\"a; Domain=example.test\"; Path=/", "sid=\"a; Path=/"},
      {"sid=\"v=1\"; Domain=example.test", "sid=\"v=1\""},
      // Not Domain attributes: kept.
      {"Domain=example.test; Path=/", "Domain=example.test; Path=/"},
      {"sid=abc; Domains=x; X-Domain=y", "sid=abc; Domains=x; X-Domain=y"},
      {"sid=abc", "sid=abc"},
      {"sid=abc;", "sid=abc;"},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(removeCookieDomain(c.in), c.out) << c.in;
  }
}

TEST(RemoveCookieClearingTest, KeepsOtherTypes) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"\"cookies\"", ""},
      {"\"cache\", \"cookies\", \"storage\"", "\"cache\", \"storage\""},
      {"\"*\"", "\"cache\", \"storage\", \"executionContexts\""},
      {"\"cache\",\"*\"", "\"cache\", \"storage\", \"executionContexts\""},
      {"\"Cookies\", cookies, \" cookies \", \"cache\"", "\"cache\""},
      {"\"executionContexts\"", "\"executionContexts\""},
      {"", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(removeCookieClearing(c.in), c.out) << c.in;
  }
}

TEST(ResponseHeadersTest, ClearSiteDataLosesCookies) {
  http::HeaderList upstream = {
      {"Clear-Site-Data", "\"cookies\""},
      {"Clear-Site-Data", "\"cache\", \"cookies\""},
  };
  http::HeaderList out = filterResponseHeaders(upstream, false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].name, "Clear-Site-Data");
  EXPECT_EQ(out[0].value, "\"cache\"");
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
