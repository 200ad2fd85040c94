// SPDX-License-Identifier: Apache-2.0
// libnftables wrapper: atomic replace, dry-run check, listing and plans.
#include "runtime/host/nftables.h"

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <nlohmann/json.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <tuple>

namespace hoody::host {
namespace {

using json = nlohmann::json;

constexpr std::string_view kDigestPrefix = "digest ";
constexpr size_t kIdHexDigits = 24;

struct ContextDeleter {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using Context = std::unique_ptr<nft_ctx, ContextDeleter>;

std::string trimmed(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// Returns a libnftables context that buffers its output and errors, or
// nullptr. A new context per call keeps no state between calls and opens
// its netlink socket in the calling thread's network namespace.
Context newContext(unsigned output_flags, bool dry_run) {
  Context ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) return ctx;
  nft_ctx_output_set_flags(ctx.get(), output_flags);
  nft_ctx_set_dry_run(ctx.get(), dry_run);
  if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0) {
    return Context();
  }
  return ctx;
}

Result<std::string> finish(nft_ctx* ctx, int rc) {
  std::string output = trimmed(nft_ctx_get_output_buffer(ctx));
  std::string error = trimmed(nft_ctx_get_error_buffer(ctx));
  if (rc != 0) {
    if (error.empty()) error = "libnftables returned an error without a message";
    return makeError("nft-rejected", error);
  }
  return output;
}

// Runs a short command, such as a listing, and returns its output.
Result<std::string> runNft(const std::string& command, unsigned output_flags) {
  Context ctx = newContext(output_flags, false);
  if (!ctx) return makeError("nft-unavailable", "libnftables could not create a context");
  return finish(ctx.get(), nft_run_cmd_from_buffer(ctx.get(), command.c_str()));
}

// Runs `batch` as one libnftables transaction, read from an in-memory file.
// libnftables 1.0.6 reports the wrong line for errors in buffer input (it
// shows the buffer's first line), but the right file:line:column for file
// input. Error messages name the file `ruleset`.
Result<void> runBatch(const std::string& batch, unsigned output_flags, bool dry_run) {
  Context ctx = newContext(output_flags, dry_run);
  if (!ctx) return makeError("nft-unavailable", "libnftables could not create a context");
  int fd = memfd_create("hoody-ruleset", MFD_CLOEXEC);
  if (fd < 0) {
    return makeError("nft-unavailable",
                     fmt::format("cannot create an in-memory file: {}", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < batch.size()) {
    ssize_t n = write(fd, batch.data() + written, batch.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      close(fd);
      return makeError("nft-unavailable",
                       fmt::format("cannot write the in-memory file: {}", std::strerror(error)));
    }
    written += static_cast<size_t>(n);
  }
  std::string path = fmt::format("/proc/self/fd/{}", fd);
  auto result = finish(ctx.get(), nft_run_cmd_from_filename(ctx.get(), path.c_str()));
  close(fd);
  if (result) return {};
  Error error = result.error();
  for (size_t at = error.message.find(path); at != std::string::npos;
       at = error.message.find(path, at)) {
    error.message.replace(at, path.size(), "ruleset");
  }
  return Unexpected<Error>{std::move(error)};
}

bool looksLikeJson(std::string_view text) {
  auto first = std::find_if_not(text.begin(), text.end(),
                                [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  return first != text.end() && *first == '{';
}

json tableRef() { return {{"table", {{"family", "inet"}, {"name", kNftTable}}}}; }

// Returns the name of the table a JSON ruleset item belongs to.
std::string tableOf(const std::string& kind, const json& body) {
  if (!body.is_object()) return "";
  const char* key = kind == "table" ? "name" : "table";
  auto it = body.find(key);
  return it != body.end() && it->is_string() ? it->get<std::string>() : "";
}

// Builds the JSON batch add table / delete table / ruleset. Every item of
// the ruleset must belong to `inet hoody`, so the applier cannot touch
// another table.
Result<std::string> jsonTransaction(std::string_view ruleset) {
  json doc = json::parse(ruleset, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array()) {
    return makeError("invalid-ruleset", "the JSON ruleset is not an object with an `nftables` array");
  }
  json items = json::array();
  items.push_back({{"add", tableRef()}});
  items.push_back({{"delete", tableRef()}});
  for (const json& item : doc["nftables"]) {
    if (!item.is_object() || item.size() != 1) {
      return makeError("invalid-ruleset", fmt::format("JSON ruleset item {} is not an object with "
                                                      "one key", item.dump()));
    }
    const std::string kind = item.begin().key();
    const json& body = item.begin().value();
    if (kind == "metainfo") continue;
    std::string family = body.is_object() ? body.value("family", "") : "";
    if (family != "inet" || tableOf(kind, body) != kNftTable) {
      return makeError("invalid-ruleset",
                       fmt::format("JSON ruleset item `{}` is not in table inet {}", kind, kNftTable));
    }
    items.push_back(item);
  }
  return json{{"nftables", items}}.dump();
}

// Text input: the two prefix commands share the ruleset's first line, so
// line numbers in libnftables' errors match the ruleset's lines.
Result<void> runTransaction(std::string_view ruleset, bool dry_run) {
  std::string commands;
  unsigned flags = 0;
  if (looksLikeJson(ruleset)) {
    Result<std::string> batch = makeError("invalid-ruleset", "");
    try {
      batch = jsonTransaction(ruleset);
    } catch (const json::exception& e) {
      return makeError("invalid-ruleset", fmt::format("the JSON ruleset is malformed: {}", e.what()));
    }
    if (!batch) return Unexpected<Error>{batch.error()};
    commands = std::move(*batch);
    flags = NFT_CTX_OUTPUT_JSON;  // libnftables 1.0.6 reads JSON only in JSON mode.
  } else {
    commands = fmt::format("table inet {0}; delete table inet {0}; ", kNftTable);
    commands.append(ruleset);
  }
  return runBatch(commands, flags, dry_run);
}

// Reads `digest <hex> <label>`.
std::optional<ChainSummary> parseDigestComment(const std::string& comment) {
  if (comment.rfind(kDigestPrefix, 0) != 0) return std::nullopt;
  std::string rest = comment.substr(kDigestPrefix.size());
  size_t space = rest.find(' ');
  ChainSummary summary;
  summary.digest = rest.substr(0, space);
  if (space != std::string::npos) summary.label = rest.substr(space + 1);
  return summary;
}

bool inTable(const json& body) {
  return body.is_object() && body.value("table", "") == kNftTable;
}

// Collects chains and digests from listings or rulesets: chain objects name
// the chains, map elements carry the digests of container chains, and the
// last rule of a base chain carries its digest.
class SummaryBuilder {
 public:
  void add(const json& doc) {
    for (const json& item : doc["nftables"]) {
      if (!item.is_object()) continue;
      if (auto chain = item.find("chain"); chain != item.end() && inTable(*chain)) {
        summary_.chains[chain->value("name", "")];
      }
      if (auto rule = item.find("rule"); rule != item.end() && inTable(*rule)) {
        last_comment_[rule->value("chain", "")] = rule->value("comment", "");
      }
      if (auto map = item.find("map"); map != item.end() && inTable(*map)) addElements(*map);
    }
  }

  TableSummary finish() {
    for (const auto& [chain, comment] : last_comment_) {
      auto digest = parseDigestComment(comment);
      ChainSummary& summary = summary_.chains[chain];
      if (digest && summary.digest.empty()) summary = *digest;
    }
    return std::move(summary_);
  }

 private:
  // An element with a comment is `[{"elem": {"val": K, "comment": C}},
  // {"jump": {"target": CHAIN}}]`.
  void addElements(const json& map) {
    auto elements = map.find("elem");
    if (elements == map.end() || !elements->is_array()) return;
    for (const json& element : *elements) {
      if (!element.is_array() || element.size() != 2) continue;
      const json& key = element[0];
      const json& verdict = element[1];
      if (!key.is_object() || !key.contains("elem") || !verdict.is_object()) continue;
      auto jump = verdict.find("jump");
      if (jump == verdict.end() || !jump->is_object()) continue;
      std::string target = jump->value("target", "");
      auto digest = parseDigestComment(key["elem"].value("comment", ""));
      if (!target.empty() && digest) summary_.chains[target] = *digest;
    }
  }

  TableSummary summary_;
  std::map<std::string, std::string> last_comment_;
};

bool hasNftablesArray(const json& doc) {
  return doc.is_object() && doc.contains("nftables") && doc["nftables"].is_array();
}

Result<TableSummary> summarize(const std::vector<json>& docs) {
  try {
    SummaryBuilder builder;
    for (const json& doc : docs) {
      if (!hasNftablesArray(doc)) {
        return makeError("invalid-listing",
                         "the nftables listing is not an object with an `nftables` array");
      }
      builder.add(doc);
    }
    return builder.finish();
  } catch (const json::exception& e) {
    return makeError("invalid-listing", fmt::format("the nftables listing is malformed: {}", e.what()));
  }
}

Result<json> listJson(const std::string& command) {
  auto output = runNft(command, NFT_CTX_OUTPUT_JSON);
  if (!output) return Unexpected<Error>{output.error()};
  json doc = json::parse(*output, nullptr, false);
  if (doc.is_discarded()) {
    return makeError("invalid-listing", fmt::format("`{}` printed text that is not JSON", command));
  }
  return doc;
}

// Returns the container ID of a chain named `in_<id>` or `out_<id>`.
std::optional<std::string> containerOf(const std::string& chain) {
  std::string_view name = chain;
  if (name.rfind("in_", 0) == 0) {
    name.remove_prefix(3);
  } else if (name.rfind("out_", 0) == 0) {
    name.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  bool hex = name.size() == kIdHexDigits && std::all_of(name.begin(), name.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
             });
  if (!hex) return std::nullopt;
  return std::string(name);
}

std::set<std::string> containerIds(const TableSummary& table) {
  std::set<std::string> ids;
  for (const auto& [chain, summary] : table.chains) {
    if (auto id = containerOf(chain)) ids.insert(*id);
  }
  return ids;
}

const ChainSummary* findChain(const TableSummary& table, const std::string& name) {
  auto it = table.chains.find(name);
  return it == table.chains.end() ? nullptr : &it->second;
}

bool sameChain(const TableSummary& a, const TableSummary& b, const std::string& name) {
  const ChainSummary* x = findChain(a, name);
  const ChainSummary* y = findChain(b, name);
  return x != nullptr && y != nullptr && !x->digest.empty() && x->digest == y->digest;
}

std::string labelOf(const TableSummary& table, const std::string& id) {
  for (const char* prefix : {"in_", "out_"}) {
    const ChainSummary* chain = findChain(table, prefix + id);
    if (chain != nullptr && !chain->label.empty()) return chain->label;
  }
  return "";
}

}  // namespace

Result<void> replaceTable(std::string_view ruleset) { return runTransaction(ruleset, false); }

Result<void> checkTable(std::string_view ruleset) { return runTransaction(ruleset, true); }

Result<void> deleteTable() {
  // `table` then `delete` in one batch succeeds whether or not it exists.
  auto result = runNft(fmt::format("table inet {0}; delete table inet {0}", kNftTable), 0);
  if (!result) return Unexpected<Error>{result.error()};
  return {};
}

// Returns true when table `inet hoody` has chains. hoody's table always has
// its base chains, so a table without chains is treated as absent.
Result<bool> tableLoaded() {
  auto chains = listJson("list chains inet");
  if (!chains) return Unexpected<Error>{chains.error()};
  auto names = summarize({*chains});
  if (!names) return Unexpected<Error>{names.error()};
  return !names->chains.empty();
}

// Lists chains, maps and the two base chains, never the whole table. With
// 10 000 containers on 2 vCPUs and libnftables 1.0.6, the JSON listing of
// the whole table took over a minute. Even `list tables` took seconds,
// because it fills the whole cache. The listings used here take under a
// second.
Result<std::optional<TableSummary>> loadedTable() {
  std::vector<json> docs;
  auto chains = listJson("list chains inet");
  if (!chains) return Unexpected<Error>{chains.error()};
  docs.push_back(std::move(*chains));
  auto names = summarize(docs);
  if (!names) return Unexpected<Error>{names.error()};
  if (names->chains.empty()) return std::optional<TableSummary>{};  // See tableLoaded.

  auto maps = listJson("list maps inet");
  if (!maps) return Unexpected<Error>{maps.error()};
  docs.push_back(std::move(*maps));
  for (const char* base : {"forward", "input"}) {
    if (!names->chains.count(base)) continue;
    auto chain = listJson(fmt::format("list chain inet {} {}", kNftTable, base));
    if (!chain) return Unexpected<Error>{chain.error()};
    docs.push_back(std::move(*chain));
  }
  auto summary = summarize(docs);
  if (!summary) return Unexpected<Error>{summary.error()};
  return std::optional<TableSummary>{std::move(*summary)};
}

Result<TableSummary> summarizeRuleset(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return makeError("invalid-listing", "the ruleset is not JSON");
  return summarize({doc});
}

TableSummary summarizeDigests(const std::map<std::string, std::string>& comments) {
  TableSummary summary;
  for (const auto& [chain, comment] : comments) {
    summary.chains[chain] = parseDigestComment(comment).value_or(ChainSummary{});
  }
  return summary;
}

std::string_view changeName(Change change) {
  switch (change) {
    case Change::Added: return "added";
    case Change::Removed: return "removed";
    case Change::Changed: return "changed";
    case Change::Unchanged: return "unchanged";
  }
  return "";
}

size_t Plan::count(Change change) const {
  return static_cast<size_t>(std::count_if(containers.begin(), containers.end(),
                                           [change](const ContainerChange& c) {
                                             return c.change == change;
                                           }));
}

Plan planChanges(const std::optional<TableSummary>& loaded, const TableSummary& planned) {
  Plan plan;
  plan.table_loaded = loaded.has_value();
  TableSummary empty;
  const TableSummary& old = loaded ? *loaded : empty;
  plan.base_changed = !sameChain(old, planned, "forward") || !sameChain(old, planned, "input");

  std::set<std::string> old_ids = containerIds(old);
  std::set<std::string> new_ids = containerIds(planned);
  std::set<std::string> all = old_ids;
  all.insert(new_ids.begin(), new_ids.end());
  for (const std::string& id : all) {
    ContainerChange c{id, labelOf(planned, id), Change::Unchanged};
    if (c.label.empty()) c.label = labelOf(old, id);
    if (!old_ids.count(id)) {
      c.change = Change::Added;
    } else if (!new_ids.count(id)) {
      c.change = Change::Removed;
    } else if (!sameChain(old, planned, "in_" + id) || !sameChain(old, planned, "out_" + id)) {
      c.change = Change::Changed;
    }
    plan.containers.push_back(std::move(c));
  }
  std::sort(plan.containers.begin(), plan.containers.end(),
            [](const ContainerChange& a, const ContainerChange& b) {
              return std::tie(a.change, a.label, a.id) < std::tie(b.change, b.label, b.id);
            });
  return plan;
}

Result<Plan> planChanges(const std::optional<TableSummary>& loaded, std::string_view ruleset_json) {
  auto planned = summarizeRuleset(ruleset_json);
  if (!planned) return Unexpected<Error>{planned.error()};
  return planChanges(loaded, *planned);
}

std::string formatPlan(const Plan& plan) {
  std::string out = fmt::format(
      "nftables table inet {}: {} added, {} removed, {} changed, {} unchanged", kNftTable,
      plan.count(Change::Added), plan.count(Change::Removed), plan.count(Change::Changed),
      plan.count(Change::Unchanged));
  if (!plan.table_loaded) {
    out += " (no table loaded yet)";
  } else if (plan.base_changed) {
    out += " (base chains change too)";
  }
  out += "\n";
  for (const ContainerChange& c : plan.containers) {
    if (c.change == Change::Unchanged) continue;
    std::string label = c.label.empty() ? "(unnamed)" : c.label;
    out += fmt::format("  {:<9} {} {}\n", changeName(c.change), label, c.id);
  }
  return out;
}

// NOTE: this lists every rule, about 7 s of CPU for 10 000 containers
// (libnftables 1.0.6, 2 vCPUs).
Result<std::optional<std::string>> loadedTableText() {
  auto loaded = tableLoaded();
  if (!loaded) return Unexpected<Error>{loaded.error()};
  if (!*loaded) return std::optional<std::string>{};
  auto text = runNft(fmt::format("list table inet {}", kNftTable), 0);
  if (!text) return Unexpected<Error>{text.error()};
  return std::optional<std::string>{std::move(*text)};
}

}  // namespace hoody::host
