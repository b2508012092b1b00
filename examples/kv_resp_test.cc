// Copyright 2026 The coral Authors.
//
// kv_server's protocol and commands, without a network: the RESP parser on pipelined, cut and
// malformed input and at its limits; every command's replies and errors, with expiry on a paused
// coral clock.

#include "examples/kv_resp.h"

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "examples/kv_commands.h"
#include "examples/kv_store.h"
#include "gtest/gtest.h"

namespace kv {
namespace {

using Kind = ParseResult::Kind;

TEST(RespParserTest, PipelinedArraysOneAtATime) {
  const std::string input =
      "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
  std::vector<absl::string_view> arguments;
  ParseResult first = ParseRequest(input, {}, &arguments);
  ASSERT_EQ(first.kind, Kind::kRequest);
  EXPECT_EQ(arguments, (std::vector<absl::string_view>{"GET", "k"}));
  ParseResult second =
      ParseRequest(absl::string_view(input).substr(first.consumed), {}, &arguments);
  ASSERT_EQ(second.kind, Kind::kRequest);
  EXPECT_EQ(arguments, (std::vector<absl::string_view>{"SET", "k", ""}));
  EXPECT_EQ(first.consumed + second.consumed, input.size());
}

TEST(RespParserTest, EveryCutIsIncomplete) {
  const std::string request = "*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb\n\r\n";
  std::vector<absl::string_view> arguments;
  for (size_t cut = 0; cut < request.size(); ++cut) {
    EXPECT_EQ(ParseRequest(request.substr(0, cut), {}, &arguments).kind, Kind::kIncomplete)
        << "cut at " << cut;
  }
  ParseResult whole = ParseRequest(request, {}, &arguments);
  ASSERT_EQ(whole.kind, Kind::kRequest);
  EXPECT_EQ(arguments, (std::vector<absl::string_view>{"ECHO", "a\r\nb\n"}));  // Binary-safe.
}

TEST(RespParserTest, InlineCommands) {
  std::vector<absl::string_view> arguments;
  ParseResult parsed = ParseRequest("SET  key \"a b\" 'c'\r\nPING\n", {}, &arguments);
  ASSERT_EQ(parsed.kind, Kind::kRequest);
  EXPECT_EQ(arguments, (std::vector<absl::string_view>{"SET", "key", "a b", "c"}));
  EXPECT_EQ(parsed.consumed, 20u);
  parsed = ParseRequest("\r\n", {}, &arguments);
  EXPECT_EQ(parsed.kind, Kind::kRequest);
  EXPECT_TRUE(arguments.empty());
  EXPECT_EQ(ParseRequest("PIN", {}, &arguments).kind, Kind::kIncomplete);
  parsed = ParseRequest("SET k \"v\r\n", {}, &arguments);
  EXPECT_EQ(parsed.kind, Kind::kError);
  EXPECT_STREQ(parsed.error, "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseRequest("SET k \"v\"x\r\n", {}, &arguments).kind, Kind::kError);
}

TEST(RespParserTest, MalformedInput) {
  std::vector<absl::string_view> arguments;
  const struct {
    const char* input;
    const char* error;
  } cases[] = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*1\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n+GET\r\n", "Protocol error: expected '$'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$+3\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$3\r\nGETXY", "Protocol error: bulk string not followed by CRLF"},
  };
  for (const auto& c : cases) {
    ParseResult parsed = ParseRequest(c.input, {}, &arguments);
    EXPECT_EQ(parsed.kind, Kind::kError) << c.input;
    if (parsed.kind == Kind::kError) {
      EXPECT_STREQ(parsed.error, c.error) << c.input;
    }
  }
  // An empty array is a request without arguments.
  ParseResult empty = ParseRequest("*0\r\n", {}, &arguments);
  EXPECT_EQ(empty.kind, Kind::kRequest);
  EXPECT_EQ(empty.consumed, 4u);
}

TEST(RespParserTest, LimitsAreCheckedBeforeTheBytesArrive) {
  const RespLimits limits{.max_bulk = 100, .max_arguments = 3, .max_inline = 16};
  std::vector<absl::string_view> arguments;
  // A bulk announced over the limit is refused from its header alone.
  EXPECT_EQ(ParseRequest("*1\r\n$101\r\n", limits, &arguments).kind, Kind::kError);
  EXPECT_EQ(ParseRequest("*1\r\n$100\r\n", limits, &arguments).kind, Kind::kIncomplete);
  EXPECT_EQ(ParseRequest("*4\r\n", limits, &arguments).kind, Kind::kError);
  EXPECT_EQ(ParseRequest("*99999999999999999999\r\n", limits, &arguments).kind, Kind::kError);
  // A header line or an inline command without its end, longer than max_inline.
  EXPECT_EQ(ParseRequest("*1" + std::string(20, '0'), limits, &arguments).kind, Kind::kError);
  ParseResult inline_too_long = ParseRequest(std::string(17, 'A'), limits, &arguments);
  EXPECT_EQ(inline_too_long.kind, Kind::kError);
  EXPECT_STREQ(inline_too_long.error, "Protocol error: too big inline request");
  EXPECT_EQ(ParseRequest(std::string(16, 'A'), limits, &arguments).kind, Kind::kIncomplete);
}

TEST(RespParserTest, ParseInteger) {
  int64_t value = 0;
  EXPECT_TRUE(ParseInteger("-9223372036854775808", &value));
  EXPECT_EQ(value, INT64_MIN);
  EXPECT_TRUE(ParseInteger("9223372036854775807", &value));
  EXPECT_EQ(value, INT64_MAX);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "9223372036854775808", "1.5", "0x10"}) {
    EXPECT_FALSE(ParseInteger(bad, &value)) << bad;
  }
}

// Runs one command; returns its reply.
std::string Reply(Store& store, std::vector<absl::string_view> arguments) {
  std::string reply;
  Execute(arguments, &store, &reply);
  return reply;
}

TEST(KvCommandsTest, StringsAndCounters) {
  Store store(4);
  EXPECT_EQ(Reply(store, {"PING"}), "+PONG\r\n");
  EXPECT_EQ(Reply(store, {"ping", "hi"}), "$2\r\nhi\r\n");
  EXPECT_EQ(Reply(store, {"ECHO", "a b"}), "$3\r\na b\r\n");
  EXPECT_EQ(Reply(store, {"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Reply(store, {"get", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "NX"}), "$-1\r\n");
  EXPECT_EQ(Reply(store, {"SET", "other", "w", "XX"}), "$-1\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "XX"}), "+OK\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "NX", "XX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "EX"}), "-ERR syntax error\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "EX", "x"}),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k", "w", "PX", "0"}),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Reply(store, {"SET", "k"}), "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(Reply(store, {"MSET", "a", "1", "b", "2"}), "+OK\r\n");
  EXPECT_EQ(Reply(store, {"MSET", "a", "1", "b"}),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(Reply(store, {"MGET", "a", "nope", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n");
  EXPECT_EQ(Reply(store, {"EXISTS", "a", "a", "nope"}), ":2\r\n");
  EXPECT_EQ(Reply(store, {"DBSIZE"}), ":3\r\n");
  EXPECT_EQ(Reply(store, {"DEL", "a", "nope", "b"}), ":2\r\n");
  EXPECT_EQ(Reply(store, {"INCR", "n"}), ":1\r\n");
  EXPECT_EQ(Reply(store, {"INCRBY", "n", "41"}), ":42\r\n");
  EXPECT_EQ(Reply(store, {"DECR", "n"}), ":41\r\n");
  EXPECT_EQ(Reply(store, {"DECRBY", "n", "-9"}), ":50\r\n");
  EXPECT_EQ(Reply(store, {"INCRBY", "n", "x"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Reply(store, {"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Reply(store, {"SET", "big", "9223372036854775807"}), "+OK\r\n");
  EXPECT_EQ(Reply(store, {"INCR", "big"}), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Reply(store, {"GET", "big"}), "$19\r\n9223372036854775807\r\n");
  EXPECT_EQ(Reply(store, {"FLUSHALL"}), "+OK\r\n");
  EXPECT_EQ(Reply(store, {"DBSIZE"}), ":0\r\n");
}

TEST(KvCommandsTest, ConfigUnknownAndQuit) {
  Store store(4);
  EXPECT_EQ(Reply(store, {"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(Reply(store, {"CONFIG", "GET", "appendonly"}),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(Reply(store, {"CONFIG", "GET", "maxmemory"}), "*0\r\n");
  EXPECT_EQ(Reply(store, {"CONFIG", "SET", "x"}),
            "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n");
  // A client's line ends never reach an error line.
  EXPECT_EQ(Reply(store, {"NOPE\r\n", "a\nb"}),
            "-ERR unknown command 'NOPE  ', with args beginning with: 'a b' \r\n");
  std::string reply;
  EXPECT_EQ(Execute(std::vector<absl::string_view>{"QUIT"}, &store, &reply), AfterCommand::kClose);
  EXPECT_EQ(reply, "+OK\r\n");
}

// Expiry on the paused clock: the commands read coral::Now() on the runtime's workers.
TEST(KvCommandsTest, ExpiryOnThePausedClock) {
  coral::Runtime runtime({.num_workers = 1, .start_paused = true});
  Store store(4);
  auto body = [&store]() -> coral::Task<void> {
    EXPECT_EQ(Reply(store, {"SET", "k", "v", "PX", "1500"}), "+OK\r\n");
    EXPECT_EQ(Reply(store, {"PTTL", "k"}), ":1500\r\n");
    EXPECT_EQ(Reply(store, {"TTL", "k"}), ":2\r\n");  // Rounded, as Redis does.
    EXPECT_TRUE((co_await coral::AdvanceTime(absl::Milliseconds(1499))).ok());
    EXPECT_EQ(Reply(store, {"GET", "k"}), "$1\r\nv\r\n");
    EXPECT_TRUE((co_await coral::AdvanceTime(absl::Milliseconds(1))).ok());
    EXPECT_EQ(Reply(store, {"GET", "k"}), "$-1\r\n");
    EXPECT_EQ(Reply(store, {"TTL", "k"}), ":-2\r\n");

    EXPECT_EQ(Reply(store, {"SET", "k", "v", "EX", "10"}), "+OK\r\n");
    EXPECT_EQ(Reply(store, {"SET", "k", "w"}), "+OK\r\n");  // A plain SET clears the TTL.
    EXPECT_EQ(Reply(store, {"TTL", "k"}), ":-1\r\n");
    EXPECT_EQ(Reply(store, {"EXPIRE", "k", "5"}), ":1\r\n");
    EXPECT_EQ(Reply(store, {"EXPIRE", "missing", "5"}), ":0\r\n");
    EXPECT_EQ(Reply(store, {"INCR", "k"}), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(Reply(store, {"SET", "n", "1", "EX", "5"}), "+OK\r\n");
    EXPECT_EQ(Reply(store, {"INCR", "n"}), ":2\r\n");
    EXPECT_EQ(Reply(store, {"TTL", "n"}), ":5\r\n");          // INCR keeps the TTL.
    EXPECT_EQ(Reply(store, {"EXPIRE", "n", "0"}), ":1\r\n");  // Not in the future: deleted.
    EXPECT_EQ(Reply(store, {"EXISTS", "n"}), ":0\r\n");

    // Keys nobody reads again are freed by RemoveExpired, and only once due.
    for (int i = 0; i < 100; ++i) {
      std::string key = "t" + std::to_string(i);
      EXPECT_EQ(Reply(store, {"SET", key, "v", "EX", "1"}), "+OK\r\n");
    }
    EXPECT_EQ(store.Size(), 101u);
    EXPECT_EQ(store.RemoveExpired(1000), 0u);
    EXPECT_TRUE((co_await coral::AdvanceTime(absl::Seconds(5))).ok());
    EXPECT_EQ(store.RemoveExpired(1000), 101u);  // The 100, and k.
    EXPECT_EQ(Reply(store, {"DBSIZE"}), ":0\r\n");
  };
  runtime.BlockOn(body());
}

}  // namespace
}  // namespace kv
