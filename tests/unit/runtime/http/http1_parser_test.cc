// SPDX-License-Identifier: Apache-2.0
// Tests of the strict HTTP/1.1 request, response and body parsers.
#include "runtime/http/http1_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hoody::http {
namespace {

constexpr char kHost[] =
    "0f3e2d1c4b5a69788796a5b4-6a1f3c9e0b7d4e2f8a5c1d03-http-1.node-us.containers.example";

struct Rejection {
  std::string name;
  std::string request;
  int status;
  std::string error;
};

std::string withHost(const std::string& line, const std::string& fields) {
  return line + "\r\nHost: " + kHost + "\r\n" + fields + "\r\n";
}

HeadResult parse(const std::string& data, RequestHead* head) {
  return parseRequestHead(data, head);
}

TEST(Http1RequestTest, RejectsAmbiguousFraming) {
  std::string smuggled = std::string("0\r\n\r\nGET /admin HTTP/1.1\r\nHost: ") + kHost + "\r\n\r\n";
  std::vector<Rejection> cases = {
      {"cl-and-te",
       withHost("POST / HTTP/1.1", "Content-Length: " + std::to_string(smuggled.size()) +
                                       "\r\nTransfer-Encoding: chunked\r\n") + smuggled,
       400, "content-length-and-transfer-encoding"},
      {"te-and-cl", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
       400, "content-length-and-transfer-encoding"},
      {"cl-5-and-50", withHost("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 50\r\n"),
       400, "duplicate-content-length"},
      {"cl-5-and-5", withHost("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 5\r\n"), 400,
       "duplicate-content-length"},
      {"cl-plus", withHost("POST / HTTP/1.1", "Content-Length: +5\r\n"), 400,
       "invalid-content-length"},
      {"cl-minus", withHost("POST / HTTP/1.1", "Content-Length: -1\r\n"), 400,
       "invalid-content-length"},
      {"cl-list", withHost("POST / HTTP/1.1", "Content-Length: 5, 5\r\n"), 400,
       "invalid-content-length"},
      {"cl-space", withHost("POST / HTTP/1.1", "Content-Length: 5 5\r\n"), 400,
       "invalid-content-length"},
      {"cl-trailing-garbage", withHost("POST / HTTP/1.1", "Content-Length: 5x\r\n"), 400,
       "invalid-content-length"},
      {"cl-trailing-tab", withHost("POST / HTTP/1.1", "Content-Length: 5\t\r\n"), 400,
       "invalid-content-length"},
      {"cl-hex", withHost("POST / HTTP/1.1", "Content-Length: 0x5\r\n"), 400,
       "invalid-content-length"},
      {"cl-empty", withHost("POST / HTTP/1.1", "Content-Length: \r\n"), 400,
       "invalid-content-length"},
      {"cl-overflow", withHost("POST / HTTP/1.1", "Content-Length: 18446744073709551617\r\n"), 400,
       "invalid-content-length"},
      {"cl-above-cap", withHost("POST / HTTP/1.1", "Content-Length: 9007199254740993\r\n"), 400,
       "invalid-content-length"},
      {"te-tab", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked\t\r\n"), 400,
       "unsupported-transfer-encoding"},
      {"te-trailing-space", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked \r\n"), 400,
       "unsupported-transfer-encoding"},
      {"te-xchunked", withHost("POST / HTTP/1.1", "Transfer-Encoding: xchunked\r\n"), 400,
       "unsupported-transfer-encoding"},
      {"te-chunked-identity", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n"),
       400, "unsupported-transfer-encoding"},
      {"te-gzip-chunked", withHost("POST / HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"), 400,
       "unsupported-transfer-encoding"},
      {"te-identity", withHost("POST / HTTP/1.1", "Transfer-Encoding: identity\r\n"), 400,
       "unsupported-transfer-encoding"},
      {"te-twice", withHost("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       400, "duplicate-transfer-encoding"},
      {"te-obs-fold", withHost("POST / HTTP/1.1", "Transfer-Encoding:\r\n chunked\r\n"), 400,
       "obsolete-line-folding"},
      {"te-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "transfer-encoding-in-http10"},
  };
  for (const Rejection& c : cases) {
    SCOPED_TRACE(c.name);
    RequestHead head;
    HeadResult r = parse(c.request, &head);
    EXPECT_EQ(r.state, ParseState::Error);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.error, c.error);
  }
}

TEST(Http1RequestTest, RejectsMalformedLinesAndFields) {
  std::vector<Rejection> cases = {
      {"bare-lf", std::string("GET / HTTP/1.1\nHost: ") + kHost + "\n\n", 400, "bare-lf"},
      {"bare-lf-in-field", std::string("GET / HTTP/1.1\r\nHost: ") + kHost + "\nX: y\r\n\r\n", 400,
       "bare-lf"},
      {"bare-cr", std::string("GET / HTTP/1.1\r\nX: a\rb\r\nHost: ") + kHost + "\r\n\r\n", 400,
       "bare-cr"},
      {"obs-fold", withHost("GET / HTTP/1.1", "X-A: 1\r\n  continued\r\n"), 400,
       "obsolete-line-folding"},
      {"space-before-colon", withHost("GET / HTTP/1.1", "Content-Length : 0\r\n"), 400,
       "whitespace-before-colon"},
      {"tab-before-colon", withHost("GET / HTTP/1.1", "X-A\t: 0\r\n"), 400,
       "whitespace-before-colon"},
      {"invalid-name", withHost("GET / HTTP/1.1", "X(A): 0\r\n"), 400, "invalid-field-name"},
      {"empty-name", withHost("GET / HTTP/1.1", ": 0\r\n"), 400, "empty-field-name"},
      {"missing-colon", withHost("GET / HTTP/1.1", "X-A 0\r\n"), 400, "missing-colon"},
      {"nul-in-value", withHost("GET / HTTP/1.1", std::string("X-A: a\0b\r\n", 10)), 400,
       "invalid-field-value"},
      {"control-in-value", withHost("GET / HTTP/1.1", "X-A: a\x01" "b\r\n"), 400,
       "invalid-field-value"},
      {"del-in-value", withHost("GET / HTTP/1.1", "X-A: a\x7f\r\n"), 400, "invalid-field-value"},
      {"two-hosts", withHost("GET / HTTP/1.1", std::string("Host: ") + kHost + "\r\n"), 400,
       "duplicate-host"},
      {"missing-host", "GET / HTTP/1.1\r\n\r\n", 400, "missing-host"},
      {"empty-host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", 400, "empty-host"},
      {"absolute-form-other-host",
       withHost("GET https://other.example/ HTTP/1.1", ""), 400, "absolute-form-host-mismatch"},
      {"asterisk", withHost("OPTIONS * HTTP/1.1", ""), 400, "asterisk-form-target"},
      {"authority-form", withHost("CONNECT example.org:443 HTTP/1.1", ""), 400, "invalid-target"},
      {"fragment", withHost("GET /a#b HTTP/1.1", ""), 400, "invalid-target"},
      {"non-ascii-target", withHost("GET /\xc3\xa9 HTTP/1.1", ""), 400, "invalid-target"},
      {"double-space", withHost("GET  / HTTP/1.1", ""), 400, "invalid-request-line"},
      {"lowercase-version", withHost("GET / http/1.1", ""), 400, "invalid-version"},
      {"http2-version", withHost("GET / HTTP/2.0", ""), 505, "unsupported-version"},
      {"invalid-method", withHost("G(T / HTTP/1.1", ""), 400, "invalid-method"},
      {"expect-other", withHost("POST / HTTP/1.1", "Expect: something\r\n"), 417,
       "unsupported-expectation"},
  };
  for (const Rejection& c : cases) {
    SCOPED_TRACE(c.name);
    RequestHead head;
    HeadResult r = parse(c.request, &head);
    EXPECT_EQ(r.state, ParseState::Error);
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.error, c.error);
  }
}

TEST(Http1RequestTest, RejectsHeadOver64KiB) {
  std::string big = withHost("GET / HTTP/1.1", "X-Big: " + std::string(kMaxHeadSize, 'a') + "\r\n");
  RequestHead head;
  HeadResult r = parse(big, &head);
  EXPECT_EQ(r.state, ParseState::Error);
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(r.error, "head-too-large");

  // An unfinished head that is already too large is rejected without waiting.
  std::string unfinished = "GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHeadSize + 10, 'a');
  r = parse(unfinished, &head);
  EXPECT_EQ(r.state, ParseState::Error);
  EXPECT_EQ(r.status, 431);
}

TEST(Http1RequestTest, AcceptsValidRequest) {
  std::string data = withHost("POST /upload?x=1 HTTP/1.1",
                              "Content-Length: 5\r\nX-Trim:   padded \t\r\nConnection: keep-alive\r\n") +
                     "helloGET";
  RequestHead head;
  HeadResult r = parse(data, &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(data.substr(r.consumed), "helloGET");
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/upload?x=1");
  EXPECT_EQ(head.host, kHost);
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.framing, Framing::Length);
  EXPECT_EQ(head.content_length, 5u);
  EXPECT_TRUE(head.keep_alive);
  const HeaderField* trimmed = findField(head.headers, "x-trim", nullptr);
  ASSERT_NE(trimmed, nullptr);
  EXPECT_EQ(trimmed->value, "padded");
}

TEST(Http1RequestTest, AcceptsChunkedInAnyCase) {
  RequestHead head;
  HeadResult r = parse(withHost("POST / HTTP/1.1", "Transfer-Encoding: ChUnKeD\r\n"), &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.framing, Framing::Chunked);
}

TEST(Http1RequestTest, ConnectionCloseAndHttp10) {
  RequestHead head;
  ASSERT_EQ(parse(withHost("GET / HTTP/1.1", "Connection: Close\r\n"), &head).state,
            ParseState::Complete);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", &head).state, ParseState::Complete);
  EXPECT_FALSE(head.keep_alive);
  EXPECT_EQ(head.host, "");
  EXPECT_EQ(head.minor_version, 0);
}

TEST(Http1RequestTest, AbsoluteFormMatchingHostBecomesOriginForm) {
  RequestHead head;
  HeadResult r = parse(withHost(std::string("GET https://") + kHost + "/a?b HTTP/1.1", ""), &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.target, "/a?b");
  r = parse(withHost(std::string("GET https://") + kHost + "?q HTTP/1.1", ""), &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.target, "/?q");
}

TEST(Http1RequestTest, IncompleteUntilEmptyLine) {
  std::string full = withHost("GET / HTTP/1.1", "X-A: 1\r\n");
  for (size_t n = 0; n < full.size(); ++n) {
    RequestHead head;
    HeadResult r = parse(full.substr(0, n), &head);
    EXPECT_EQ(r.state, ParseState::Incomplete) << n;
  }
}

TEST(Http1RequestTest, SkipsLeadingEmptyLines) {
  RequestHead head;
  HeadResult r = parse("\r\n\r\n" + withHost("GET / HTTP/1.1", ""), &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.method, "GET");
}

TEST(Http1RequestTest, ExpectContinue) {
  RequestHead head;
  ASSERT_EQ(parse(withHost("POST / HTTP/1.1", "Expect: 100-Continue\r\nContent-Length: 1\r\n"), &head)
                .state,
            ParseState::Complete);
  EXPECT_TRUE(head.expect_continue);
}

std::string decodeAll(BodyDecoder& decoder, const std::string& in, BodyDecoder::Status* status,
                      size_t* consumed) {
  std::string out;
  *status = decoder.decode(in, consumed, &out);
  return out;
}

TEST(BodyDecoderTest, DecodesChunkedBody) {
  BodyDecoder decoder(Framing::Chunked, 0);
  std::string in = "5\r\nhello\r\n1;name=value;q=\"a b\"\r\n!\r\n0\r\nTrailer-A: 1\r\n\r\nNEXT";
  BodyDecoder::Status status;
  size_t consumed = 0;
  std::string out = decodeAll(decoder, in, &status, &consumed);
  EXPECT_EQ(status, BodyDecoder::Status::Done);
  EXPECT_EQ(out, "hello!");
  EXPECT_EQ(in.substr(consumed), "NEXT");
}

TEST(BodyDecoderTest, DecodesChunkedBodyByteByByte) {
  BodyDecoder decoder(Framing::Chunked, 0);
  std::string in = "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n";
  std::string out;
  BodyDecoder::Status status = BodyDecoder::Status::Ok;
  for (char c : in) {
    size_t consumed = 0;
    status = decoder.decode(std::string(1, c), &consumed, &out);
    ASSERT_NE(status, BodyDecoder::Status::Error) << decoder.error();
    EXPECT_EQ(consumed, 1u);
  }
  EXPECT_EQ(status, BodyDecoder::Status::Done);
  EXPECT_EQ(out, "0123456789abcdefghij");
}

TEST(BodyDecoderTest, RejectsMalformedChunks) {
  struct Case {
    std::string name;
    std::string in;
    std::string error;
  };
  std::vector<Case> cases = {
      {"no-digits", "\r\n", "invalid-chunk-size"},
      {"non-hex", "g\r\n", "invalid-chunk-size"},
      {"space-before-ext", "5 ;a\r\nhello\r\n", "invalid-chunk-size"},
      {"trailing-space", "5 \r\nhello\r\n", "invalid-chunk-size"},
      {"plus-sign", "+5\r\nhello\r\n", "invalid-chunk-size"},
      {"overflow", "fffffffffffffffff\r\n", "invalid-chunk-size"},
      {"above-cap", "20000000000001\r\n", "invalid-chunk-size"},
      {"empty-ext", "5;\r\nhello\r\n", "invalid-chunk-size"},
      {"unterminated-quote", "5;a=\"x\r\nhello\r\n", "invalid-chunk-size"},
      {"bare-lf-size", "5\nhello\r\n", "bare-lf"},
      {"bare-cr-size", "5\rx\r\nhello\r\n", "bare-cr"},
      {"missing-crlf", "5\r\nhelloX\r\n", "missing-chunk-crlf"},
      {"lf-only-after-data", "5\r\nhello\n0\r\n\r\n", "missing-chunk-crlf"},
      {"long-ext", "5;a=" + std::string(2000, 'b') + "\r\n", "chunk-line-too-long"},
      {"bad-trailer", "0\r\nbad trailer\r\n\r\n", "invalid-trailer"},
      {"obs-fold-trailer", "0\r\nA: 1\r\n folded\r\n\r\n", "invalid-trailer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    BodyDecoder decoder(Framing::Chunked, 0);
    BodyDecoder::Status status;
    size_t consumed = 0;
    decodeAll(decoder, c.in, &status, &consumed);
    EXPECT_EQ(status, BodyDecoder::Status::Error);
    EXPECT_EQ(decoder.error(), c.error);
  }
}

TEST(BodyDecoderTest, LengthStopsAtContentLength) {
  BodyDecoder decoder(Framing::Length, 5);
  BodyDecoder::Status status;
  size_t consumed = 0;
  std::string out = decodeAll(decoder, "hel", &status, &consumed);
  EXPECT_EQ(status, BodyDecoder::Status::Ok);
  EXPECT_EQ(out, "hel");
  out = decodeAll(decoder, "loGET /", &status, &consumed);
  EXPECT_EQ(status, BodyDecoder::Status::Done);
  EXPECT_EQ(out, "lo");
  EXPECT_EQ(consumed, 2u);
}

TEST(BodyDecoderTest, UntilCloseEndsOnlyAtClose) {
  BodyDecoder decoder(Framing::UntilClose, 0);
  BodyDecoder::Status status;
  size_t consumed = 0;
  EXPECT_EQ(decodeAll(decoder, "abc", &status, &consumed), "abc");
  EXPECT_EQ(status, BodyDecoder::Status::Ok);
  EXPECT_TRUE(decoder.finishAtClose());
  EXPECT_TRUE(decoder.done());

  BodyDecoder chunked(Framing::Chunked, 0);
  EXPECT_FALSE(chunked.finishAtClose());
}

TEST(Http1ResponseTest, ParsesFramings) {
  ResponseHead head;
  HeadResult r = parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "GET", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.framing, Framing::Length);
  EXPECT_EQ(head.content_length, 3u);
  EXPECT_TRUE(head.keep_alive);

  r = parseResponseHead("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", "HEAD", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.framing, Framing::None);

  r = parseResponseHead("HTTP/1.1 204 No Content\r\n\r\n", "GET", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.framing, Framing::None);

  r = parseResponseHead("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.framing, Framing::Chunked);

  r = parseResponseHead("HTTP/1.0 200 OK\r\n\r\n", "GET", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.framing, Framing::UntilClose);
  EXPECT_FALSE(head.keep_alive);

  r = parseResponseHead("HTTP/1.1 100 Continue\r\n\r\n", "POST", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.status, 100);
  EXPECT_EQ(head.framing, Framing::None);

  r = parseResponseHead("HTTP/1.1 200\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", "GET", &head);
  ASSERT_EQ(r.state, ParseState::Complete);
  EXPECT_EQ(head.reason, "");
  EXPECT_FALSE(head.keep_alive);
}

TEST(Http1ResponseTest, RejectsAmbiguousResponses) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       "content-length-and-transfer-encoding"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "duplicate-content-length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported-transfer-encoding"},
      {"HTTP/1.1 20 OK\r\n\r\n", "invalid-status-line"},
      {"HTTP/1.1 200 OK\nX: 1\r\n\r\n", "bare-lf"},
      {"HTTP/2 200 OK\r\n\r\n", "invalid-status-line"},
      {"HTTP/1.1 200OK\r\n\r\n", "invalid-status-line"},
  };
  for (const auto& [response, error] : cases) {
    SCOPED_TRACE(response);
    ResponseHead head;
    HeadResult r = parseResponseHead(response, "GET", &head);
    EXPECT_EQ(r.state, ParseState::Error);
    EXPECT_EQ(r.status, 502);
    EXPECT_EQ(r.error, error);
  }
}

TEST(ChunkEncodingTest, AppendsHexSizedChunks) {
  std::string out;
  appendChunk("hello world, sixteen+", &out);
  appendChunk("", &out);
  EXPECT_EQ(out, "15\r\nhello world, sixteen+\r\n");
}

}  // namespace
}  // namespace hoody::http
