// SPDX-License-Identifier: Apache-2.0
// Tests of address checks: invalid-cidr, invalid-address, cidr-host-bits,
// overlapping-cidr and non-canonical-ipv6, including the non-canonical
// spellings that tools read differently.
#include "tests/unit/compiler/frontend_fixture.h"

namespace hoody::testing {
namespace {

driver::FrontEndOutput checkIpList(const std::string& list) {
  return check(inProject("permissions { default deny\n group ops { ip " + list +
                         "; allow terminal } }\n" + container("a", kContainerA)));
}

TEST(CheckAddressesTest, PrefixOutOfRange) {
  auto out = checkIpList("192.0.2.0/33");
  const auto& d = only(out, "invalid-cidr");
  EXPECT_EQ(d.message, "`192.0.2.0/33` has prefix length `33`; expected a decimal 0..32");
  EXPECT_EQ(d.help, "write a prefix between 0 and 32, e.g. `192.0.2.0/24`");
  EXPECT_EQ(d.span.line, 4);
  EXPECT_EQ(d.span.column, 17);
  EXPECT_EQ(d.span.end_column, 29);
}

TEST(CheckAddressesTest, EveryMalformedPrefixIsAnError) {
  const char* entries[] = {"192.0.2.0/",  "192.0.2.0/024", "192.0.2.0/-1", "192.0.2.0/+8",
                           "192.0.2.0/8x", "192.0.2.0/1/2", "2001:db8::/129", "2001:db8::/"};
  for (const char* entry : entries) {
    auto out = checkIpList(entry);
    EXPECT_EQ(countCode(out, "invalid-cidr"), 1u) << entry << "\n" << rendered(out);
    EXPECT_FALSE(out.ok) << entry;
  }
}

TEST(CheckAddressesTest, EmptyPrefixIsNeverSlashZero) {
  auto out = checkIpList("192.0.2.0/");
  EXPECT_EQ(only(out, "invalid-cidr").message, "`192.0.2.0/` has an empty prefix length");
}

TEST(CheckAddressesTest, NonCanonicalIpv4IsRejected) {
  struct Case {
    const char* entry;
    const char* reason;
  };
  const Case cases[] = {
      {"203.0.113.010/32", "octet `010` has a leading zero, which some tools read as octal"},
      {"0203.0.113.53", "octet `0203` has a leading zero, which some tools read as octal"},
      {"0xCB.0.113.10", "octet `0xCB` is hexadecimal"},
      {"203.0.29450", "octet `29450` is larger than 255"},
      {"203.0.113", "it is a short form with 3 parts; write all four octets"},
      {"203.0.113.10.", "it ends with a dot"},
      {"203.0.113.1e1", "octet `1e1` is not a decimal number"},
      {"1.2.3.4.5", "it has 5 parts; an IPv4 address has 4"},
      {"256.0.0.1", "octet `256` is larger than 255"},
  };
  for (const Case& c : cases) {
    auto out = checkIpList(c.entry);
    const auto& d = only(out, "invalid-cidr");
    std::string address = std::string(c.entry).substr(0, std::string(c.entry).find('/'));
    EXPECT_EQ(d.message, "`" + std::string(c.entry) + "` is not a valid CIDR: " + c.reason);
    EXPECT_FALSE(out.ok);
  }
}

TEST(CheckAddressesTest, MappedCidrsAreRejectedWithIpv4Form) {
  auto out = checkIpList("::ffff:192.0.2.0/120");
  const auto& d = only(out, "invalid-cidr");
  EXPECT_EQ(d.message, "`::ffff:192.0.2.0/120` is an IPv4-mapped IPv6 form");
  EXPECT_EQ(d.help, "write the IPv4 form `192.0.2.0/24` instead");
}

TEST(CheckAddressesTest, MappedWholeRangeIsRejected) {
  auto out = checkIpList("::ffff:0:0/96");
  const auto& d = only(out, "invalid-cidr");
  EXPECT_EQ(d.help, "write the IPv4 form `0.0.0.0/0` instead, if every IPv4 address is really meant");
  EXPECT_FALSE(out.ok);
}

TEST(CheckAddressesTest, InvalidIpv6) {
  auto out = checkIpList("2001:db8:::1/64");
  EXPECT_EQ(only(out, "invalid-cidr").message,
            "`2001:db8:::1/64` is not a valid CIDR: it is not a valid IPv6 address");
}

TEST(CheckAddressesTest, HostBitsWarnWithNormalizedForm) {
  auto out = checkIpList("192.0.2.7/24, 2001:db8::1/32");
  auto warnings = withCode(out, "cidr-host-bits");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0]->severity, diag::Severity::Warning);
  EXPECT_EQ(warnings[0]->message, "`192.0.2.7/24` has host bits set; it means `192.0.2.0/24`");
  EXPECT_EQ(warnings[0]->help, "write `192.0.2.0/24`, or `192.0.2.7/32` if only that address is "
                               "meant");
  EXPECT_EQ(warnings[1]->message, "`2001:db8::1/32` has host bits set; it means `2001:db8::/32`");
  EXPECT_EQ(warnings[1]->help, "write `2001:db8::/32`, or `2001:db8::1/128` if only that address "
                               "is meant");
  EXPECT_TRUE(out.ok);
}

TEST(CheckAddressesTest, HostBitsAreErrorsInProductionAllowLists) {
  auto out = check(inProject("permissions { default deny\n group ops { ip 10.1.2.3/8; allow "
                             "terminal } }\n" +
                                 container("a", kContainerA,
                                           "firewall { ingress allow tcp from 2001:db8::1/32 port "
                                           "443 }"),
                             "production"));
  auto errors = withCode(out, "cidr-host-bits");
  ASSERT_EQ(errors.size(), 2u) << rendered(out);
  EXPECT_EQ(errors[0]->severity, diag::Severity::Error);
  EXPECT_EQ(errors[0]->message, "`10.1.2.3/8` has host bits set; it means `10.0.0.0/8` under "
                                "profile `production`");
  EXPECT_EQ(errors[1]->severity, diag::Severity::Error);
  EXPECT_FALSE(out.ok);
}

TEST(CheckAddressesTest, SharedGroupHostBitsFollowTheProjectsUsingIt) {
  std::string realm_group = "realm r {\n group office { ip 10.1.2.3/8; allow terminal }\n";
  std::string project = " project p id " + std::string(kProjectId) + " {\n";
  std::string rest = " permissions { default deny\n group office }\n" +
                     container("a", kContainerA) + " }\n}\n";
  auto team = check(realm_group + project + rest);
  EXPECT_EQ(only(team, "cidr-host-bits").severity, diag::Severity::Warning);
  auto production = check(realm_group + project + " profile production\n" + rest);
  EXPECT_EQ(only(production, "cidr-host-bits").severity, diag::Severity::Error);
}

TEST(CheckAddressesTest, NonCanonicalIpv6Warns) {
  struct Case {
    const char* entry;
    const char* canonical;
  };
  const Case cases[] = {
      {"2001:DB8::/32", "2001:db8::/32"},
      {"2001:0db8:0000::/48", "2001:db8::/48"},
      {"2001:db8:0:0:0:0:0:1", "2001:db8::1"},
      {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // `::` never stands for one group
      {"2001:db8:0:0:1::1", "2001:db8::1:0:0:1"},        // the longer run is compressed
      {"2001:0:0:1:0:0:1:1", "2001::1:0:0:1:1"},         // the first of equal runs
      {"0:0:0:0:0:0:0:0/0", "::/0"},
      {"64:FF9B::192.0.2.1", "64:ff9b::192.0.2.1"},
  };
  for (const Case& c : cases) {
    auto out = checkIpList(c.entry);
    const auto& d = only(out, "non-canonical-ipv6");
    EXPECT_EQ(d.severity, diag::Severity::Warning);
    EXPECT_EQ(d.message, std::string("`") + c.entry +
                             "` is not in the canonical form of RFC 5952, `" + c.canonical + "`");
    EXPECT_EQ(d.help, std::string("write `") + c.canonical + "`");
    EXPECT_TRUE(out.ok) << rendered(out);
  }
}

TEST(CheckAddressesTest, CanonicalIpv6HasNoWarning) {
  for (const char* entry : {"2001:db8::/32", "::/0", "::1", "2001:db8:0:1:1:1:1:1", "fe80::/10",
                            "2001:db8::1:0:0:1", "64:ff9b::192.0.2.1"}) {
    auto out = checkIpList(entry);
    EXPECT_EQ(countCode(out, "non-canonical-ipv6"), 0u) << entry << "\n" << rendered(out);
  }
}

TEST(CheckAddressesTest, NonCanonicalIpv6SingleAddresses) {
  auto out = check(inProject(container("a", kContainerA, "network { dns 2001:DB8::53 }")));
  EXPECT_EQ(only(out, "non-canonical-ipv6").help, "write `2001:db8::53`");
}

TEST(CheckAddressesTest, HostBitsReportOnlyTheNormalizedForm) {
  auto out = checkIpList("2001:DB8::1/32");
  EXPECT_EQ(countCode(out, "non-canonical-ipv6"), 0u);
  EXPECT_EQ(only(out, "cidr-host-bits").message,
            "`2001:DB8::1/32` has host bits set; it means `2001:db8::/32`");
}

TEST(CheckAddressesTest, SlashZeroIsValid) {
  auto out = checkIpList("0.0.0.0/0, ::/0");
  EXPECT_EQ(countCode(out, "invalid-cidr"), 0u);
  EXPECT_TRUE(out.ok) << rendered(out);
}

TEST(CheckAddressesTest, OverlapsWarnOncePerEntry) {
  auto out = checkIpList("192.0.2.0/24, 192.0.2.128/25, 192.0.2.7, 192.0.2.0/24, "
                         "2001:db8::/32, 2001:db8:1::/48, 198.51.100.0/25, 198.51.100.128/25");
  auto warnings = withCode(out, "overlapping-cidr");
  ASSERT_EQ(warnings.size(), 4u) << rendered(out);
  EXPECT_EQ(warnings[0]->message,
            "`192.0.2.128/25` overlaps `192.0.2.0/24` in the same list; the entries are merged");
  EXPECT_EQ(warnings[1]->message,
            "`192.0.2.7` overlaps `192.0.2.0/24` in the same list; the entries are merged");
  EXPECT_EQ(warnings[2]->message,
            "`192.0.2.0/24` is listed twice; the entries are merged");
  EXPECT_EQ(warnings[3]->message,
            "`2001:db8:1::/48` overlaps `2001:db8::/32` in the same list; the entries are merged");
  EXPECT_TRUE(out.ok);
}

TEST(CheckAddressesTest, DnsServerMustBeAnAddress) {
  auto out = check(inProject(container("a", kContainerA,
                                       "network { dns 198.51.100.053, 198.51.100.0/24, "
                                       "::ffff:198.51.100.53 }")));
  auto errors = withCode(out, "invalid-address");
  ASSERT_EQ(errors.size(), 3u) << rendered(out);
  EXPECT_EQ(errors[0]->message,
            "`198.51.100.053` is not a valid address: octet `053` has a leading zero, which some "
            "tools read as octal");
  EXPECT_NE(errors[1]->message.find("a single address is expected here, not a CIDR"),
            std::string::npos);
  EXPECT_EQ(errors[2]->message, "`::ffff:198.51.100.53` is an IPv4-mapped IPv6 form");
  EXPECT_EQ(errors[2]->help, "write the IPv4 address `198.51.100.53` instead");
}

TEST(CheckAddressesTest, FirewallAddressesAreChecked) {
  auto out = check(inProject(container(
      "a", kContainerA, "firewall { ingress allow tcp from 203.0.113.0/33 port 443 }")));
  EXPECT_EQ(countCode(out, "invalid-cidr"), 1u);
}

TEST(CheckAddressesTest, TestClientMayBeMapped) {
  auto out = check(inProject("permissions { group office { ip 192.0.2.0/24; allow terminal } }\n" +
                             container("a", kContainerA) +
                             "test \"mapped\" { request a.terminal from ::ffff:192.0.2.10 expect 200 "
                             "group office\n request a.terminal from 192.0.2.010 expect 403 }"));
  const auto& d = only(out, "invalid-address");
  EXPECT_NE(d.message.find("`192.0.2.010`"), std::string::npos);
}

}  // namespace
}  // namespace hoody::testing
