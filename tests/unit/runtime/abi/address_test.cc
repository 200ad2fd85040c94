// SPDX-License-Identifier: Apache-2.0
// Tests for strict address and CIDR parsing and IP sets.
#include "runtime/abi/address.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace hoody::net {
namespace {

std::string errorCode(std::string_view text) {
  auto r = parseCidr(text);
  return r ? "" : r.error().code;
}

TEST(AddressTest, ParsesCanonicalIpv4) {
  auto a = parseAddress("203.0.113.10");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4);
  EXPECT_EQ(a->v4, 0xCB00710Au);
}

TEST(AddressTest, RejectsNonCanonicalIpv4) {
  for (const char* text : {"203.0.113.010", "0203.0.113.53", "0xCB.0.113.10", "203.0.29450",
                           "203.0.113.10.", "203.0.113.1e1", "256.1.1.1", " 1.2.3.4", "1.2.3",
                           "1.2.3.4.5", "", "1..2.3", "+1.2.3.4"}) {
    EXPECT_FALSE(parseAddress(text)) << text;
  }
}

TEST(AddressTest, UnmapsMappedIpv6) {
  auto a = parseAddress("::ffff:192.0.2.10");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4);
  EXPECT_EQ(formatAddress(*a), "192.0.2.10");
}

TEST(AddressTest, RejectsMappedIpv6WithLeadingZeros) {
  EXPECT_FALSE(parseAddress("::ffff:192.0.2.010"));
}

TEST(AddressTest, ParsesIpv6) {
  auto a = parseAddress("2001:db8::5");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->is_v4);
  EXPECT_EQ(formatAddress(*a), "2001:db8::5");
}

TEST(CidrTest, RejectsMalformedPrefixes) {
  for (const char* text : {"192.0.2.0/", "192.0.2.0/ 24", "192.0.2.0/0x18", "192.0.2.0/24e0",
                           "192.0.2.0/+24", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/24/8",
                           "2001:db8::/129", "192.0.2.0/024"}) {
    EXPECT_EQ(errorCode(text), "invalid-prefix") << text;
  }
}

TEST(CidrTest, RejectsMappedForms) {
  EXPECT_EQ(errorCode("::ffff:192.0.2.0/120"), "mapped-address");
  EXPECT_EQ(errorCode("::ffff:0:0/96"), "mapped-address");
}

TEST(CidrTest, NormalizesHostBits) {
  auto c = parseCidr("192.0.2.77/24");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->host_bits_set);
  EXPECT_EQ(formatCidr(*c), "192.0.2.0/24");
}

TEST(CidrTest, BareAddressIsHostRoute) {
  auto c = parseCidr("2001:db8::1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix, 128);
  EXPECT_FALSE(c->host_bits_set);
}

TEST(IpSetTest, MergesOverlapsAndDuplicates) {
  ir::IpSet set;
  EXPECT_FALSE(addToSet(set, *parseCidr("192.0.2.0/24")));
  EXPECT_TRUE(addToSet(set, *parseCidr("192.0.2.128/25")));
  EXPECT_TRUE(addToSet(set, *parseCidr("192.0.2.7")));
  EXPECT_TRUE(addToSet(set, *parseCidr("192.0.2.0/24")));
  ASSERT_EQ(set.v4.size(), 1u);
  EXPECT_EQ(set.v4[0].first, 0xC0000200u);
  EXPECT_EQ(set.v4[0].last, 0xC00002FFu);
}

TEST(IpSetTest, MergesAdjacentAndKeepsGaps) {
  ir::IpSet set;
  addToSet(set, *parseCidr("10.0.0.0/25"));
  addToSet(set, *parseCidr("10.0.2.0/24"));
  addToSet(set, *parseCidr("10.0.0.128/25"));
  ASSERT_EQ(set.v4.size(), 2u);
  EXPECT_EQ(set.v4[0].last, 0x0A0000FFu);
  EXPECT_EQ(set.v4[1].first, 0x0A000200u);
}

TEST(IpSetTest, ContainsEdgesOfBothFamilies) {
  ir::IpSet set;
  addToSet(set, *parseCidr("192.0.2.0/24"));
  addToSet(set, *parseCidr("2001:db8::/32"));
  addToSet(set, *parseCidr("2001:db8:1::/48"));
  EXPECT_EQ(set.v6.size(), 1u);
  EXPECT_TRUE(setContains(set, *parseAddress("192.0.2.0")));
  EXPECT_TRUE(setContains(set, *parseAddress("192.0.2.255")));
  EXPECT_FALSE(setContains(set, *parseAddress("192.0.3.0")));
  EXPECT_FALSE(setContains(set, *parseAddress("192.0.1.255")));
  EXPECT_TRUE(setContains(set, *parseAddress("::ffff:192.0.2.10")));
  EXPECT_TRUE(setContains(set, *parseAddress("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(setContains(set, *parseAddress("2001:db9::")));
}

TEST(IpSetTest, WholeSpaceRanges) {
  ir::IpSet set;
  addToSet(set, *parseCidr("0.0.0.0/0"));
  addToSet(set, *parseCidr("::/0"));
  EXPECT_TRUE(setContains(set, *parseAddress("255.255.255.255")));
  EXPECT_TRUE(setContains(set, *parseAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_TRUE(setContains(set, *parseAddress("::")));
}

TEST(IpSetTest, InsertionOrderDoesNotMatter) {
  // Blocks of 10.x.y.0/24 and 10.x.y.0/25, some adjacent, in a fixed
  // shuffled order; the set must equal a per-/25 reference.
  std::vector<Cidr> blocks;
  std::vector<bool> covered(512, false);  // Half-blocks 10.0.0.0/25 .. 10.0.255.128/25.
  for (uint32_t i = 0; i < 256; ++i) {
    if (i % 3 == 0) continue;
    bool half = i % 7 == 0;
    blocks.push_back(*parseCidr(fmt::format("10.0.{}.0/{}", i, half ? 25 : 24)));
    covered[2 * i] = true;
    covered[2 * i + 1] = !half;
  }
  std::mt19937 random(7);
  std::shuffle(blocks.begin(), blocks.end(), random);
  ir::IpSet shuffled;
  for (const Cidr& c : blocks) addToSet(shuffled, c);

  ir::IpSet reference;
  for (uint32_t h = 0; h < covered.size();) {
    if (!covered[h]) {
      ++h;
      continue;
    }
    uint32_t end = h;
    while (end + 1 < covered.size() && covered[end + 1]) ++end;
    reference.v4.push_back({0x0A000000u + h * 128, 0x0A000000u + end * 128 + 127});
    h = end + 1;
  }
  EXPECT_EQ(shuffled.v4, reference.v4);

  // One wide block swallows every range.
  EXPECT_TRUE(addToSet(shuffled, *parseCidr("10.0.0.0/16")));
  ASSERT_EQ(shuffled.v4.size(), 1u);
  EXPECT_EQ(shuffled.v4[0].first, 0x0A000000u);
  EXPECT_EQ(shuffled.v4[0].last, 0x0A00FFFFu);
}

}  // namespace
}  // namespace hoody::net
