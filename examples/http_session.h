// Copyright 2026 The coral Authors.
//
// HttpSession: the HTTP/1.1 side of one connection of examples/http_server, without any I/O. It
// turns the bytes a connection reads into the bytes it must write: requests are parsed with
// Debian's http-parser (streaming: a request may arrive in any number of pieces, several may
// arrive together), and each complete request appends its response to the caller's buffer, in
// request order, so that all the responses to one read go out in one write.
//
// The service (../shared/peers/WORKLOADS.md, "HTTP server contract"):
//   GET /plaintext  200, text/plain, "Hello, World!"
//   GET /json       200, application/json, {"message":"Hello, World!"} (serialized per request)
//   anything else   404
// HEAD gets the same status and headers without the body. The query string is not part of the
// path. Every response carries Server, Date and Content-Length. A malformed request gets 400, a
// request whose headers exceed the limits 431; either ends the connection.
//
// Nothing is allocated per request once the session's buffers have grown to their working size
// (the URL buffer to the longest URL seen, the caller's output buffer to the largest batch).
// Not thread-safe: one session belongs to one connection.
#ifndef CORAL_EXAMPLES_HTTP_SESSION_H_
#define CORAL_EXAMPLES_HTTP_SESSION_H_

#include <http_parser.h>

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace coral::examples {

struct HttpLimits {
  // The URL, header names and header values of one request together, in bytes.
  size_t max_header_bytes = 8192;
  int max_headers = 64;
};

class HttpSession {
 public:
  explicit HttpSession(HttpLimits limits = {});
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Parses `input`, the next bytes of the connection, and appends to `*out` the response to every
  // request it completes; `date` is the Date header's value. Returns false when the connection
  // must be closed once `*out` is written: the request asked for it (Connection: close, or
  // HTTP/1.0 without keep-alive), was malformed (400), exceeded the limits (431), or asked for a
  // protocol upgrade, which this service does not do. Bytes after that request are ignored, and
  // so is every later call. Empty input changes nothing (the end of the stream is not an input).
  bool Consume(absl::string_view input, absl::string_view date, std::string* out);

  // Requests answered so far.
  size_t answered() const { return answered_; }

 private:
  static int OnMessageBegin(http_parser* parser);
  static int OnUrl(http_parser* parser, const char* at, size_t length);
  static int OnHeaderField(http_parser* parser, const char* at, size_t length);
  static int OnHeaderValue(http_parser* parser, const char* at, size_t length);
  static int OnMessageComplete(http_parser* parser);
  static const http_parser_settings kSettings;

  // Counts `length` more header bytes; false (and limit_exceeded_) past the limit.
  bool CountHeaderBytes(size_t length);
  void Respond();

  const HttpLimits limits_;
  http_parser parser_;
  std::string url_;  // Of the request being parsed; its capacity is kept from one to the next.
  size_t header_bytes_ = 0;
  int headers_ = 0;
  bool in_header_field_ = false;
  bool limit_exceeded_ = false;
  bool closing_ = false;  // The last response has been produced.
  size_t answered_ = 0;
  // Valid during Consume only.
  absl::string_view date_;
  std::string* out_ = nullptr;
};

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_HTTP_SESSION_H_
