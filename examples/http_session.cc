// Copyright 2026 The coral Authors.

#include "examples/http_session.h"

#include "absl/strings/str_cat.h"

namespace coral::examples {
namespace {

// The /json response's object, serialized for every request (the contract asks for that rather
// than a constant).
struct Message {
  absl::string_view message;
};

// A JSON string's characters that need an escape: the quote, the backslash and the controls.
bool NeedsEscape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

// The length of AppendJson's output, so that Content-Length can precede the body.
size_t JsonLength(const Message& m) {
  size_t length = sizeof("{\"message\":\"\"}") - 1;
  for (const char c : m.message) {
    length += !NeedsEscape(c) ? 1 : (c == '"' || c == '\\') ? 2 : 6;
  }
  return length;
}

void AppendJson(const Message& m, std::string* out) {
  out->append("{\"message\":\"");
  for (const char c : m.message) {
    if (!NeedsEscape(c)) {
      out->push_back(c);
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      const char escape[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
      out->append(escape, sizeof(escape));
    }
  }
  out->append("\"}");
}

constexpr absl::string_view kPlaintextBody = "Hello, World!";

// Each response is its head up to the Date value, the date, then the end of the head (the body).
constexpr absl::string_view kPlaintextHead =
    "HTTP/1.1 200 OK\r\nServer: coral\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
    "Date: ";
constexpr absl::string_view kJsonHead =
    "HTTP/1.1 200 OK\r\nServer: coral\r\nContent-Type: application/json\r\nContent-Length: ";
constexpr absl::string_view kNotFoundHead =
    "HTTP/1.1 404 Not Found\r\nServer: coral\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
    "Date: ";
constexpr absl::string_view kNotFoundBody = "Not Found\n";
constexpr absl::string_view kBadRequestHead =
    "HTTP/1.1 400 Bad Request\r\nServer: coral\r\nContent-Type: text/plain\r\n"
    "Content-Length: 12\r\nConnection: close\r\nDate: ";
constexpr absl::string_view kBadRequestBody = "Bad Request\n";
constexpr absl::string_view kTooLargeHead =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: coral\r\nContent-Type: text/plain\r\n"
    "Content-Length: 32\r\nConnection: close\r\nDate: ";
constexpr absl::string_view kTooLargeBody = "Request Header Fields Too Large\n";

HttpSession* SessionOf(http_parser* parser) { return static_cast<HttpSession*>(parser->data); }

}  // namespace

const http_parser_settings HttpSession::kSettings = {
    .on_message_begin = &HttpSession::OnMessageBegin,
    .on_url = &HttpSession::OnUrl,
    .on_status = nullptr,
    .on_header_field = &HttpSession::OnHeaderField,
    .on_header_value = &HttpSession::OnHeaderValue,
    .on_headers_complete = nullptr,
    .on_body = nullptr,  // Bodies are read past, not kept: no route takes one.
    .on_message_complete = &HttpSession::OnMessageComplete,
    .on_chunk_header = nullptr,
    .on_chunk_complete = nullptr,
};

HttpSession::HttpSession(HttpLimits limits) : limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

bool HttpSession::Consume(absl::string_view input, absl::string_view date, std::string* out) {
  if (closing_) return false;
  if (input.empty()) return true;  // To http-parser, no bytes would mean the end of the stream.
  date_ = date;
  out_ = out;
  http_parser_execute(&parser_, &kSettings, input.data(), input.size());
  const http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (closing_) {
    // OnMessageComplete paused the parser after the connection's last response.
  } else if (error == HPE_HEADER_OVERFLOW || limit_exceeded_) {
    absl::StrAppend(out, kTooLargeHead, date, "\r\n\r\n", kTooLargeBody);
    closing_ = true;
  } else if (error != HPE_OK) {
    absl::StrAppend(out, kBadRequestHead, date, "\r\n\r\n", kBadRequestBody);
    closing_ = true;
  } else if (parser_.upgrade) {
    closing_ = true;  // Answered in OnMessageComplete; the rest is another protocol's.
  }
  out_ = nullptr;
  return !closing_;
}

int HttpSession::OnMessageBegin(http_parser* parser) {
  HttpSession* self = SessionOf(parser);
  self->url_.clear();
  self->header_bytes_ = 0;
  self->headers_ = 0;
  self->in_header_field_ = false;
  return 0;
}

bool HttpSession::CountHeaderBytes(size_t length) {
  header_bytes_ += length;
  if (header_bytes_ <= limits_.max_header_bytes) return true;
  limit_exceeded_ = true;
  return false;
}

int HttpSession::OnUrl(http_parser* parser, const char* at, size_t length) {
  HttpSession* self = SessionOf(parser);
  if (!self->CountHeaderBytes(length)) return 1;
  self->url_.append(at, length);
  return 0;
}

int HttpSession::OnHeaderField(http_parser* parser, const char* /*at*/, size_t length) {
  HttpSession* self = SessionOf(parser);
  if (!self->in_header_field_) {
    self->in_header_field_ = true;
    if (++self->headers_ > self->limits_.max_headers) {
      self->limit_exceeded_ = true;
      return 1;
    }
  }
  return self->CountHeaderBytes(length) ? 0 : 1;
}

int HttpSession::OnHeaderValue(http_parser* parser, const char* /*at*/, size_t length) {
  HttpSession* self = SessionOf(parser);
  self->in_header_field_ = false;
  return self->CountHeaderBytes(length) ? 0 : 1;
}

int HttpSession::OnMessageComplete(http_parser* parser) {
  HttpSession* self = SessionOf(parser);
  self->Respond();
  if (!http_should_keep_alive(parser)) {
    self->closing_ = true;
    http_parser_pause(parser, 1);  // Ignore whatever follows the connection's last request.
  }
  return 0;
}

void HttpSession::Respond() {
  ++answered_;
  const absl::string_view url = url_;
  const absl::string_view path = url.substr(0, url.find('?'));
  const bool head = parser_.method == HTTP_HEAD;
  const bool routed = parser_.method == HTTP_GET || head;
  std::string* out = out_;
  // The head up to the end of the Date line, then the body (kept for after the blank line).
  const Message message{.message = "Hello, World!"};
  bool json = false;
  absl::string_view body;
  if (routed && path == "/plaintext") {
    absl::StrAppend(out, kPlaintextHead, date_, "\r\n");
    body = kPlaintextBody;
  } else if (routed && path == "/json") {
    json = true;
    absl::StrAppend(out, kJsonHead, JsonLength(message), "\r\nDate: ", date_, "\r\n");
  } else {
    absl::StrAppend(out, kNotFoundHead, date_, "\r\n");
    body = kNotFoundBody;
  }
  if (!http_should_keep_alive(&parser_)) {
    out->append("Connection: close\r\n");
  } else if (parser_.http_major == 1 && parser_.http_minor == 0) {
    out->append("Connection: keep-alive\r\n");  // Not HTTP/1.0's default.
  }
  out->append("\r\n");
  if (head) return;
  if (json) {
    AppendJson(message, out);
  } else {
    out->append(body.data(), body.size());
  }
}

}  // namespace coral::examples
