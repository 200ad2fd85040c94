// SPDX-License-Identifier: Apache-2.0
// Addresses: every CIDR and address in a policy has one canonical meaning.
//
// hoody::net::parseCidr and parseAddress decide validity. This check explains
// a failure in terms of the entry (leading zeros, hex, short forms, ...),
// because tools disagree on what such spellings mean: `010` is 10 to some
// parsers and 8 to glibc's inet_aton. IPv6 spellings other than the RFC 5952
// form are unambiguous, so they only get a warning with that form. Within one
// list, entries with host bits set and overlapping entries get warnings,
// because lowering would otherwise normalize and merge them silently. Host
// bits set in an allow-list (`ip` conditions, firewall rules) of a
// `production` project are an error, because a typo such as `10.1.2.3/8`
// would silently widen it to `10.0.0.0/8`.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "compiler/sema/address_check.h"
#include "compiler/sema/checker.h"
#include "runtime/abi/address.h"

namespace hoody::sema {
namespace {

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Explains why an IPv4 text is not in canonical dotted decimal.
std::string explainIpv4(std::string_view text) {
  if (text.empty()) return "the address is empty";
  if (text.back() == '.') return "it ends with a dot";
  std::vector<std::string_view> parts;
  std::string_view rest = text;
  while (true) {
    size_t dot = rest.find('.');
    parts.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  for (std::string_view part : parts) {
    if (part.empty()) return "it has an empty octet";
    if (part.size() > 1 && (part[1] == 'x' || part[1] == 'X') && part[0] == '0') {
      return fmt::format("octet `{}` is hexadecimal", part);
    }
    if (!allDigits(part)) return fmt::format("octet `{}` is not a decimal number", part);
    if (part.size() > 1 && part[0] == '0') {
      return fmt::format("octet `{}` has a leading zero, which some tools read as octal", part);
    }
    if (part.size() > 3 || std::stoul(std::string(part)) > 255) {
      return fmt::format("octet `{}` is larger than 255", part);
    }
  }
  if (parts.size() < 4) {
    return fmt::format("it is a short form with {} parts; write all four octets", parts.size());
  }
  if (parts.size() > 4) return fmt::format("it has {} parts; an IPv4 address has 4", parts.size());
  return "it is not an IPv4 address in dotted decimal";
}

std::string explainAddress(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    return "it is not a valid IPv6 address";
  }
  return explainIpv4(text);
}

std::string addressHelp(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    return "write IPv6 addresses as in RFC 5952, e.g. `2001:db8::1`";
  }
  return "write four decimal octets 0..255 without leading zeros, e.g. `192.0.2.10`";
}

// Rewrites an IPv4-mapped CIDR (`::ffff:a.b.c.d/p`, p >= 96) to its IPv4
// form; returns an empty string when the prefix does not cover the mapped
// block.
std::string ipv4FormOfMapped(std::string_view text) {
  std::string_view address = text.substr(0, text.find('/'));
  auto parsed = net::parseAddress(address);
  if (!parsed || !parsed->is_v4) return {};
  int prefix = 128;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (!allDigits(p) || p.size() > 3) return {};
    prefix = std::stoi(std::string(p));
  }
  if (prefix < 96 || prefix > 128) return {};
  net::Cidr cidr;
  cidr.network = *parsed;
  cidr.prefix = prefix - 96;
  uint32_t mask = cidr.prefix == 0 ? 0 : (~0u << (32 - cidr.prefix));
  cidr.network.v4 &= mask;
  return net::formatCidr(cidr);
}

// Returns the entry's text in canonical form, or an empty string when it is
// already canonical or not IPv6. Only the address part is rewritten, because
// the prefix length was parsed strictly and is kept as written.
std::string canonicalIpv6Spelling(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  if (address.find(':') == std::string_view::npos) return {};
  auto parsed = net::parseAddress(address);
  if (!parsed) return {};
  std::string canonical;
  if (parsed->is_v4) {
    canonical = "::ffff:" + net::formatAddress(*parsed);  // IPv4-mapped.
  } else {
    canonical = formatIpv6Canonical(parsed->v6, address.find('.') != std::string_view::npos);
  }
  if (canonical == address) return {};
  if (slash != std::string_view::npos) canonical += text.substr(slash);
  return canonical;
}

void reportNonCanonicalIpv6(Context& ctx, const ast::Word& entry) {
  std::string canonical = canonicalIpv6Spelling(entry.text);
  if (canonical.empty()) return;
  ctx.sink.warning("non-canonical-ipv6", entry.span,
                   fmt::format("{} is not in the canonical form of RFC 5952, {}",
                               diag::quote(entry.text), diag::quote(canonical)),
                   "write `" + canonical + "`");
}

// A CIDR with host bits cleared, IPv6 in RFC 5952 form.
std::string formatNormalizedCidr(const net::Cidr& cidr) {
  if (cidr.network.is_v4) return net::formatCidr(cidr);
  return formatIpv6Canonical(cidr.network.v6, false) + "/" + std::to_string(cidr.prefix);
}

struct Range {
  bool v4 = true;
  ir::U128 first;
  ir::U128 last;
};

Range rangeOf(const net::Cidr& cidr) {
  Range r;
  r.v4 = cidr.network.is_v4;
  if (r.v4) {
    uint32_t mask = cidr.prefix == 0 ? 0 : (~0u << (32 - cidr.prefix));
    r.first = {0, cidr.network.v4};
    r.last = {0, cidr.network.v4 | ~mask};
    return r;
  }
  r.first = cidr.network.v6;
  r.last = cidr.network.v6;
  int host_bits = 128 - cidr.prefix;
  if (host_bits >= 64) {
    r.last.lo = ~0ull;
    r.last.hi |= host_bits == 128 ? ~0ull : ((1ull << (host_bits - 64)) - 1);
  } else if (host_bits > 0) {
    r.last.lo |= (1ull << host_bits) - 1;
  }
  return r;
}

struct ValidEntry {
  const ast::Word* word;
  size_t position;
  Range range;
};

// Warns once per entry that overlaps an entry earlier in the list.
void reportOverlaps(Context& ctx, std::vector<ValidEntry> entries) {
  std::sort(entries.begin(), entries.end(), [](const ValidEntry& a, const ValidEntry& b) {
    if (a.range.v4 != b.range.v4) return a.range.v4;
    if (a.range.first != b.range.first) return a.range.first < b.range.first;
    return a.range.last > b.range.last;
  });
  const ValidEntry* widest = nullptr;
  for (const ValidEntry& e : entries) {
    if (widest != nullptr && widest->range.v4 == e.range.v4 && e.range.first <= widest->range.last) {
      const ValidEntry& later = e.position > widest->position ? e : *widest;
      const ValidEntry& earlier = e.position > widest->position ? *widest : e;
      bool same = e.range.first == widest->range.first && e.range.last == widest->range.last;
      std::string message;
      if (!same) {
        message = fmt::format("{} overlaps {} in the same list; the entries are merged",
                              diag::quote(later.word->text), diag::quote(earlier.word->text));
      } else if (later.word->text == earlier.word->text) {
        message = fmt::format("{} is listed twice; the entries are merged",
                              diag::quote(later.word->text));
      } else {
        message = fmt::format("{} is listed twice (also as {}); the entries are merged",
                              diag::quote(later.word->text), diag::quote(earlier.word->text));
      }
      ctx.sink.warning("overlapping-cidr", later.word->span, message, "remove the redundant entry");
    }
    if (widest == nullptr || widest->range.v4 != e.range.v4 || e.range.last > widest->range.last) {
      widest = &e;
    }
  }
}

}  // namespace

std::string formatIpv6Canonical(const ir::U128& address, bool dotted_ipv4) {
  uint16_t groups[8];
  for (int i = 0; i < 4; ++i) {
    groups[i] = static_cast<uint16_t>(address.hi >> (48 - 16 * i));
    groups[4 + i] = static_cast<uint16_t>(address.lo >> (48 - 16 * i));
  }
  int count = dotted_ipv4 ? 6 : 8;
  // Find the longest run of at least two zero groups (the first one on a
  // tie), which RFC 5952 writes as `::`.
  int best = -1;
  int best_length = 1;
  for (int i = 0; i < count;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int end = i;
    while (end < count && groups[end] == 0) ++end;
    if (end - i > best_length) {
      best = i;
      best_length = end - i;
    }
    i = end;
  }
  std::string out;
  for (int i = 0; i < count;) {
    if (i == best) {
      out += "::";
      i += best_length;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", groups[i]);
    ++i;
  }
  if (dotted_ipv4) {
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{}.{}.{}.{}", groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8,
                       groups[7] & 0xff);
  }
  return out;
}

bool checkCidrEntry(Context& ctx, const ast::Word& entry, bool host_bits_are_errors) {
  auto cidr = net::parseCidr(entry.text);
  if (cidr) {
    if (!cidr->host_bits_set) {
      reportNonCanonicalIpv6(ctx, entry);
      return true;
    }
    std::string normalized = formatNormalizedCidr(*cidr);
    std::string single = entry.text.substr(0, entry.text.find('/'));
    std::string single_help = cidr->network.is_v4 ? single + "/32" : single + "/128";
    std::string message = fmt::format("{} has host bits set; it means {}",
                                      diag::quote(entry.text), diag::quote(normalized));
    std::string help = "write `" + normalized + "`, or `" + single_help +
                       "` if only that address is meant";
    if (host_bits_are_errors) {
      ctx.sink.error("cidr-host-bits", entry.span, message + " under profile `production`", help);
    } else {
      ctx.sink.warning("cidr-host-bits", entry.span, message, help);
    }
    return true;
  }
  const std::string& code = cidr.error().code;
  std::string_view text = entry.text;
  size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  if (code == "invalid-prefix") {
    bool v6 = address.find(':') != std::string_view::npos;
    std::string prefix(slash == std::string_view::npos ? "" : text.substr(slash + 1));
    std::string message =
        prefix.empty()
            ? fmt::format("{} has an empty prefix length", diag::quote(text))
            : fmt::format("{} has prefix length {}; expected a decimal 0..{}", diag::quote(text),
                          diag::quote(prefix), v6 ? 128 : 32);
    std::string help = v6 ? fmt::format("write a prefix between 0 and 128, e.g. `{}/64`", address)
                          : fmt::format("write a prefix between 0 and 32, e.g. `{}/24`", address);
    ctx.sink.error("invalid-cidr", entry.span, message, help);
  } else if (code == "mapped-address") {
    std::string ipv4 = ipv4FormOfMapped(text);
    std::string help = ipv4.empty() ? "write the IPv4 address or CIDR instead"
                                    : "write the IPv4 form `" + ipv4 + "` instead";
    if (ipv4 == "0.0.0.0/0") help += ", if every IPv4 address is really meant";
    ctx.sink.error("invalid-cidr", entry.span,
                   fmt::format("{} is an IPv4-mapped IPv6 form", diag::quote(text)), help);
  } else {
    ctx.sink.error("invalid-cidr", entry.span,
                   fmt::format("{} is not a valid CIDR: {}", diag::quote(text),
                               explainAddress(address)),
                   addressHelp(address));
  }
  return false;
}

void checkCidrList(Context& ctx, const std::vector<ast::Word>& entries,
                   bool host_bits_are_errors) {
  std::vector<ValidEntry> valid;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!checkCidrEntry(ctx, entries[i], host_bits_are_errors)) continue;
    auto cidr = net::parseCidr(entries[i].text);
    valid.push_back({&entries[i], i, rangeOf(*cidr)});
  }
  reportOverlaps(ctx, std::move(valid));
}

bool checkAddressEntry(Context& ctx, const ast::Word& entry, bool allow_mapped) {
  auto parsed = net::parseAddress(entry.text);
  if (parsed) {
    // parseAddress turns `::ffff:a.b.c.d` into IPv4. Configuration must name
    // the family it means, so the mapped form is rejected here.
    bool mapped = parsed->is_v4 && entry.text.find(':') != std::string::npos;
    if (mapped && !allow_mapped) {
      ctx.sink.error("invalid-address", entry.span,
                     fmt::format("{} is an IPv4-mapped IPv6 form", diag::quote(entry.text)),
                     "write the IPv4 address `" + net::formatAddress(*parsed) + "` instead");
      return false;
    }
    reportNonCanonicalIpv6(ctx, entry);
    return true;
  }
  std::string extra;
  if (entry.text.find('/') != std::string::npos) {
    extra = "; a single address is expected here, not a CIDR";
  }
  ctx.sink.error("invalid-address", entry.span,
                 fmt::format("{} is not a valid address: {}{}", diag::quote(entry.text),
                             explainAddress(entry.text), extra),
                 addressHelp(entry.text));
  return false;
}

CoveredFamilies coveredFamilies(const std::vector<ast::Word>& entries) {
  ir::IpSet set;
  for (const ast::Word& entry : entries) {
    if (auto cidr = net::parseCidr(entry.text)) net::addToSet(set, *cidr);
  }
  CoveredFamilies covered;
  covered.every_ipv4 = set.v4.size() == 1 && set.v4[0].first == 0 && set.v4[0].last == UINT32_MAX;
  covered.every_ipv6 = set.v6.size() == 1 && set.v6[0].first == ir::U128{0, 0} &&
                       set.v6[0].last == ir::U128{~0ull, ~0ull};
  return covered;
}

bool restrictsClientAddresses(const ast::GroupBody& body) {
  return body.hasIp() && !coveredFamilies(body.ip).any();
}

bool restrictsClientAddresses(const ast::GroupBody& body, const CoveredFamilies& covered) {
  return body.hasIp() && !covered.any();
}

std::string coveredFamiliesPhrase(const CoveredFamilies& covered) {
  if (covered.every_ipv4 && covered.every_ipv6) return "every address";
  return covered.every_ipv4 ? "every IPv4 address" : "every IPv6 address";
}

void checkAddresses(Context& ctx) {
  // Group bodies that some block of a `production` project uses: its own
  // definitions and the realm-level groups it references.
  std::set<const ast::GroupBody*> production_groups;
  forEachBlock(ctx, [&](const BlockSite& site) {
    if (ctx.scope.profileLevel(*site.realm, *site.project) != ProfileLevel::Production) return;
    for (const ResolvedGroup& g : ctx.scope.resolveGroups(*site.realm, *site.block)) {
      if (g.body != nullptr) production_groups.insert(g.body);
    }
  });
  forEachGroupBody(ctx, [&](const GroupSite& site) {
    checkCidrList(ctx, site.body->ip, production_groups.count(site.body) > 0);
  });
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Provider& p : realm.realm->providers) {
      if (p.wireguard) checkCidrList(ctx, p.wireguard->addresses);
    }
  }
  forEachContainer(ctx, [&](const ContainerSite& site) {
    const ast::Container& c = *site.container;
    bool production =
        ctx.scope.profileLevel(*site.realm, *site.project) == ProfileLevel::Production;
    if (c.firewall) {
      for (const ast::FirewallRule& rule : c.firewall->rules) {
        checkCidrList(ctx, rule.addresses, production);
      }
    }
    if (c.network) {
      for (const ast::Word& dns : c.network->dns) checkAddressEntry(ctx, dns, false);
      for (const ast::Exit& exit : c.network->exits) {
        if (exit.kind == ast::Exit::Kind::Wireguard) checkCidrList(ctx, exit.wireguard.addresses);
      }
    }
  });
  for (const RealmScope& realm : ctx.scope.realms()) {
    for (const ast::Project& project : realm.realm->projects) {
      for (const ast::PolicyTest& test : project.tests) {
        // A test may present a client as IPv4-mapped IPv6, as a dual-stack
        // socket reports it; the proxy matches it as IPv4.
        for (const ast::TestRequest& r : test.requests) checkAddressEntry(ctx, r.client, true);
      }
    }
  }
}

}  // namespace hoody::sema
