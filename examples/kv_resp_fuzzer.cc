// Copyright 2026 The coral Authors.
//
// Fuzzes kv_server's RESP parser, and the commands behind it, with arbitrary bytes:
//   - parsing never reads outside the input, and a request's arguments lie inside its bytes;
//   - a request is decided by its own bytes: parsing exactly its bytes gives the same request, and
//     every strict prefix of them is incomplete (never an error, never another request);
//   - every argument is within the limits, and encoding the arguments as a RESP array and parsing
//     that gives them back;
//   - executing every request parsed appends exactly one reply ending in "\r\n".
// Run: bazel/bazelw build --config=fuzz //examples:kv_resp_fuzzer &&
//      bazel-bin/examples/kv_resp_fuzzer -max_total_time=60 examples/kv_fuzz_corpus

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "examples/kv_commands.h"
#include "examples/kv_resp.h"
#include "examples/kv_store.h"

namespace {

void Check(bool condition, const char* property) {
  if (!condition) {
    std::fprintf(stderr, "kv_resp_fuzzer: %s\n", property);
    std::abort();
  }
}

bool Inside(absl::string_view part, absl::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Small limits, so that the fuzzer reaches them.
  const kv::RespLimits limits{.max_bulk = 256, .max_arguments = 16, .max_inline = 128};
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  kv::Store store(2);
  std::vector<absl::string_view> arguments;
  std::vector<absl::string_view> again;
  for (int requests = 0; requests < 64 && !input.empty(); ++requests) {
    const kv::ParseResult parsed = kv::ParseRequest(input, limits, &arguments);
    if (parsed.kind != kv::ParseResult::Kind::kRequest) {
      Check(parsed.kind == kv::ParseResult::Kind::kIncomplete || parsed.error != nullptr,
            "an error without a text");
      break;
    }
    Check(parsed.consumed > 0 && parsed.consumed <= input.size(), "consumed out of range");
    const absl::string_view request = input.substr(0, parsed.consumed);
    Check(arguments.size() <= limits.max_arguments, "too many arguments");
    for (absl::string_view argument : arguments) {
      Check(Inside(argument, request), "an argument outside its request");
      Check(argument.size() <= limits.max_bulk, "an argument over max_bulk");
    }

    const kv::ParseResult alone = kv::ParseRequest(request, limits, &again);
    Check(alone.kind == kv::ParseResult::Kind::kRequest && alone.consumed == parsed.consumed &&
              again == arguments,
          "a request depends on the bytes after it");
    for (size_t cut = 0; cut < request.size(); cut += 1 + request.size() / 64) {
      Check(kv::ParseRequest(request.substr(0, cut), limits, &again).kind ==
                kv::ParseResult::Kind::kIncomplete,
            "a strict prefix of a request is not incomplete");
    }

    std::string encoded;
    kv::AppendArrayHeader(&encoded, arguments.size());
    for (absl::string_view argument : arguments) kv::AppendBulk(&encoded, argument);
    const kv::ParseResult round_trip = kv::ParseRequest(encoded, limits, &again);
    Check(round_trip.kind == kv::ParseResult::Kind::kRequest &&
              round_trip.consumed == encoded.size() && again == arguments,
          "encoding the arguments and parsing them does not give them back");

    if (!arguments.empty()) {
      std::string reply;
      kv::Execute(arguments, &store, &reply);
      Check(reply.size() >= 3 && absl::EndsWith(reply, "\r\n"), "a reply without its line end");
    }
    input.remove_prefix(parsed.consumed);
  }
  return 0;
}
