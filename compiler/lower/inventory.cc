// SPDX-License-Identifier: Apache-2.0
// Inventory parsing and joining.
#include "compiler/lower/inventory.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_map>

#include "compiler/sema/values.h"
#include "runtime/abi/address.h"

namespace hoody::lower {
namespace {

using nlohmann::json;

// Maps byte offsets of the inventory text to spans. nlohmann::json keeps no
// positions for values, so keys are found again in the text: each search
// starts at the parent key, which is exact for the files the platform writes
// (no duplicate keys, no escapes inside keys). Keys and line starts are
// indexed once, so an inventory of many containers is located in
// O(n log n), not O(n^2).
class Locator {
 public:
  Locator(const std::string& path, std::string_view text) : path_(path), text_(text) {
    line_starts_.push_back(0);
    checkpoints_.reserve(text_.size() / kCheckpointBytes + 1);
    uint32_t continuations = 0;
    for (size_t i = 0; i < text_.size(); ++i) {
      if (i % kCheckpointBytes == 0) checkpoints_.push_back(continuations);
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
      if (isContinuation(text_[i])) ++continuations;
    }
    // One checkpoint for each block that starts at or before the end, so
    // every offset up to text_.size() has one.
    if (text_.size() % kCheckpointBytes == 0) checkpoints_.push_back(continuations);
    indexKeys();
  }

  /// Offset of `"key"` followed by `:` at or after `from`; `from` when the
  /// key is not found.
  size_t findKey(std::string_view key, size_t from) const {
    return findKeyExact(key, from).value_or(from);
  }

  std::optional<size_t> findKeyExact(std::string_view key, size_t from) const {
    auto it = keys_.find(key);
    if (it == keys_.end()) return std::nullopt;
    auto at = std::lower_bound(it->second.begin(), it->second.end(), from);
    if (at == it->second.end()) return std::nullopt;
    return *at;
  }

  diag::Span span(size_t offset, size_t length) const {
    offset = std::min(offset, text_.size());
    auto line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
    diag::Span s;
    s.file = path_;
    s.line = static_cast<int>(line - line_starts_.begin()) + 1;
    // Columns count characters: bytes minus UTF-8 continuation bytes. The
    // inventory is often one long line, so they come from prefix counts.
    size_t characters =
        (offset - *line) - (continuationsBefore(offset) - continuationsBefore(*line));
    s.column = static_cast<int>(characters) + 1;
    s.end_line = s.line;
    s.end_column = s.column + static_cast<int>(std::max<size_t>(length, 1));
    return s;
  }

  /// Returns the span of `"key"`, or of the byte at `from` when the key is
  /// not found.
  diag::Span keySpan(std::string_view key, size_t from) const {
    auto at = findKeyExact(key, from);
    return at ? span(*at, key.size() + 2) : span(from, 1);
  }

 private:
  // Continuation bytes are counted from a checkpoint every kCheckpointBytes,
  // so the table is small next to the text.
  static constexpr size_t kCheckpointBytes = 64;

  static bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

  // UTF-8 continuation bytes in text_[0, offset).
  size_t continuationsBefore(size_t offset) const {
    size_t block = offset / kCheckpointBytes;
    size_t count = checkpoints_[block];
    for (size_t i = block * kCheckpointBytes; i < offset; ++i) {
      if (isContinuation(text_[i])) ++count;
    }
    return count;
  }

  // Records the offset of every string followed by `:`, by its text.
  // Strings with escapes are skipped over but not recorded.
  void indexKeys() {
    size_t i = 0;
    while ((i = text_.find('"', i)) != std::string_view::npos) {
      size_t open = i++;
      bool escaped = false;
      while (i < text_.size() && text_[i] != '"') {
        if (text_[i] == '\\') {
          escaped = true;
          ++i;
        }
        ++i;
      }
      if (i >= text_.size()) return;
      size_t close = i++;
      size_t after = i;
      while (after < text_.size() && std::isspace(static_cast<unsigned char>(text_[after]))) ++after;
      if (!escaped && after < text_.size() && text_[after] == ':') {
        keys_[text_.substr(open + 1, close - open - 1)].push_back(open);
      }
    }
  }

  const std::string& path_;
  std::string_view text_;
  std::vector<size_t> line_starts_;
  std::vector<uint32_t> checkpoints_;  ///< Continuation bytes before each checkpoint.
  /// Offsets of each key's opening quote, ascending. The views point into text_.
  std::unordered_map<std::string_view, std::vector<size_t>> keys_;
};

bool isHostLabel(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool isDomainName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  while (true) {
    size_t dot = name.find('.');
    if (!isHostLabel(name.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    name.remove_prefix(dot + 1);
  }
}

// Linux interface names: 1..15 bytes, no `/`, `:` or white space, not `.`
// or `..`. `"`, `\` and `*` are rejected too: nftables strings cannot hold
// the first two, and it reads `*` as a wildcard.
bool isInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c > ' ' && c < 127 && c != '/' && c != ':' && c != '"' && c != '\\' && c != '*';
  });
}

std::optional<uint16_t> portOf(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  auto n = value.get<int64_t>();
  if (n < 1 || n > 65535) return std::nullopt;
  return static_cast<uint16_t>(n);
}

// Returns `value` as JSON text for a message. Arrays and objects are shown
// as `[...]` and `{...}`: printing them recurses once per nesting level, and
// a value nested 100,000 levels deep overflowed the stack. Long scalars are
// cut at a UTF-8 character boundary.
std::string shownValue(const json& value) {
  constexpr size_t kMaxShown = 80;
  if (value.is_array()) return value.empty() ? "[]" : "[...]";
  if (value.is_object()) return value.empty() ? "{}" : "{...}";
  std::string text = value.dump();
  if (text.size() <= kMaxShown) return text;
  size_t cut = kMaxShown - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

// Builds the document from SAX events as json::parse does, except that
// each member of the top-level `containers` object is passed to
// `on_container` as soon as it is complete and then removed. The document
// keeps an empty `containers` object. For the 100,000-container inventory of
// bench/gen_policy.py, building and freeing the whole DOM took about 0.7 s on
// a 2-core VM, several times the SAX pass.
class StreamingDom final : public nlohmann::json_sax<json> {
 public:
  using ContainerCallback = std::function<void(const std::string& key, const json& entry)>;

  StreamingDom(json& root, ContainerCallback on_container)
      : root_(root), on_container_(std::move(on_container)) {}

  bool null() override { return value(nullptr); }
  bool boolean(bool v) override { return value(v); }
  bool number_integer(number_integer_t v) override { return value(v); }
  bool number_unsigned(number_unsigned_t v) override { return value(v); }
  bool number_float(number_float_t v, const string_t&) override { return value(v); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t& v) override { return value(json::binary(std::move(v))); }

  bool start_object(std::size_t) override {
    bool is_containers = stack_.size() == 1 && top_key_ == "containers";
    json* object = place(json::object());
    if (is_containers) containers_ = object;
    stack_.push_back(object);
    return true;
  }

  bool key(string_t& k) override {
    if (stack_.size() == 1) {
      top_key_ = k;
      if (k == "containers") ++containers_keys_;
    }
    if (stack_.back() == containers_) {
      entry_key_ = k;
      entry_hashes_.push_back(std::hash<std::string>{}(k));
    }
    member_ = &(*stack_.back())[std::move(k)];
    return true;
  }

  bool end_object() override { return close(); }

  bool start_array(std::size_t) override {
    stack_.push_back(place(json::array()));
    return true;
  }

  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    error_position_ = position;
    error_ = e.what();
    return false;
  }

  /// Returns true when the document may repeat `containers` or a container
  /// key (as decoded, so `\u` escapes count). json::parse keeps the last
  /// value of each, which the streamed entries do not reflect. Keys are
  /// compared by hash, so a rare collision also returns true, which only
  /// costs a second parse.
  bool repeatedKeys() {
    std::sort(entry_hashes_.begin(), entry_hashes_.end());
    return containers_keys_ > 1 ||
           std::adjacent_find(entry_hashes_.begin(), entry_hashes_.end()) != entry_hashes_.end();
  }

  /// Byte count read when the error was found, and nlohmann's message.
  size_t errorPosition() const { return error_position_; }
  const std::string& error() const { return error_; }

 private:
  // Stores a new value where the document expects it and returns it.
  json* place(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    if (stack_.back()->is_array()) {
      stack_.back()->push_back(std::move(v));
      return &stack_.back()->back();
    }
    *member_ = std::move(v);
    return member_;
  }

  bool value(json&& v) {
    place(std::move(v));
    return completed();
  }

  bool close() {
    stack_.pop_back();
    return completed();
  }

  // Hands a finished container entry to on_container_. Runs after each value.
  bool completed() {
    if (containers_ == nullptr || stack_.empty() || stack_.back() != containers_) return true;
    auto entry = containers_->find(entry_key_);
    on_container_(entry_key_, *entry);
    containers_->erase(entry);
    return true;
  }

  json& root_;
  ContainerCallback on_container_;
  std::vector<json*> stack_;  ///< Open objects and arrays, outermost first.
  json* member_ = nullptr;    ///< Where the value after the last key goes.
  json* containers_ = nullptr;
  std::string top_key_, entry_key_;
  std::vector<size_t> entry_hashes_;  ///< Hashes of the `containers` objects' keys.
  int containers_keys_ = 0;
  size_t error_position_ = 0;
  std::string error_;
};

// Returns the offset where the JSON token ending at `last` starts: the
// opening quote of a string, or the first character of a literal.
size_t tokenStart(std::string_view text, size_t last) {
  if (last >= text.size()) return last;
  auto isLiteral = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  };
  if (text[last] == '"') {
    size_t i = last;
    while (i > 0) {
      --i;
      if (text[i] == '"' && (i == 0 || text[i - 1] != '\\')) return i;
    }
    return last;
  }
  size_t i = last;
  while (i > 0 && isLiteral(text[i]) && isLiteral(text[i - 1])) --i;
  return i;
}

class Parser {
 public:
  Parser(const std::string& path, std::string_view text, diag::DiagnosticSink& sink)
      : locator_(path, text), text_(text), sink_(&sink) {
    inventory_.path = path;
  }

  // Parses the text, streaming the container entries. When the text repeats
  // `containers` or a container key, json::parse keeps the last value of
  // each, so the whole document is parsed again that way to keep its result.
  std::optional<Inventory> parse() {
    diag::DiagnosticSink& sink = *sink_;
    // Diagnostics of each container, in key order as the DOM path reports them.
    std::map<std::string, std::vector<diag::Diagnostic>> reports;
    size_t base = locator_.findKey("containers", 0);
    json doc;
    // When a key turns out to repeat, the streamed entries are dropped below.
    StreamingDom handler(doc, [&](const std::string& id, const json& entry) {
      diag::DiagnosticSink local;
      sink_ = &local;
      container(id, entry, base);
      sink_ = &sink;
      if (!local.diagnostics().empty()) reports.emplace(id, local.take());
    });
    if (!json::sax_parse(text_, &handler)) {
      reportInvalidJson(handler.errorPosition(), handler.error());
      return std::nullopt;
    }
    if (handler.repeatedKeys()) {
      inventory_.containers.clear();
      return parseDom();
    }
    if (!topLevel(doc)) return std::nullopt;
    for (auto& [id, diagnostics] : reports) {
      for (diag::Diagnostic& d : diagnostics) sink.report(std::move(d));
    }
    // Only valid IDs are kept, and their text order is their byte order.
    std::sort(inventory_.containers.begin(), inventory_.containers.end(),
              [](const InventoryContainer& a, const InventoryContainer& b) { return a.id < b.id; });
    return std::move(inventory_);
  }

 private:
  std::optional<Inventory> parseDom() {
    json doc;
    try {
      doc = json::parse(text_);
    } catch (const json::exception& e) {
      // Not reached: the SAX pass accepted the same text.
      reportInvalidJson(text_.size(), e.what());
      return std::nullopt;
    }
    if (!topLevel(doc)) return std::nullopt;
    size_t base = locator_.findKey("containers", 0);
    for (const auto& [id, entry] : doc["containers"].items()) container(id, entry, base);
    return std::move(inventory_);
  }

  // `position` is the count of bytes read when the error was found, so it
  // points just past the last byte of the offending token. The span starts
  // at the token's first byte.
  void reportInvalidJson(size_t position, std::string detail) {
    size_t last = std::min(position > 0 ? position - 1 : 0, text_.empty() ? 0 : text_.size() - 1);
    size_t offset = tokenStart(text_, last);
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line
    // 1, column 2: " prefix, because the span carries the location. Other
    // errors, such as "[json.exception.out_of_range.406] number overflow
    // parsing '1e999'", lose the bracketed part.
    if (size_t colon = detail.find(": "); colon != std::string::npos) {
      detail = detail.substr(colon + 2);
    } else if (size_t bracket = detail.find("] ");
               detail.starts_with("[") && bracket != std::string::npos) {
      detail = detail.substr(bracket + 2);
    }
    sink_->error("invalid-inventory", locator_.span(offset, last - offset + 1),
                 "the inventory is not valid JSON: " + detail,
                 "fix the JSON syntax at this position");
  }

  // Checks the top level: node, domain, unknown keys and the `containers`
  // object. Returns false when the inventory is unusable.
  bool topLevel(const json& doc) {
    if (!doc.is_object()) {
      sink_->error("invalid-inventory", locator_.span(0, 1), "the inventory is not a JSON object",
                   "write `{ \"node\": ..., \"domain\": ..., \"containers\": { ... } }`");
      return false;
    }
    inventory_.node = nameField(doc, "node", false);
    inventory_.domain = nameField(doc, "domain", true);
    for (const auto& [key, value] : doc.items()) {
      if (key != "node" && key != "domain" && key != "containers") {
        sink_->warning("invalid-inventory", locator_.keySpan(key, 0),
                       fmt::format("unknown inventory key {} is ignored", diag::quote(key)),
                       "the inventory has `node`, `domain` and `containers`");
      }
    }
    auto containers = doc.find("containers");
    if (containers == doc.end() || !containers->is_object()) {
      sink_->error("invalid-inventory", locator_.span(0, 1),
                   "the inventory has no `containers` object",
                   "add `\"containers\": { \"<container-id>\": { ... } }`");
      return false;
    }
    return true;
  }

  std::string nameField(const json& doc, std::string_view key, bool domain) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) {
      sink_->error("invalid-inventory", locator_.span(0, 1),
                   fmt::format("the inventory has no `{}` string", key),
                   domain ? "add `\"domain\": \"example.net\"`" : "add `\"node\": \"node-us\"`");
      return {};
    }
    std::string value = it->get<std::string>();
    bool ok = domain ? isDomainName(value) : isHostLabel(value);
    if (!ok) {
      sink_->error("invalid-inventory", locator_.keySpan(key, 0),
                   fmt::format("`{}` value {} is not a valid {}", key, diag::quote(value),
                               domain ? "domain name" : "host name label"),
                   "use lowercase letters, digits and `-`" +
                       std::string(domain ? ", with labels separated by dots" : ""));
      return {};
    }
    return value;
  }

  void container(const std::string& id_text, const json& entry, size_t base) {
    size_t at = locator_.findKey(id_text, base);
    diag::Span span = locator_.keySpan(id_text, base);
    auto id = sema::parseId(id_text);
    if (!id) {
      sink_->error("invalid-id", span,
                   fmt::format("inventory key {} is not a container ID", diag::quote(id_text)),
                   "container IDs are 24 lowercase hex digits");
      return;
    }
    if (!entry.is_object()) {
      sink_->error("invalid-inventory", span,
                   fmt::format("the entry of container {} is not an object", diag::quote(id_text)),
                   "write `{ \"upstream\": \"127.0.0.1\", \"services\": { ... } }`");
      return;
    }

    for (const auto& [key, value] : entry.items()) {
      if (key != "upstream" && key != "services" && key != "interface" && key != "addresses" &&
          key != "seccomp_file") {
        sink_->warning("invalid-inventory", locator_.keySpan(key, at),
                       fmt::format("unknown key {} in the entry of container {} is ignored",
                                   diag::quote(key), diag::quote(id_text)),
                       "a container entry has `upstream`, `services`, `interface`, `addresses` "
                       "and `seccomp_file`");
      }
    }

    InventoryContainer c;
    c.id = *id;
    c.span = span;
    auto address = upstreamAddress(id_text, entry, span, at);
    if (!address) return;
    c.upstream.address = *address;

    auto services = entry.find("services");
    if (services != entry.end() && !services->is_object()) {
      sink_->error("invalid-inventory", locator_.keySpan("services", at),
                   fmt::format("`services` of container {} is not an object", diag::quote(id_text)),
                   "map service names to ports, e.g. `{ \"http\": 18080 }`");
      return;
    }
    if (services != entry.end()) {
      size_t services_at = locator_.findKey("services", at);
      for (const auto& [name, value] : services->items()) service(c, name, value, services_at);
    }
    hostFields(c, id_text, entry, at);
    std::sort(c.upstream.ports.begin(), c.upstream.ports.end(),
              [](const ir::ServicePort& a, const ir::ServicePort& b) {
                return std::tie(a.service, a.instance) < std::tie(b.service, b.instance);
              });
    inventory_.containers.push_back(std::move(c));
  }

  // Reads `interface`, `addresses` and `seccomp_file`, all optional.
  void hostFields(InventoryContainer& c, const std::string& id_text, const json& entry,
                  size_t at) {
    if (auto it = entry.find("interface"); it != entry.end()) {
      std::string name = it->is_string() ? it->get<std::string>() : std::string();
      if (isInterfaceName(name)) {
        c.interface = name;
      } else {
        sink_->error("invalid-inventory", locator_.keySpan("interface", at),
                     fmt::format("`interface` of container {} is not an interface name: {}",
                                 diag::quote(id_text), shownValue(*it)),
                     "write the host-side link name, 1 to 15 characters without spaces, `/`, "
                     "`:`, `\"`, `\\` or `*`, e.g. `veth-web`");
      }
    }
    if (auto it = entry.find("addresses"); it != entry.end()) {
      if (!it->is_array()) {
        sink_->error("invalid-inventory", locator_.keySpan("addresses", at),
                     fmt::format("`addresses` of container {} is not a list", diag::quote(id_text)),
                     "write `\"addresses\": [\"2001:db8::10\"]`");
      } else {
        for (const json& value : *it) {
          std::string text = value.is_string() ? value.get<std::string>() : shownValue(value);
          auto address = net::parseAddress(text);
          if (!value.is_string() || !address) {
            sink_->error("invalid-address", locator_.keySpan("addresses", at),
                         fmt::format("address {} of container {} is not an IP address",
                                     diag::quote(text), diag::quote(id_text)),
                         "write IP literals such as `10.0.0.2` or `2001:db8::10`");
            continue;
          }
          c.addresses.push_back(*address);
        }
      }
    }
    if (auto it = entry.find("seccomp_file"); it != entry.end()) {
      std::string path = it->is_string() ? it->get<std::string>() : std::string();
      if (!path.empty() && path.front() == '/' && path.back() != '/' &&
          path.find('\0') == std::string::npos) {
        c.seccomp_file = path;
      } else {
        sink_->error("invalid-inventory", locator_.keySpan("seccomp_file", at),
                     fmt::format("`seccomp_file` of container {} is not an absolute file path: {}",
                                 diag::quote(id_text), shownValue(*it)),
                     "write the path the container runtime reads, e.g. "
                     "`/var/lib/lxc/web/seccomp`");
      }
    }
  }

  // Returns the container's upstream IP literal in canonical form.
  std::optional<std::string> upstreamAddress(const std::string& id_text, const json& entry,
                                             const diag::Span& span, size_t at) {
    auto upstream = entry.find("upstream");
    if (upstream == entry.end() || !upstream->is_string()) {
      sink_->error("invalid-inventory", span,
                   fmt::format("container {} has no `upstream` address", diag::quote(id_text)),
                   "add `\"upstream\": \"127.0.0.1\"`");
      return std::nullopt;
    }
    std::string text = upstream->get<std::string>();
    auto address = net::parseAddress(text);
    if (!address) {
      sink_->error("invalid-address", locator_.keySpan("upstream", at),
                   fmt::format("upstream {} of container {} is not an IP address",
                               diag::quote(text), diag::quote(id_text)),
                   "write an IP literal such as `127.0.0.1` or `::1`; host names are not "
                   "resolved");
      return std::nullopt;
    }
    return net::formatAddress(*address);
  }

  void service(InventoryContainer& c, const std::string& name, const json& value, size_t base) {
    diag::Span span = locator_.keySpan(name, base);
    auto s = ir::serviceFromName(name);
    if (!s) {
      std::string help = sema::didYouMean(name, sema::serviceNames());
      if (!help.empty()) help += " ";
      help += "services are named as in host names, e.g. `http`, `terminal`";
      sink_->error("unknown-service", span,
                   fmt::format("inventory service {} is not a service", diag::quote(name)), help);
      return;
    }
    if (value.is_object()) {
      // Instance keys repeat across services, so they are searched from
      // this service's key.
      size_t service_at = locator_.findKey(name, base);
      for (const auto& [instance_text, port_value] : value.items()) {
        auto instance = sema::parsePort(instance_text);  // Decimal 1..65535, no leading zeros.
        if (!instance) {
          sink_->error("invalid-inventory", locator_.keySpan(instance_text, service_at),
                       fmt::format("instance {} of service `{}` is not a number from 1",
                                   diag::quote(instance_text), name),
                       "number instances `1`, `2`, ...");
          continue;
        }
        addPort(c, *s, *instance, port_value, locator_.keySpan(instance_text, service_at));
      }
      return;
    }
    addPort(c, *s, 1, value, span);
  }

  void addPort(InventoryContainer& c, ir::Service service, uint32_t instance, const json& value,
               const diag::Span& span) {
    auto port = portOf(value);
    if (!port) {
      sink_->error("invalid-port", span,
                   fmt::format("port {} of service `{}` instance {} is not a port number",
                               diag::quote(shownValue(value)), ir::serviceName(service), instance),
                   "write an integer 1..65535");
      return;
    }
    c.upstream.ports.push_back({service, instance, *port});
  }

  Locator locator_;
  std::string_view text_;
  diag::DiagnosticSink* sink_;  ///< Where diagnostics go; a local sink per streamed container.
  Inventory inventory_;
};

}  // namespace

std::optional<Inventory> parseInventory(const std::string& path, std::string_view text,
                                        diag::DiagnosticSink& sink) {
  return Parser(path, text, sink).parse();
}

const diag::Span* ContainerDeclarations::find(const ir::Id96& id) const {
  if (!spans_) {
    spans_.emplace();
    for (const ast::File& file : program_.files) {
      for (const ast::Realm& realm : file.realms) {
        for (const ast::Project& project : realm.projects) {
          for (const ast::Container& c : project.containers) {
            if (auto parsed = sema::parseId(c.id.text)) spans_->emplace(*parsed, c.name.span);
          }
        }
      }
    }
  }
  auto it = spans_->find(id);
  return it == spans_->end() ? nullptr : &it->second;
}

namespace {

// Positions of the inventory's containers by ID.
std::unordered_map<ir::Id96, size_t, IdHash> indexById(const Inventory& inventory) {
  std::unordered_map<ir::Id96, size_t, IdHash> by_id;
  by_id.reserve(inventory.containers.size());
  for (size_t i = 0; i < inventory.containers.size(); ++i) {
    by_id.emplace(inventory.containers[i].id, i);
  }
  return by_id;
}

diag::Span declarationSpan(const ContainerDeclarations& declarations, const ir::Id96& id,
                           const std::string& inventory_path) {
  const diag::Span* decl = declarations.find(id);
  return decl != nullptr ? *decl : diag::Span{inventory_path};
}

}  // namespace

void joinInventory(const Inventory& inventory, ir::Policy& policy,
                   const ContainerDeclarations& declarations, bool require,
                   diag::DiagnosticSink& sink) {
  policy.node = inventory.node;
  policy.domain = inventory.domain;
  std::unordered_map<ir::Id96, size_t, IdHash> by_id = indexById(inventory);

  std::vector<bool> used(inventory.containers.size(), false);
  for (ir::Realm& realm : policy.realms) {
    for (ir::Container& container : realm.containers) {
      auto it = by_id.find(container.id);
      if (it != by_id.end()) {
        container.upstream = inventory.containers[it->second].upstream;
        used[it->second] = true;
        continue;
      }
      if (!require) continue;
      sink.error("missing-inventory-entry",
                 declarationSpan(declarations, container.id, inventory.path),
                 fmt::format("container `{}` is not in the inventory {}", container.name,
                             diag::quote(inventory.path)),
                 fmt::format("add `\"{}\": {{ \"upstream\": ..., \"services\": {{ ... }} }}` to "
                             "the inventory, or remove the container",
                             sema::formatId(container.id)));
    }
  }
  for (size_t i = 0; i < inventory.containers.size(); ++i) {
    if (used[i]) continue;
    const InventoryContainer& c = inventory.containers[i];
    sink.warning("unknown-container", c.span,
                 fmt::format("inventory lists container ID `{}`, which no policy declares",
                             sema::formatId(c.id)),
                 "remove the entry, or declare the container in a policy");
  }
}

void joinHostInventory(const Inventory& inventory, ir::HostPolicy& host,
                       const ContainerDeclarations& declarations, bool report_missing,
                       diag::DiagnosticSink& sink) {
  host.node = inventory.node;
  std::unordered_map<ir::Id96, size_t, IdHash> by_id = indexById(inventory);
  for (ir::HostContainer& container : host.containers) {
    auto it = by_id.find(container.id);
    if (it != by_id.end()) {
      const InventoryContainer& entry = inventory.containers[it->second];
      container.interface = entry.interface;
      container.addresses = entry.addresses;
      container.seccomp_file = entry.seccomp_file;
      if (!container.interface.empty()) continue;
    }
    if (!report_missing) continue;
    sink.warning("missing-inventory-entry",
                 declarationSpan(declarations, container.id, inventory.path),
                 fmt::format("container `{}` has no `interface` in the inventory {}, so no "
                             "firewall or network rules are applied for it",
                             container.name, diag::quote(inventory.path)),
                 fmt::format("add `\"interface\": \"<host-side link>\"` to the entry of `{}`",
                             sema::formatId(container.id)));
  }
}

}  // namespace hoody::lower
