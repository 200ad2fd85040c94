// SPDX-License-Identifier: Apache-2.0
// Runs the generated ANTLR lexer and parser and turns their errors into
// diagnostics.
#include "compiler/parse/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "HoodyLexer.h"
#include "HoodyParser.h"
#include "antlr4-runtime.h"
#include "compiler/parse/ast_builder.h"

namespace hoody::parse {
namespace {

using grammar::HoodyLexer;
using grammar::HoodyParser;

// Finds the first byte that is not part of well-formed UTF-8 (no overlong
// forms, no surrogates, nothing above U+10FFFF). Returns npos when valid.
size_t firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    bool overlong = (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

// The policy text as the lexer reads it. ANTLRInputStream converts UTF-8 to
// code points, and every token's text back, through std::wstring_convert.
// That took about a tenth of the parse of the 7 MB policy that
// bench/gen_policy.py writes for 100,000 containers (perf, 2 cores). This
// stream decodes once by hand and, when the text is ASCII (so a code point
// index equals a byte offset), cuts token text straight from the source.
// `text` must be valid UTF-8 and must outlive the stream.
// NOTE: fills the protected members `_data` and `p` of ANTLRInputStream as
// declared by the ANTLR 4.9 C++ runtime.
class PolicyCharStream : public antlr4::ANTLRInputStream {
 public:
  explicit PolicyCharStream(std::string_view text) : text_(text) {
    _data.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      auto c = static_cast<unsigned char>(text[i]);
      size_t length = 1;
      char32_t cp = c;
      if (c >= 0xf0) {
        length = 4;
        cp = c & 0x07;
      } else if (c >= 0xe0) {
        length = 3;
        cp = c & 0x0f;
      } else if (c >= 0x80) {
        length = 2;
        cp = c & 0x1f;
      }
      for (size_t k = 1; k < length; ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
      }
      _data.push_back(cp);
      i += length;
    }
    p = 0;
    ascii_ = _data.size() == text.size();
  }

  std::string getText(const antlr4::misc::Interval& interval) override {
    if (!ascii_) return ANTLRInputStream::getText(interval);
    // The same bounds as ANTLRInputStream::getText.
    if (interval.a < 0 || interval.b < 0) return "";
    auto start = static_cast<size_t>(interval.a);
    auto stop = static_cast<size_t>(interval.b);
    if (start >= text_.size()) return "";
    stop = std::min(stop, text_.size() - 1);
    return std::string(text_.substr(start, stop - start + 1));
  }

 private:
  std::string_view text_;
  bool ascii_ = true;
};

// Describes a token type for "expected ..." lists.
std::string describeTokenType(const antlr4::dfa::Vocabulary& vocabulary, size_t type) {
  if (type == antlr4::Token::EOF) return "end of file";
  if (type == HoodyLexer::ATOM) return "a name or value";
  if (type == HoodyLexer::STRING) return "a string";
  std::string literal = vocabulary.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'' && literal.back() == '\'') {
    return "`" + literal.substr(1, literal.size() - 2) + "`";
  }
  return vocabulary.getSymbolicName(type);
}

std::string describeToken(const antlr4::Token* token) {
  if (token == nullptr || token->getType() == antlr4::Token::EOF) return "end of file";
  return diag::quote(token->getText());
}

class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(const std::string& path, diag::DiagnosticSink& sink) : path_(path), sink_(sink) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t column, const std::string& antlr_message, std::exception_ptr) override {
    ++count_;
    // Lexical errors were reported with their own message before parsing.
    if (offending != nullptr && (offending->getType() == HoodyLexer::UNEXPECTED_CHAR ||
                                 offending->getType() == HoodyLexer::UNTERMINATED_STRING)) {
      return;
    }
    diag::Span at;
    if (offending != nullptr) {
      at = tokenSpan(path_, offending);
    } else {
      at.file = path_;
      at.line = static_cast<int>(line);
      at.column = static_cast<int>(column) + 1;
      at.end_line = at.line;
      at.end_column = at.column + 1;
    }
    std::vector<std::string> expected = expectedTokens(recognizer);
    std::string message = "unexpected " + describeToken(offending);
    std::string help;
    if (!expected.empty() && expected.size() <= 3) {
      message += "; expected " + join(expected, " or ");
    } else if (!expected.empty()) {
      help = "expected one of " + join(expected, ", ");
    } else {
      // No expected set is known (rare): keep ANTLR's own wording as help.
      help = antlr_message;
    }
    sink_.error("syntax-error", at, message, help);
  }

  size_t count() const { return count_; }

 private:
  static std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += separator;
      out += items[i];
    }
    return out;
  }

  static std::vector<std::string> expectedTokens(antlr4::Recognizer* recognizer) {
    std::vector<std::string> out;
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser == nullptr) return out;
    antlr4::misc::IntervalSet set = parser->getExpectedTokens();
    const auto& vocabulary = parser->getVocabulary();
    for (ssize_t type : set.toList()) {
      if (type == HoodyLexer::SEMI) continue;  // Always allowed; listing it adds noise.
      std::string name = describeTokenType(vocabulary, static_cast<size_t>(type));
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    return out;
  }

  const std::string& path_;
  diag::DiagnosticSink& sink_;
  size_t count_ = 0;
};

// Reports the tokens the lexer could not turn into anything useful. Returns
// the number of errors reported.
size_t reportLexicalErrors(const std::string& path, antlr4::CommonTokenStream& tokens,
                           diag::DiagnosticSink& sink) {
  size_t errors = 0;
  for (antlr4::Token* token : tokens.getTokens()) {
    if (token->getType() == HoodyLexer::UNEXPECTED_CHAR) {
      sink.error("syntax-error", tokenSpan(path, token),
                 "unexpected character " + diag::quote(token->getText()),
                 "names and values use letters, digits and `_ . : / + - [ ]`; put other text in "
                 "double quotes");
      ++errors;
    } else if (token->getType() == HoodyLexer::UNTERMINATED_STRING) {
      diag::Span at = tokenSpan(path, token);
      at.end_column = at.column + 1;
      sink.error("syntax-error", at, "string is missing its closing `\"`",
                 "close the string on the same line; write `\\\"` for a quote inside it");
      ++errors;
    }
  }
  return errors;
}

}  // namespace

std::optional<ast::File> parseFile(const std::string& path, std::string_view text,
                                   diag::DiagnosticSink& sink) {
  size_t bad = firstInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    sink.error("invalid-encoding", diag::spanAtOffset(path, text, bad, 1),
               "policy file is not valid UTF-8", "save the file as UTF-8");
    return std::nullopt;
  }
  // A byte order mark is invisible in editors, so skipping it keeps columns
  // where the reader sees them.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  try {
    PolicyCharStream input(text);
    HoodyLexer lexer(&input);
    ErrorListener listener(path, sink);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&listener);
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    size_t lexical_errors = reportLexicalErrors(path, tokens, sink);

    HoodyParser parser(&tokens);
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    HoodyParser::FileContext* tree = parser.file();
    if (lexical_errors > 0 || listener.count() > 0) return std::nullopt;
    return buildAst(path, tree, sink);
  } catch (const std::exception& e) {
    sink.error("syntax-error", {path, 0, 0, 0, 0},
               fmt::format("the parser failed: {}", e.what()),
               "report this as a bug together with the policy file");
  } catch (...) {
    sink.error("syntax-error", {path, 0, 0, 0, 0}, "the parser failed with an unknown error",
               "report this as a bug together with the policy file");
  }
  return std::nullopt;
}

}  // namespace hoody::parse
