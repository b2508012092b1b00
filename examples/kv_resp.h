// Copyright 2026 The coral Authors.
//
// RESP2, the Redis protocol, as kv_server speaks it: a request parser that works on whatever bytes
// have arrived (a pipelined batch, or a request cut in the middle), and reply encoders.
//
// A request is either a RESP array of bulk strings, as every client library and redis-cli send
// (`*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n`), or an inline command, a line of words as typed into
// telnet or nc (`GET key\r\n`; a word may be quoted, "a b" or 'a b', without escapes). The parser
// does not copy: the arguments are views into the input. It allocates nothing but the argument
// vector, which the caller reuses.

#ifndef CORAL_EXAMPLES_KV_RESP_H_
#define CORAL_EXAMPLES_KV_RESP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace kv {

struct RespLimits {
  // The longest bulk string (a key or a value) accepted.
  size_t max_bulk = 8 << 20;
  // The most arguments in one request.
  size_t max_arguments = 1 << 20;
  // The longest inline command line, and the longest header line of an array.
  size_t max_inline = 64 << 10;
};

struct ParseResult {
  enum class Kind {
    kRequest,     // A whole request: `arguments` holds it (possibly empty), `consumed` its bytes.
    kIncomplete,  // The input ends inside a request: read more, then parse again from its start.
    kError,  // Not RESP, or over a limit: `error` says why. The stream cannot be resynchronised.
  };
  Kind kind = Kind::kIncomplete;
  size_t consumed = 0;
  // For kError: the text of the error reply (without "-ERR " or the line end). Static storage.
  const char* error = nullptr;
};

// Parses the request at the front of `input` into `arguments` (cleared first), as views into
// `input`. A request with no arguments (an empty line, `*0\r\n`) is a kRequest with none, which
// a server skips.
ParseResult ParseRequest(absl::string_view input, const RespLimits& limits,
                         std::vector<absl::string_view>* arguments);

// A strict decimal integer, as Redis reads one: an optional '-', then digits, nothing else (no
// '+', no spaces), within int64_t.
bool ParseInteger(absl::string_view text, int64_t* out);

// Reply encoders: each appends one RESP2 value to `out`.
void AppendSimple(std::string* out, absl::string_view text);  // +text
void AppendError(std::string* out, absl::string_view text);   // -text (text starts "ERR ...")
void AppendInteger(std::string* out, int64_t value);          // :value
void AppendBulk(std::string* out, absl::string_view value);   // $len value
void AppendNull(std::string* out);                            // $-1
void AppendArrayHeader(std::string* out, size_t count);       // *count

}  // namespace kv

#endif  // CORAL_EXAMPLES_KV_RESP_H_
