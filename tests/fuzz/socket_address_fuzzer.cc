// Copyright 2026 The coral Authors.
//
// Fuzzes SocketAddress::Parse with arbitrary bytes. Beyond "does not crash":
//   - a rejection is InvalidArgument, never another code;
//   - an accepted text is made only of what a numeric address and a decimal port are written
//     with (hex digits, '.', ':', '[', ']'): no NUL that cuts the host short, no whitespace or
//     sign that the number parser would skip;
//   - an accepted address is IPv4 or IPv6, its port() is the decimal number after the last ':',
//     and it round-trips: Parse(ToString(a)) == a, and ToString is a fixed point of that.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "coral/socket_address.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<coral::SocketAddress> parsed = coral::SocketAddress::Parse(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(parsed.status()), "Parse fails only with InvalidArgument");
    return 0;
  }
  for (const char c : text) {
    FUZZ_CHECK(absl::ascii_isxdigit(c) || c == '.' || c == ':' || c == '[' || c == ']',
               "an accepted address contains only address characters");
  }
  const coral::SocketAddress& address = *parsed;
  FUZZ_CHECK(address.family() == AF_INET || address.family() == AF_INET6,
             "Parse yields IPv4 or IPv6");

  uint32_t port = 0;
  for (const char c : text.substr(text.rfind(':') + 1)) {
    FUZZ_CHECK(c >= '0' && c <= '9', "the port is decimal digits");
    port = port * 10 + static_cast<uint32_t>(c - '0');
    FUZZ_CHECK(port <= 65535, "the port fits in 16 bits");
  }
  FUZZ_CHECK(address.port() == port, "port() is the port written");

  const std::string formatted = address.ToString();
  const absl::StatusOr<coral::SocketAddress> reparsed = coral::SocketAddress::Parse(formatted);
  FUZZ_CHECK(reparsed.ok(), "ToString of a parsed address parses");
  FUZZ_CHECK(*reparsed == address, "Parse(ToString(a)) == a");
  FUZZ_CHECK(reparsed->ToString() == formatted, "ToString(Parse(ToString(a))) == ToString(a)");
  return 0;
}
