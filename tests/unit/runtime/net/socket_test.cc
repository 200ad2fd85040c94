// SPDX-License-Identifier: Apache-2.0
// Tests of listen address parsing and loopback listeners.
#include "runtime/net/socket.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace hoody::net {
namespace {

TEST(ParseEndpointTest, AcceptsLiterals) {
  Result<Endpoint> v4 = parseEndpoint("127.0.0.1:8443");
  ASSERT_TRUE(v4.has_value());
  EXPECT_FALSE(v4->isV6());
  EXPECT_EQ(v4->port(), 8443);
  EXPECT_EQ(v4->str(), "127.0.0.1:8443");

  Result<Endpoint> v6 = parseEndpoint("[::1]:0");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->isV6());
  EXPECT_EQ(v6->str(), "[::1]:0");

  Result<Endpoint> any = parseEndpoint("[::]:443");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ(any->str(), "[::]:443");
}

TEST(ParseEndpointTest, RejectsInvalid) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                           "127.0.0.1:80x", "::1:8443", "[::1]8443", "[::1:8443", "localhost:80",
                           "127.0.0.01:80", "127.1:80", "0x7f.0.0.1:80", ":80"}) {
    Result<Endpoint> r = parseEndpoint(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, "invalid-listen-address") << text;
  }
}

TEST(ListenerTest, PortZeroIsSharedThroughReusePort) {
  Result<Endpoint> e = parseEndpoint("127.0.0.1:0");
  ASSERT_TRUE(e.has_value());
  Result<int> first = openListener(*e, 16);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  Result<Endpoint> bound = localEndpoint(*first);
  ASSERT_TRUE(bound.has_value());
  EXPECT_NE(bound->port(), 0);
  Result<int> second = openListener(*bound, 16);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  Result<Endpoint> bound2 = localEndpoint(*second);
  ASSERT_TRUE(bound2.has_value());
  EXPECT_EQ(bound2->port(), bound->port());
  close(*first);
  close(*second);
}

}  // namespace
}  // namespace hoody::net
