// SPDX-License-Identifier: Apache-2.0
// A small model of the nftables rules hoody emits, rendered both as nft
// text and as libnftables JSON.
//
// The back end builds every rule once in this model, so the two renderings
// cannot drift apart: loading either one gives the kernel the same table.
// Only the expressions hoody needs are modelled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/abi/decision_ir.h"

namespace hoody::nft {

/// One right-hand value of a match, in both renderings.
struct Value {
  std::string text;  ///< nft syntax.
  std::string json;  ///< Serialized libnftables JSON.
};

/// Returns `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

Value symbolValue(std::string symbol);
Value numberValue(uint32_t number);
/// A quoted string, such as an interface name.
Value stringValue(const std::string& text);
/// A port or an inclusive port range.
Value portValue(uint16_t first, uint16_t last);
/// An inclusive IPv4 range, written as an address, a prefix or a range.
Value addressValue(const ir::V4Range& range);
Value addressValue(const ir::V6Range& range);
Value addressValue(const ir::IpAddress& address);

/// The packet fields hoody matches on.
enum class Field : uint8_t {
  NfProto,
  L4Proto,
  IpSaddr,
  IpDaddr,
  Ip6Saddr,
  Ip6Daddr,
  Ip6Hoplimit,
  TcpDport,
  UdpDport,
  Icmpv6Type,
  CtState,
  Iifname,
  Oifname,
};

struct Match {
  Field field = Field::NfProto;
  bool negated = false;
  std::vector<Value> values;  ///< One value, or an anonymous set of several.
};

enum class Verdict : uint8_t { Accept, Drop, Return, Vmap };

struct Rule {
  std::vector<Match> matches;
  Verdict verdict = Verdict::Drop;
  Field vmap_key = Field::Iifname;  ///< For Vmap: the lookup key.
  std::string vmap_name;            ///< For Vmap: the verdict map.
  std::string comment;              ///< Empty: none.
};

Rule makeRule(std::vector<Match> matches, Verdict verdict, std::string comment = "");

/// Renders `rule` as one line of nft text, without indentation.
std::string ruleText(const Rule& rule, bool with_comment = true);

/// Renders `rule` as a serialized libnftables JSON `rule` object of `chain`
/// in table `inet table`. Written by hand instead of through a JSON
/// library: a table for 10 000 containers has about 100 000 rules.
std::string ruleJson(const Rule& rule, std::string_view table, std::string_view chain);

/// Comments carry at most this many bytes of a label or origin, which
/// leaves room for a digest within the 128 bytes libnftables 1.0.6 accepts.
inline constexpr size_t kMaxLabelBytes = 100;

/// Returns `text` as it can appear in an nft comment: characters other than
/// letters, digits and `/._:@+=-` and space become `_`, and long text keeps
/// its last `max_size` bytes.
std::string commentText(const std::string& text, size_t max_size);

}  // namespace hoody::nft
