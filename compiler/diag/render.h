// SPDX-License-Identifier: Apache-2.0
// Rendering of diagnostics: compiler style with source excerpt, and JSON.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"

namespace hoody::diag {

/// File path -> file contents, for the source excerpts.
using SourceMap = std::map<std::string, std::string>;

struct RenderOptions {
  bool color = false;
  /// At most this many diagnostics are shown; a final line counts the rest.
  size_t max_shown = 100;
};

/// Renders diagnostics (already sorted) in compiler style:
///
///     policies/x.hoody:12:21: error[invalid-cidr]: `192.0.2.0/33` has ...
///        12 |     group ops { ip 192.0.2.0/33; allow terminal }
///           |                    ^~~~~~~~~~~~
///        = help: write a prefix between 0 and 32, e.g. `192.0.2.0/24`
///
/// followed by a summary line when there are errors or warnings.
std::string renderText(const std::vector<Diagnostic>& diagnostics, const SourceMap& sources,
                       const RenderOptions& options);

/// Renders diagnostics as one JSON object: {"diagnostics": [...], "errors": N,
/// "warnings": N}. Every diagnostic has code, severity, file, line, column,
/// end_line, end_column, message and help.
std::string renderJson(const std::vector<Diagnostic>& diagnostics);

/// Returns line `line` (1-based) of `text` without its line break, or an
/// empty string when the text has fewer lines.
std::string sourceLine(const std::string& text, int line);

}  // namespace hoody::diag
