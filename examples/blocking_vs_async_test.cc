// Copyright 2026 The coral Authors.
//
// Smoke test of blocking_vs_async: both servers are measured, every number is there and sane,
// and the thread-per-connection server ran a thread per connection while coral ran its workers.

#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/example_test_util.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

struct Line {
  double round_trips_per_second = 0;
  double cpu_us_per_round_trip = 0;
  int threads = 0;
};

// Parses the line that starts with `name`.
bool ParseLine(const std::string& output, const std::string& name, Line* line) {
  const size_t at = output.find(absl::StrCat("\n", name, ": "));
  if (at == std::string::npos) return false;
  return std::sscanf(output.c_str() + at + name.size() + 3,
                     "%lf round trips/s, %lf us server CPU per round trip, %d server threads",
                     &line->round_trips_per_second, &line->cpu_us_per_round_trip,
                     &line->threads) == 3;
}

TEST(BlockingVsAsync, MeasuresBothServers) {
  constexpr int kConnections = 16;
  const std::optional<std::string> run =
      RunToEnd("examples/blocking_vs_async",
               {absl::StrCat("--connections=", kConnections), "--duration=500ms", "--workers=2"});
  ASSERT_TRUE(run.has_value());
  const std::string& output = *run;

  Line threads;
  Line coral;
  ASSERT_TRUE(ParseLine(output, "thread per connection", &threads)) << output;
  ASSERT_TRUE(ParseLine(output, "coral, 2 worker(s)", &coral)) << output;
  for (const Line& line : {threads, coral}) {
    EXPECT_GT(line.round_trips_per_second, 0);
    EXPECT_GT(line.cpu_us_per_round_trip, 0);
    EXPECT_LT(line.cpu_us_per_round_trip, 1e6);
  }
  // A thread per connection, beside the main and accepting threads.
  EXPECT_GE(threads.threads, kConnections + 2);
  // coral: its 2 workers and the main thread, and a few helpers (ThreadSanitizer adds one), however
  // many connections.
  EXPECT_GE(coral.threads, 3);
  EXPECT_LE(coral.threads, 5);
}

}  // namespace
}  // namespace coral::examples
