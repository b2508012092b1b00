// Copyright 2026 The coral Authors.
//
// Fuzzes HttpSession (examples/http_session.h), the request side of examples/http_server: the
// input's first byte picks a split point, the rest is what a client sends. Properties:
//   - the bytes delivered in two reads give the same responses, the same verdict (keep the
//     connection or close it) and the same count of answered requests as in one read: the
//     session's state across reads (a URL or header cut in two, the header limits) is right;
//   - the output is whole responses only: one per answered request, plus at most one error
//     response (400 or 431), which ends the connection.
// Small limits, so that inputs reach them. Run with .ci/fuzz.sh, or
//   bazel/bazelw build --config=fuzz //examples:http_session_fuzzer
//   bazel-bin/examples/http_session_fuzzer examples/corpus/http_session_fuzzer

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "examples/http_session.h"

namespace {

constexpr coral::examples::HttpLimits kLimits = {.max_header_bytes = 256, .max_headers = 8};
constexpr absl::string_view kDate = "Wed, 02 Dec 2026 11:00:00 GMT";

void Check(bool property, const char* what) {
  if (property) return;
  std::fprintf(stderr, "http_session_fuzzer: %s\n", what);
  std::abort();
}

size_t CountResponses(absl::string_view output) {
  size_t count = 0;
  for (size_t at = 0; (at = output.find("HTTP/1.1 ", at)) != absl::string_view::npos; ++at) {
    ++count;
  }
  return count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);

  coral::examples::HttpSession whole(kLimits);
  std::string whole_output;
  const bool whole_open = whole.Consume(input, kDate, &whole_output);

  coral::examples::HttpSession pieces(kLimits);
  std::string pieces_output;
  bool pieces_open = pieces.Consume(input.substr(0, split), kDate, &pieces_output);
  pieces_open = pieces.Consume(input.substr(split), kDate, &pieces_output) && pieces_open;

  Check(whole_output == pieces_output, "one read and two reads give different responses");
  Check(whole_open == pieces_open, "one read and two reads disagree on closing");
  Check(whole.answered() == pieces.answered(), "one read and two reads answer differently");
  Check(whole_output.empty() || absl::string_view(whole_output).substr(0, 9) == "HTTP/1.1 ",
        "the output does not start with a status line");
  const size_t responses = CountResponses(whole_output);
  Check(responses == whole.answered() || (responses == whole.answered() + 1 && !whole_open),
        "responses other than one per request and at most one error");
  return 0;
}
