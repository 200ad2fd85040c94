// SPDX-License-Identifier: Apache-2.0
// Diagnostics: the one channel for mistakes in policy and inventory files.
//
// Every stage reports problems to a DiagnosticSink and keeps going where it
// can, so one run shows as many problems as possible. Codes are stable and
// meant for scripts and documentation; messages follow one style: lowercase,
// one line, no trailing period, user text in backticks, the fix in `help`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hoody::diag {

enum class Severity { Error, Warning, Note };

std::string_view severityName(Severity severity);

/// A source range. Lines and columns are 1-based; columns count Unicode code
/// points. `end_line`/`end_column` point just past the last character. A span
/// with line 0 names a whole file (for example one that cannot be read).
struct Span {
  std::string file;
  int line = 0;
  int column = 0;
  int end_line = 0;
  int end_column = 0;

  /// Returns the span from the start of `first` to the end of `last`.
  static Span cover(const Span& first, const Span& last);
};

/// Orders spans by file name, then line, then column.
bool spanBefore(const Span& a, const Span& b);

/// Returns the span of `length` bytes at byte `offset` of `text`. Columns
/// count UTF-8 code points, so carets line up under non-ASCII text.
Span spanAtOffset(const std::string& file, std::string_view text, size_t offset, size_t length);

struct Diagnostic {
  std::string code;  ///< Stable, e.g. "invalid-cidr".
  Severity severity = Severity::Error;
  Span span;
  std::string message;
  std::string help;  ///< How to fix it; may be empty.
};

/// Collects diagnostics from every stage.
class DiagnosticSink {
 public:
  void report(Diagnostic diagnostic);
  void error(std::string code, Span span, std::string message, std::string help = {});
  void warning(std::string code, Span span, std::string message, std::string help = {});
  void note(std::string code, Span span, std::string message, std::string help = {});

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::vector<Diagnostic> take() { return std::move(diagnostics_); }
  size_t errorCount() const { return error_count_; }
  size_t warningCount() const { return warning_count_; }

 private:
  std::vector<Diagnostic> diagnostics_;
  size_t error_count_ = 0;
  size_t warning_count_ = 0;
};

/// Sorts by location (stable, so reports at one location keep their order).
void sortDiagnostics(std::vector<Diagnostic>& diagnostics);

/// Wraps `text` in backticks for a message, replacing control characters and
/// backticks so the message stays on one line.
std::string quote(std::string_view text);

}  // namespace hoody::diag
