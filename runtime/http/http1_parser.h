// SPDX-License-Identifier: Apache-2.0
// Strict HTTP/1.1 message parsing: request heads from clients, response heads
// from upstreams, and the body framings (Content-Length, chunked, until close).
//
// Every ambiguity that lets two parsers disagree on where a message ends is an
// error here (RFC 9112 sections 2 to 7): both Content-Length and
// Transfer-Encoding, repeated or malformed Content-Length, a transfer coding
// other than exactly `chunked`, bare CR or LF, obsolete line folding,
// whitespace before a colon, and control characters in values. A client that
// sends any of them gets 400 and the connection is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/http/headers.h"

namespace hoody::http {

/// Maximum size of a request or response head (request line plus fields).
inline constexpr size_t kMaxHeadSize = 64 * 1024;

/// How the length of a message body is determined.
enum class Framing : uint8_t { None, Length, Chunked, UntilClose };

struct RequestHead {
  std::string method;
  /// Request target in origin-form (`/path?query`); an absolute-form target
  /// whose authority equals Host is converted to origin-form.
  std::string target;
  int minor_version = 1;  ///< 0 or 1 (HTTP/1.0 or HTTP/1.1).
  HeaderList headers;
  std::string host;  ///< Value of the single Host field; empty for HTTP/1.0 without one.
  Framing framing = Framing::None;
  uint64_t content_length = 0;  ///< For Framing::Length.
  bool keep_alive = true;       ///< False for `Connection: close` and HTTP/1.0.
  bool expect_continue = false;
};

struct ResponseHead {
  int status = 0;
  std::string reason;
  int minor_version = 1;
  HeaderList headers;
  Framing framing = Framing::UntilClose;
  uint64_t content_length = 0;
  bool keep_alive = true;  ///< False when the upstream will close the connection.
};

enum class ParseState : uint8_t { Complete, Incomplete, Error };

struct HeadResult {
  ParseState state = ParseState::Incomplete;
  size_t consumed = 0;  ///< Complete: bytes of the head including the empty line.
  int status = 0;       ///< Error: the status to respond with (400, 417, 431 or 505; 502 for responses).
  std::string error;    ///< Error: a short code for logs, e.g. "duplicate-content-length".
};

/// Parses a request head at the start of `data`. Leading empty lines (CRLF)
/// are skipped. Incomplete means more bytes are needed and the head is still
/// within `max_size`.
HeadResult parseRequestHead(std::string_view data, RequestHead* out,
                            size_t max_size = kMaxHeadSize);

/// Parses an upstream response head. `request_method` decides whether a body
/// follows (none for HEAD), and 1xx, 204 and 304 responses have none.
HeadResult parseResponseHead(std::string_view data, std::string_view request_method,
                             ResponseHead* out, size_t max_size = kMaxHeadSize);

/// Incremental decoder of a message body in one of the framings. Decoded
/// body bytes are appended to `out`; chunk extensions and trailer fields are
/// validated and dropped.
class BodyDecoder {
 public:
  enum class Status : uint8_t { Ok, Done, Error };

  BodyDecoder() = default;
  BodyDecoder(Framing framing, uint64_t content_length) { reset(framing, content_length); }
  void reset(Framing framing, uint64_t content_length);

  /// Consumes a prefix of `in` (`*consumed` bytes). Done means the body ended
  /// and the bytes after `*consumed` belong to the next message. With
  /// UntilClose the body ends only through finishAtClose().
  Status decode(std::string_view in, size_t* consumed, std::string* out);

  /// Called when the peer closed the connection: true when that is a valid
  /// end of this body.
  bool finishAtClose();

  bool done() const { return state_ == State::Done; }
  const std::string& error() const { return error_; }

 private:
  enum class State : uint8_t {
    Length, ChunkSize, ChunkData, ChunkDataCr, ChunkDataLf, Trailer, UntilClose, Done, Error
  };
  Status fail(std::string code);
  bool parseChunkSizeLine(std::string_view line);
  Status decodeLine(std::string_view in, size_t* pos, bool* have_line);

  State state_ = State::Done;
  uint64_t remaining_ = 0;
  std::string line_;  ///< Partial chunk-size or trailer line.
  size_t trailer_bytes_ = 0;
  std::string error_;
};

/// Encodes one chunk of a chunked body (nothing for empty `data`).
void appendChunk(std::string_view data, std::string* out);
/// The last chunk with no trailer fields.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace hoody::http
