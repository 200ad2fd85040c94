// SPDX-License-Identifier: Apache-2.0
// Strict HTTP/1.1 head and body parsing.
#include "runtime/http/http1_parser.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace hoody::http {
namespace {

// Maximum length of a chunk-size line (size plus extensions). Extensions carry
// nothing this proxy uses, so a long one is more likely abuse than data.
constexpr size_t kMaxChunkLine = 1024;
// Largest chunk size accepted, like the Content-Length cap.
constexpr uint64_t kMaxChunkSize = uint64_t{1} << 53;

HeadResult headError(int status, std::string code) {
  HeadResult r;
  r.state = ParseState::Error;
  r.status = status;
  r.error = std::move(code);
  return r;
}

// Splits the head that starts at `start` into lines without their CRLF, up to
// the empty line. Each line must end in CRLF and hold no other CR.
HeadResult scanHeadLines(std::string_view data, size_t start, size_t max_size,
                         std::vector<std::string_view>* lines) {
  size_t pos = start;
  for (;;) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) {
      // A CR that is followed by anything but LF is already an error.
      for (size_t i = data.find('\r', pos); i != std::string_view::npos;
           i = data.find('\r', i + 1)) {
        if (i + 1 < data.size()) return headError(400, "bare-cr");
      }
      if (data.size() - start > max_size) return headError(431, "head-too-large");
      return {};
    }
    if (nl + 1 - start > max_size) return headError(431, "head-too-large");
    std::string_view line = data.substr(pos, nl - pos);
    if (line.empty() || line.back() != '\r') return headError(400, "bare-lf");
    line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return headError(400, "bare-cr");
    pos = nl + 1;
    if (line.empty()) {
      HeadResult r;
      r.state = ParseState::Complete;
      r.consumed = pos;
      return r;
    }
    lines->push_back(line);
  }
}

// Parses one field line. `raw_value` receives the value with only leading
// whitespace removed, so framing fields can reject trailing whitespace.
bool parseFieldLine(std::string_view line, HeaderField* out, std::string_view* raw_value,
                    std::string* error) {
  if (line.front() == ' ' || line.front() == '\t') {
    *error = "obsolete-line-folding";
    return false;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    *error = "missing-colon";
    return false;
  }
  std::string_view name = line.substr(0, colon);
  if (name.empty()) {
    *error = "empty-field-name";
    return false;
  }
  if (name.back() == ' ' || name.back() == '\t') {
    *error = "whitespace-before-colon";
    return false;
  }
  if (!isToken(name)) {
    *error = "invalid-field-name";
    return false;
  }
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  *raw_value = value;
  std::string_view trimmed = trimWhitespace(value);
  if (!isValidFieldValue(trimmed)) {
    *error = "invalid-field-value";
    return false;
  }
  out->name.assign(name);
  out->value.assign(trimmed);
  return true;
}

struct FieldsSummary {
  int host_count = 0;
  int content_length_count = 0;
  int transfer_encoding_count = 0;
  std::string_view content_length_raw;
  std::string_view transfer_encoding_raw;
  bool connection_close = false;
  bool expect_continue = false;
  bool expect_other = false;
};

// Parses the field lines into `headers` and records the framing fields.
bool parseFields(const std::vector<std::string_view>& lines, size_t first, HeaderList* headers,
                 FieldsSummary* summary, std::string* error) {
  headers->reserve(lines.size() - first);
  for (size_t i = first; i < lines.size(); ++i) {
    HeaderField field;
    std::string_view raw;
    if (!parseFieldLine(lines[i], &field, &raw, error)) return false;
    if (equalsIgnoreCase(field.name, "host")) {
      ++summary->host_count;
    } else if (equalsIgnoreCase(field.name, "content-length")) {
      ++summary->content_length_count;
      summary->content_length_raw = raw;
    } else if (equalsIgnoreCase(field.name, "transfer-encoding")) {
      ++summary->transfer_encoding_count;
      summary->transfer_encoding_raw = raw;
    } else if (equalsIgnoreCase(field.name, "connection")) {
      if (listContainsToken(field.value, "close")) summary->connection_close = true;
    } else if (equalsIgnoreCase(field.name, "expect")) {
      if (equalsIgnoreCase(field.value, "100-continue")) {
        summary->expect_continue = true;
      } else {
        summary->expect_other = true;
      }
    }
    headers->push_back(std::move(field));
  }
  return true;
}

// Decides the body framing from Content-Length and Transfer-Encoding. Only a
// single `chunked`, spelled exactly (any letter case), is a valid coding.
bool decideFraming(const FieldsSummary& s, Framing* framing, uint64_t* length,
                   std::string* error) {
  if (s.content_length_count > 0 && s.transfer_encoding_count > 0) {
    *error = "content-length-and-transfer-encoding";
    return false;
  }
  if (s.transfer_encoding_count > 1) {
    *error = "duplicate-transfer-encoding";
    return false;
  }
  if (s.transfer_encoding_count == 1) {
    if (!equalsIgnoreCase(s.transfer_encoding_raw, "chunked")) {
      *error = "unsupported-transfer-encoding";
      return false;
    }
    *framing = Framing::Chunked;
    return true;
  }
  if (s.content_length_count > 1) {
    *error = "duplicate-content-length";
    return false;
  }
  if (s.content_length_count == 1) {
    if (!parseContentLength(s.content_length_raw, length)) {
      *error = "invalid-content-length";
      return false;
    }
    *framing = *length == 0 ? Framing::None : Framing::Length;
    return true;
  }
  *framing = Framing::None;
  return true;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Parses "HTTP/1.0" or "HTTP/1.1". Returns 0 on success, else the status for
// the error: 505 for another well-formed version, 400 for garbage.
int parseVersion(std::string_view text, int* minor) {
  if (text == "HTTP/1.1") {
    *minor = 1;
    return 0;
  }
  if (text == "HTTP/1.0") {
    *minor = 0;
    return 0;
  }
  if (text.size() == 8 && text.substr(0, 5) == "HTTP/" && isDigit(text[5]) && text[6] == '.' &&
      isDigit(text[7])) {
    return 505;
  }
  return 400;
}

bool isTargetChar(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }

// Converts an absolute-form target to origin-form; `authority` receives its
// authority. Returns false when it is not an http(s) URI with an authority.
bool splitAbsoluteForm(std::string_view target, std::string* authority, std::string* origin) {
  std::string_view rest;
  if (startsWithIgnoreCase(target, "https://")) {
    rest = target.substr(8);
  } else if (startsWithIgnoreCase(target, "http://")) {
    rest = target.substr(7);
  } else {
    return false;
  }
  size_t end = rest.find_first_of("/?");
  std::string_view auth = rest.substr(0, end);
  if (auth.empty() || auth.find('@') != std::string_view::npos) return false;
  authority->assign(auth);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (tail.empty() || tail.front() == '?') {
    origin->assign("/");
    origin->append(tail);
  } else {
    origin->assign(tail);
  }
  return true;
}

HeadResult parseRequestLine(std::string_view line, RequestHead* out) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return headError(400, "invalid-request-line");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return headError(400, "invalid-request-line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method)) return headError(400, "invalid-method");
  if (target.empty()) return headError(400, "invalid-target");
  for (unsigned char c : target) {
    if (!isTargetChar(c)) return headError(400, "invalid-target");
  }
  int status = parseVersion(version, &out->minor_version);
  if (status != 0) return headError(status, status == 505 ? "unsupported-version" : "invalid-version");
  out->method.assign(method);
  out->target.assign(target);
  return {};
}

// Resolves the request target form and Host. Only origin-form and an
// absolute-form whose authority equals Host are accepted.
HeadResult resolveTarget(const FieldsSummary& s, RequestHead* out) {
  const HeaderField* host = findField(out->headers, "host", nullptr);
  if (s.host_count > 1) return headError(400, "duplicate-host");
  if (host == nullptr && out->minor_version == 1) return headError(400, "missing-host");
  if (host != nullptr) {
    if (host->value.empty()) return headError(400, "empty-host");
    out->host = host->value;
  }
  if (out->target.front() == '/') return {};
  if (out->target == "*") return headError(400, "asterisk-form-target");
  std::string authority;
  std::string origin;
  if (!splitAbsoluteForm(out->target, &authority, &origin)) {
    return headError(400, "invalid-target");
  }
  if (host == nullptr) {
    out->host = authority;
  } else if (!equalsIgnoreCase(authority, host->value)) {
    return headError(400, "absolute-form-host-mismatch");
  }
  out->target = std::move(origin);
  return {};
}

}  // namespace

HeadResult parseRequestHead(std::string_view data, RequestHead* out, size_t max_size) {
  // RFC 9112 section 2.2: ignore empty lines before the request line.
  size_t start = 0;
  while (start + 1 < data.size() && data[start] == '\r' && data[start + 1] == '\n') {
    start += 2;
    if (start > max_size) return headError(431, "head-too-large");
  }
  if (start < data.size() && data[start] == '\n') return headError(400, "bare-lf");

  std::vector<std::string_view> lines;
  HeadResult scan = scanHeadLines(data, start, max_size, &lines);
  if (scan.state != ParseState::Complete) return scan;
  if (lines.empty()) return headError(400, "invalid-request-line");

  *out = RequestHead();
  HeadResult line = parseRequestLine(lines[0], out);
  if (line.state == ParseState::Error) return line;

  FieldsSummary summary;
  std::string error;
  if (!parseFields(lines, 1, &out->headers, &summary, &error)) return headError(400, error);
  HeadResult target = resolveTarget(summary, out);
  if (target.state == ParseState::Error) return target;
  if (summary.transfer_encoding_count > 0 && out->minor_version == 0) {
    return headError(400, "transfer-encoding-in-http10");
  }
  if (!decideFraming(summary, &out->framing, &out->content_length, &error)) {
    return headError(400, error);
  }
  if (summary.expect_other) return headError(417, "unsupported-expectation");
  out->expect_continue = summary.expect_continue && out->minor_version == 1;
  out->keep_alive = out->minor_version == 1 && !summary.connection_close;
  return scan;
}

HeadResult parseResponseHead(std::string_view data, std::string_view request_method,
                             ResponseHead* out, size_t max_size) {
  std::vector<std::string_view> lines;
  HeadResult scan = scanHeadLines(data, 0, max_size, &lines);
  // Any fault in an upstream's response is the gateway's problem: 502.
  if (scan.state == ParseState::Error) scan.status = 502;
  if (scan.state != ParseState::Complete) return scan;
  if (lines.empty()) return headError(502, "invalid-status-line");

  *out = ResponseHead();
  std::string_view line = lines[0];
  // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; a missing
  // final SP is tolerated because some servers omit it with no reason.
  if (line.size() < 12 || (line.size() > 12 && line[12] != ' ') || line[8] != ' ' ||
      !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11])) {
    return headError(502, "invalid-status-line");
  }
  if (parseVersion(line.substr(0, 8), &out->minor_version) != 0) {
    return headError(502, "invalid-status-line");
  }
  out->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (out->status < 100) return headError(502, "invalid-status-line");
  std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  for (unsigned char c : reason) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return headError(502, "invalid-status-line");
  }
  out->reason.assign(reason);

  FieldsSummary summary;
  std::string error;
  if (!parseFields(lines, 1, &out->headers, &summary, &error)) return headError(502, error);
  Framing framing = Framing::None;
  uint64_t length = 0;
  if (!decideFraming(summary, &framing, &length, &error)) return headError(502, error);
  out->keep_alive = out->minor_version == 1 && !summary.connection_close;
  bool bodiless = request_method == "HEAD" || out->status < 200 || out->status == 204 ||
                  out->status == 304;
  if (bodiless) {
    out->framing = Framing::None;
  } else if (summary.transfer_encoding_count == 0 && summary.content_length_count == 0) {
    out->framing = Framing::UntilClose;
    out->keep_alive = false;
  } else {
    out->framing = framing;
    out->content_length = length;
  }
  return scan;
}

void BodyDecoder::reset(Framing framing, uint64_t content_length) {
  line_.clear();
  trailer_bytes_ = 0;
  error_.clear();
  remaining_ = 0;
  switch (framing) {
    case Framing::None:
      state_ = State::Done;
      break;
    case Framing::Length:
      remaining_ = content_length;
      state_ = content_length == 0 ? State::Done : State::Length;
      break;
    case Framing::Chunked:
      state_ = State::ChunkSize;
      break;
    case Framing::UntilClose:
      state_ = State::UntilClose;
      break;
  }
}

BodyDecoder::Status BodyDecoder::fail(std::string code) {
  state_ = State::Error;
  error_ = std::move(code);
  return Status::Error;
}

bool BodyDecoder::parseChunkSizeLine(std::string_view line) {
  size_t i = 0;
  uint64_t size = 0;
  while (i < line.size()) {
    char c = line[i];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) break;
    if (size > (kMaxChunkSize >> 4)) return false;
    size = size * 16 + static_cast<uint64_t>(digit);
    ++i;
  }
  if (i == 0 || size > kMaxChunkSize) return false;

  // chunk-ext = *( ";" token [ "=" ( token / quoted-string ) ] ), no BWS.
  while (i < line.size()) {
    if (line[i] != ';') return false;
    ++i;
    size_t name_start = i;
    while (i < line.size() && isTokenChar(static_cast<unsigned char>(line[i]))) ++i;
    if (i == name_start) return false;
    if (i < line.size() && line[i] == '=') {
      ++i;
      if (i < line.size() && line[i] == '"') {
        ++i;
        bool closed = false;
        while (i < line.size()) {
          unsigned char c = static_cast<unsigned char>(line[i]);
          if (c == '"') {
            closed = true;
            ++i;
            break;
          }
          if (c == '\\') ++i;
          if (i >= line.size()) return false;
          c = static_cast<unsigned char>(line[i]);
          if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
          ++i;
        }
        if (!closed) return false;
      } else {
        size_t value_start = i;
        while (i < line.size() && isTokenChar(static_cast<unsigned char>(line[i]))) ++i;
        if (i == value_start) return false;
      }
    }
  }
  remaining_ = size;
  return true;
}

// Collects one CRLF-terminated line into line_. `have_line` is set once the
// line is complete (line_ then contains it without CRLF).
BodyDecoder::Status BodyDecoder::decodeLine(std::string_view in, size_t* pos, bool* have_line) {
  size_t limit = state_ == State::ChunkSize ? kMaxChunkLine : kMaxHeadSize;
  size_t nl = in.find('\n', *pos);
  size_t end = nl == std::string_view::npos ? in.size() : nl;
  line_.append(in.substr(*pos, end - *pos));
  *pos = nl == std::string_view::npos ? in.size() : nl + 1;
  if (line_.size() > limit + 1) {
    return fail(state_ == State::ChunkSize ? "chunk-line-too-long" : "trailer-too-large");
  }
  if (nl == std::string_view::npos) {
    size_t cr = line_.find('\r');
    if (cr != std::string::npos && cr + 1 < line_.size()) return fail("bare-cr");
    *have_line = false;
    return Status::Ok;
  }
  if (line_.empty() || line_.back() != '\r') return fail("bare-lf");
  line_.pop_back();
  if (line_.find('\r') != std::string::npos) return fail("bare-cr");
  *have_line = true;
  return Status::Ok;
}

BodyDecoder::Status BodyDecoder::decode(std::string_view in, size_t* consumed, std::string* out) {
  size_t pos = 0;
  *consumed = 0;
  while (state_ != State::Done) {
    if (state_ == State::Error) return Status::Error;
    if (pos >= in.size()) break;
    switch (state_) {
      case State::Length:
      case State::ChunkData: {
        uint64_t n = std::min<uint64_t>(remaining_, in.size() - pos);
        out->append(in.substr(pos, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::Length ? State::Done : State::ChunkDataCr;
        break;
      }
      case State::UntilClose:
        out->append(in.substr(pos));
        pos = in.size();
        break;
      case State::ChunkDataCr:
        if (in[pos++] != '\r') return fail("missing-chunk-crlf");
        state_ = State::ChunkDataLf;
        break;
      case State::ChunkDataLf:
        if (in[pos++] != '\n') return fail("missing-chunk-crlf");
        state_ = State::ChunkSize;
        break;
      case State::ChunkSize: {
        bool have_line = false;
        if (decodeLine(in, &pos, &have_line) == Status::Error) return Status::Error;
        if (!have_line) break;
        if (!parseChunkSizeLine(line_)) return fail("invalid-chunk-size");
        line_.clear();
        state_ = remaining_ == 0 ? State::Trailer : State::ChunkData;
        break;
      }
      case State::Trailer: {
        bool have_line = false;
        if (decodeLine(in, &pos, &have_line) == Status::Error) return Status::Error;
        if (!have_line) break;
        if (line_.empty()) {
          state_ = State::Done;
          break;
        }
        trailer_bytes_ += line_.size() + 2;
        if (trailer_bytes_ > kMaxHeadSize) return fail("trailer-too-large");
        HeaderField field;
        std::string_view raw;
        std::string error;
        if (!parseFieldLine(line_, &field, &raw, &error)) return fail("invalid-trailer");
        line_.clear();
        break;
      }
      case State::Done:
      case State::Error:
        break;
    }
  }
  *consumed = pos;
  return state_ == State::Done ? Status::Done : Status::Ok;
}

bool BodyDecoder::finishAtClose() {
  if (state_ == State::UntilClose) {
    state_ = State::Done;
    return true;
  }
  return state_ == State::Done;
}

void appendChunk(std::string_view data, std::string* out) {
  if (data.empty()) return;
  char size[20];
  int n = snprintf(size, sizeof(size), "%zx\r\n", data.size());
  out->append(size, static_cast<size_t>(n));
  out->append(data);
  out->append("\r\n");
}

}  // namespace hoody::http
