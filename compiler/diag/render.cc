// SPDX-License-Identifier: Apache-2.0
// Compiler-style and JSON rendering of diagnostics.
#include "compiler/diag/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace hoody::diag {
namespace {

const char* kReset = "\033[0m";
const char* kBold = "\033[1m";

const char* severityColor(Severity severity) {
  switch (severity) {
    case Severity::Error:
      return "\033[1;31m";
    case Severity::Warning:
      return "\033[1;33m";
    case Severity::Note:
      return "\033[1;36m";
  }
  return "";
}

bool isContinuationByte(unsigned char c) { return (c & 0xc0) == 0x80; }

// Returns the byte offset of code point `column` (1-based) in `line`, or the
// line's length when the line is shorter.
size_t byteOffsetOfColumn(const std::string& line, int column) {
  size_t offset = 0;
  for (int c = 1; c < column && offset < line.size(); ++c) {
    ++offset;
    while (offset < line.size() && isContinuationByte(static_cast<unsigned char>(line[offset]))) {
      ++offset;
    }
  }
  return offset;
}

size_t codePointCount(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += isContinuationByte(c) ? 0 : 1;
  return n;
}

// Builds the underline: spaces (keeping tabs, so the caret lines up with the
// excerpt) up to the start, then `^` and `~` for the rest of the span.
std::string underline(const std::string& line, const Span& span) {
  size_t start = byteOffsetOfColumn(line, span.column);
  std::string out;
  for (size_t i = 0; i < start; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (isContinuationByte(c)) continue;
    out += c == '\t' ? '\t' : ' ';
  }
  size_t width = 1;
  if (span.end_line == span.line && span.end_column > span.column) {
    width = static_cast<size_t>(span.end_column - span.column);
  } else if (span.end_line > span.line) {
    width = std::max<size_t>(1, codePointCount(std::string_view(line).substr(start)));
  }
  out += '^';
  out.append(width - 1, '~');
  return out;
}

void renderOne(std::string& out, const Diagnostic& d, const SourceMap& sources, bool color) {
  std::string location = d.span.file;
  if (d.span.line > 0) location += fmt::format(":{}:{}", d.span.line, d.span.column);
  std::string severity = fmt::format("{}[{}]", severityName(d.severity), d.code);
  if (color) {
    out += fmt::format("{}{}:{} {}{}{}: {}{}{}\n", kBold, location, kReset,
                       severityColor(d.severity), severity, kReset, kBold, d.message, kReset);
  } else {
    out += fmt::format("{}: {}: {}\n", location, severity, d.message);
  }

  auto source = sources.find(d.span.file);
  std::string line_number = std::to_string(d.span.line);
  size_t gutter = std::max<size_t>(5, line_number.size() + 1);
  if (d.span.line > 0 && source != sources.end()) {
    std::string line = sourceLine(source->second, d.span.line);
    out += fmt::format("{:>{}} | {}\n", line_number, gutter, line);
    std::string marks = underline(line, d.span);
    if (color) marks = std::string(severityColor(d.severity)) + marks + kReset;
    out += fmt::format("{:>{}} | {}\n", "", gutter, marks);
  }
  if (!d.help.empty()) out += fmt::format("{:>{}} = help: {}\n", "", gutter - 3, d.help);
}

}  // namespace

std::string sourceLine(const std::string& text, int line) {
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return {};
    start = nl + 1;
  }
  size_t end = text.find('\n', start);
  std::string result = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (!result.empty() && result.back() == '\r') result.pop_back();
  return result;
}

std::string renderText(const std::vector<Diagnostic>& diagnostics, const SourceMap& sources,
                       const RenderOptions& options) {
  std::string out;
  size_t errors = 0;
  size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
  }
  size_t shown = std::min(diagnostics.size(), options.max_shown);
  for (size_t i = 0; i < shown; ++i) renderOne(out, diagnostics[i], sources, options.color);
  if (shown < diagnostics.size()) {
    out += fmt::format("{} more diagnostics not shown\n", diagnostics.size() - shown);
  }
  if (errors > 0 || warnings > 0) {
    out += fmt::format("{} error{}, {} warning{}\n", errors, errors == 1 ? "" : "s", warnings,
                       warnings == 1 ? "" : "s");
  }
  return out;
}

std::string renderJson(const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json list = nlohmann::json::array();
  size_t errors = 0;
  size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
    list.push_back({{"code", d.code},
                    {"severity", severityName(d.severity)},
                    {"file", d.span.file},
                    {"line", d.span.line},
                    {"column", d.span.column},
                    {"end_line", d.span.end_line},
                    {"end_column", d.span.end_column},
                    {"message", d.message},
                    {"help", d.help}});
  }
  nlohmann::json doc = {{"diagnostics", list}, {"errors", errors}, {"warnings", warnings}};
  // Replace invalid UTF-8 instead of throwing: messages quote user text.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hoody::diag
