// SPDX-License-Identifier: Apache-2.0
// Text and JSON renderings of the nftables rule model.
#include "compiler/backend/nft/rule_model.h"

#include <fmt/format.h>

#include <cctype>

#include "runtime/abi/address.h"

namespace hoody::nft {
namespace {

struct FieldNames {
  const char* text;      ///< As written in nft rules.
  const char* kind;      ///< JSON expression: `meta`, `payload` or `ct`.
  const char* protocol;  ///< JSON payload protocol; null for meta and ct.
  const char* key;       ///< JSON meta/ct key or payload field.
};

FieldNames namesOf(Field field) {
  switch (field) {
    case Field::NfProto: return {"meta nfproto", "meta", nullptr, "nfproto"};
    case Field::L4Proto: return {"meta l4proto", "meta", nullptr, "l4proto"};
    case Field::IpSaddr: return {"ip saddr", "payload", "ip", "saddr"};
    case Field::IpDaddr: return {"ip daddr", "payload", "ip", "daddr"};
    case Field::Ip6Saddr: return {"ip6 saddr", "payload", "ip6", "saddr"};
    case Field::Ip6Daddr: return {"ip6 daddr", "payload", "ip6", "daddr"};
    case Field::Ip6Hoplimit: return {"ip6 hoplimit", "payload", "ip6", "hoplimit"};
    case Field::TcpDport: return {"tcp dport", "payload", "tcp", "dport"};
    case Field::UdpDport: return {"udp dport", "payload", "udp", "dport"};
    case Field::Icmpv6Type: return {"icmpv6 type", "payload", "icmpv6", "type"};
    case Field::CtState: return {"ct state", "ct", nullptr, "state"};
    case Field::Iifname: return {"iifname", "meta", nullptr, "iifname"};
    case Field::Oifname: return {"oifname", "meta", nullptr, "oifname"};
  }
  return {"", "", nullptr, ""};
}

std::string fieldJson(Field field) {
  FieldNames names = namesOf(field);
  if (names.protocol != nullptr) {
    return fmt::format(R"({{"payload":{{"protocol":"{}","field":"{}"}}}})", names.protocol,
                       names.key);
  }
  return fmt::format(R"({{"{}":{{"key":"{}"}}}})", names.kind, names.key);
}

std::string joinJson(const std::vector<Value>& values) {
  std::string out;
  for (const Value& v : values) {
    if (!out.empty()) out += ',';
    out += v.json;
  }
  return out;
}

const char* verdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::Accept: return "accept";
    case Verdict::Drop: return "drop";
    case Verdict::Return: return "return";
    case Verdict::Vmap: return "vmap";
  }
  return "";
}

std::string matchText(const Match& match) {
  std::string out = namesOf(match.field).text;
  out += match.negated ? " != " : " ";
  // Connection tracking states are flags, written as a comma list.
  if (match.field == Field::CtState) {
    for (size_t i = 0; i < match.values.size(); ++i) {
      if (i > 0) out += ",";
      out += match.values[i].text;
    }
    return out;
  }
  if (match.values.size() == 1) return out + match.values.front().text;
  out += "{ ";
  for (size_t i = 0; i < match.values.size(); ++i) {
    if (i > 0) out += ", ";
    out += match.values[i].text;
  }
  return out + " }";
}

// Mirrors what libnftables 1.0.6 lists for the text form: flag matches use
// the `in` operator, and a single value is never wrapped in a set.
std::string matchJson(const Match& match) {
  std::string op = match.negated ? "!=" : "==";
  std::string right;
  if (match.values.size() == 1) {
    right = match.values.front().json;
  } else if (match.field == Field::CtState) {
    right = "[" + joinJson(match.values) + "]";
  } else {
    right = R"({"set":[)" + joinJson(match.values) + "]}";
  }
  if (match.field == Field::CtState) op = "in";
  return fmt::format(R"({{"match":{{"op":"{}","left":{},"right":{}}}}})", op,
                     fieldJson(match.field), right);
}

// Returns the prefix length when [first, last] is one CIDR block of an
// address `bits` wide, else -1.
int prefixLength(unsigned __int128 first, unsigned __int128 last, int bits) {
  unsigned __int128 size = last - first + 1;  // Zero when the range is the whole space.
  if (size == 0) return 0;
  if ((size & (size - 1)) != 0 || (first & (size - 1)) != 0) return -1;
  int host_bits = 0;
  while ((static_cast<unsigned __int128>(1) << host_bits) != size) ++host_bits;
  return bits - host_bits;
}

unsigned __int128 wide(const ir::U128& v) {
  return (static_cast<unsigned __int128>(v.hi) << 64) | v.lo;
}

Value rangeValue(const ir::IpAddress& first, const ir::IpAddress& last, int prefix) {
  std::string a = net::formatAddress(first);
  int bits = first.is_v4 ? 32 : 128;
  if (prefix == bits) return {a, jsonString(a)};
  if (prefix >= 0) {
    return {fmt::format("{}/{}", a, prefix),
            fmt::format(R"({{"prefix":{{"addr":"{}","len":{}}}}})", a, prefix)};
  }
  std::string b = net::formatAddress(last);
  return {fmt::format("{}-{}", a, b), fmt::format(R"({{"range":["{}","{}"]}})", a, b)};
}

}  // namespace

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Value symbolValue(std::string symbol) {
  std::string json = jsonString(symbol);
  return {std::move(symbol), std::move(json)};
}

Value numberValue(uint32_t number) { return {std::to_string(number), std::to_string(number)}; }

Value stringValue(const std::string& text) { return {"\"" + text + "\"", jsonString(text)}; }

Value portValue(uint16_t first, uint16_t last) {
  if (first == last) return numberValue(first);
  return {fmt::format("{}-{}", first, last), fmt::format(R"({{"range":[{},{}]}})", first, last)};
}

Value addressValue(const ir::V4Range& range) {
  ir::IpAddress first{true, range.first, {}};
  ir::IpAddress last{true, range.last, {}};
  return rangeValue(first, last, prefixLength(range.first, range.last, 32));
}

Value addressValue(const ir::V6Range& range) {
  ir::IpAddress first{false, 0, range.first};
  ir::IpAddress last{false, 0, range.last};
  return rangeValue(first, last, prefixLength(wide(range.first), wide(range.last), 128));
}

Value addressValue(const ir::IpAddress& address) {
  std::string text = net::formatAddress(address);
  return {text, jsonString(text)};
}

Rule makeRule(std::vector<Match> matches, Verdict verdict, std::string comment) {
  Rule rule;
  rule.matches = std::move(matches);
  rule.verdict = verdict;
  rule.comment = std::move(comment);
  return rule;
}

std::string ruleText(const Rule& rule, bool with_comment) {
  std::string out;
  for (const Match& m : rule.matches) {
    out += matchText(m);
    out += ' ';
  }
  if (rule.verdict == Verdict::Vmap) {
    out += fmt::format("{} vmap @{}", namesOf(rule.vmap_key).text, rule.vmap_name);
  } else {
    out += verdictName(rule.verdict);
  }
  if (with_comment && !rule.comment.empty()) out += fmt::format(" comment \"{}\"", rule.comment);
  return out;
}

std::string ruleJson(const Rule& rule, std::string_view table, std::string_view chain) {
  std::string expr;
  for (const Match& m : rule.matches) {
    expr += matchJson(m);
    expr += ',';
  }
  if (rule.verdict == Verdict::Vmap) {
    expr += fmt::format(R"({{"vmap":{{"key":{},"data":"@{}"}}}})", fieldJson(rule.vmap_key),
                        rule.vmap_name);
  } else {
    expr += fmt::format(R"({{"{}":null}})", verdictName(rule.verdict));
  }
  std::string comment;
  if (!rule.comment.empty()) comment = R"(,"comment":)" + jsonString(rule.comment);
  return fmt::format(R"({{"rule":{{"family":"inet","table":{},"chain":{},"expr":[{}]{}}}}})",
                     jsonString(table), jsonString(chain), expr, comment);
}

std::string commentText(const std::string& text, size_t max_size) {
  std::string out = text.size() > max_size ? text.substr(text.size() - max_size) : text;
  for (char& c : out) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                 std::string_view("/._:@+=- ").find(c) != std::string_view::npos;
    if (!plain) c = '_';
  }
  return out;
}

}  // namespace hoody::nft
