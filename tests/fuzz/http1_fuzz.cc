// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the HTTP/1.1 front end: request heads, body framing
// (Content-Length and chunked), response heads and path normalization.
//
// With clang, configure with -DHOODY_FUZZ=ON to link libFuzzer, or build it
// alone from the repository root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o /tmp/http1_fuzz
//     tests/fuzz/http1_fuzz.cc runtime/http/http1_parser.cc runtime/http/headers.cc
//     runtime/http/path.cc
// (one command line).
//   /tmp/http1_fuzz -max_total_time=60 -max_len=70000 tests/fuzz/corpus/http1_fuzz
// Other compilers build it with a replay driver that runs the seed corpus.
// The target checks invariants, not only crashes: a parsed head never
// consumes more than it was given, a normalized path is stable under a second
// normalization, and a decoded body is never longer than its input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/http/http1_parser.h"
#include "runtime/http/path.h"

namespace {

void check(bool condition) {
  if (!condition) abort();
}

void fuzzRequest(std::string_view data) {
  hoody::http::RequestHead head;
  hoody::http::HeadResult r = hoody::http::parseRequestHead(data, &head);
  if (r.state == hoody::http::ParseState::Error) {
    check(r.status >= 400 && r.status < 600);
    check(!r.error.empty());
    return;
  }
  if (r.state != hoody::http::ParseState::Complete) return;
  check(r.consumed <= data.size());
  check(!head.method.empty());
  check(!head.target.empty());

  hoody::Result<hoody::http::NormalizedTarget> target = hoody::http::normalizeTarget(head.target);
  if (target) {
    hoody::Result<std::string> again = hoody::http::normalizePath(target->path);
    check(again.has_value());
    check(*again == target->path);
  }

  // Decode the body that follows with the framing the head declared, in two
  // pieces to exercise the incremental state.
  hoody::http::BodyDecoder decoder(head.framing, head.content_length);
  std::string_view rest = data.substr(r.consumed);
  size_t split = rest.size() / 2;
  std::string out;
  size_t total_consumed = 0;
  for (std::string_view piece : {rest.substr(0, split), rest.substr(split)}) {
    if (decoder.done()) break;
    size_t consumed = 0;
    hoody::http::BodyDecoder::Status status = decoder.decode(piece, &consumed, &out);
    check(consumed <= piece.size());
    total_consumed += consumed;
    if (status == hoody::http::BodyDecoder::Status::Error) return;
    if (status == hoody::http::BodyDecoder::Status::Done) break;
    if (consumed < piece.size()) break;
  }
  check(out.size() <= total_consumed);
}

void fuzzResponse(std::string_view data) {
  hoody::http::ResponseHead head;
  hoody::http::HeadResult r = hoody::http::parseResponseHead(data, "GET", &head);
  if (r.state == hoody::http::ParseState::Error) check(r.status == 502);
  if (r.state == hoody::http::ParseState::Complete) {
    check(r.consumed <= data.size());
    check(head.status >= 100 && head.status <= 999);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzzRequest(input);
  fuzzResponse(input);
  return 0;
}
