// SPDX-License-Identifier: Apache-2.0
// Diagnostic sink, ordering and quoting.
#include "compiler/diag/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace hoody::diag {

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

Span Span::cover(const Span& first, const Span& last) {
  Span s = first;
  s.end_line = last.end_line;
  s.end_column = last.end_column;
  return s;
}

bool spanBefore(const Span& a, const Span& b) {
  return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
}

void DiagnosticSink::report(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::Error) ++error_count_;
  if (diagnostic.severity == Severity::Warning) ++warning_count_;
  diagnostics_.push_back(std::move(diagnostic));
}

void DiagnosticSink::error(std::string code, Span span, std::string message, std::string help) {
  report({std::move(code), Severity::Error, std::move(span), std::move(message), std::move(help)});
}

void DiagnosticSink::warning(std::string code, Span span, std::string message, std::string help) {
  report({std::move(code), Severity::Warning, std::move(span), std::move(message),
          std::move(help)});
}

void DiagnosticSink::note(std::string code, Span span, std::string message, std::string help) {
  report({std::move(code), Severity::Note, std::move(span), std::move(message), std::move(help)});
}

void sortDiagnostics(std::vector<Diagnostic>& diagnostics) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return spanBefore(a.span, b.span); });
}

std::string quote(std::string_view text) {
  std::string out = "`";
  for (unsigned char c : text) {
    if (c == '`') {
      out += '\'';
    } else if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '`';
  return out;
}

Span spanAtOffset(const std::string& file, std::string_view text, size_t offset, size_t length) {
  Span s;
  s.file = file;
  s.line = 1;
  s.column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++s.line;
      s.column = 1;
    } else if ((c & 0xc0) != 0x80) {
      ++s.column;
    }
  }
  s.end_line = s.line;
  s.end_column = s.column + static_cast<int>(std::max<size_t>(length, 1));
  return s;
}

}  // namespace hoody::diag
