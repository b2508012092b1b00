// Copyright 2026 The coral Authors.
//
// Smoke test of reactor: every event of the three fds arrives, in its own order, none early, all
// handled on the one worker thread.

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "examples/example_test_util.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

// The milliseconds of the first line containing `event`, or -1.
double TimeOf(const std::vector<std::string>& lines, const std::string& event) {
  for (const std::string& line : lines) {
    double ms;
    if (line.find(event) != std::string::npos && std::sscanf(line.c_str(), "[%lf ms]", &ms) == 1) {
      return ms;
    }
  }
  return -1;
}

TEST(Reactor, PrintsEveryEventOfThePipeTheEventfdAndTheTimer) {
  const std::optional<std::string> run =
      RunToEnd("examples/reactor",
               {"--ticks=4", "--tick=50ms", "--messages=3", "--signals=2", "--pace=30ms"});
  ASSERT_TRUE(run.has_value());
  const std::string& output = *run;
  const std::vector<std::string> lines = absl::StrSplit(output, '\n');

  // The timer: never before its time; the read that reached 4 ticks (a late read may carry two
  // expirations) came after 4 periods.
  EXPECT_GE(TimeOf(lines, "timerfd: tick "), 50) << output;
  const double fourth =
      std::max(TimeOf(lines, "timerfd: tick 4 "), TimeOf(lines, "timerfd: tick 5 "));
  EXPECT_GE(fourth, 200) << output;
  // The pipe: the three lines in order, then end of stream.
  double previous = 0;
  for (int i = 1; i <= 3; ++i) {
    const double at = TimeOf(lines, absl::StrCat("pipe: \"message ", i, " from the producer"));
    EXPECT_GE(at, previous) << "message " << i << "\n" << output;
    previous = at;
  }
  EXPECT_GE(TimeOf(lines, "pipe: end of stream"), previous) << output;
  // The eventfd: both increments counted (in one read if they coalesced).
  EXPECT_GE(TimeOf(lines, "(total 2 of 2)"), 0) << output;
  const size_t done = output.find("done: ");
  ASSERT_NE(done, std::string::npos) << output;
  int ticks = 0, messages = 0, increments = 0, threads = 0;
  ASSERT_EQ(std::sscanf(output.c_str() + done,
                        "done: %d timer ticks, %d pipe lines and end of stream, %d eventfd "
                        "increments; handled on %d thread(s)",
                        &ticks, &messages, &increments, &threads),
            4)
      << output;
  EXPECT_GE(ticks, 4);
  EXPECT_EQ(messages, 3);
  EXPECT_EQ(increments, 2);
  EXPECT_EQ(threads, 1);  // One worker: one epoll set and one thread run all three watchers.
}

}  // namespace
}  // namespace coral::examples
