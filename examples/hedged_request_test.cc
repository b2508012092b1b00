// Copyright 2026 The coral Authors.
//
// Smoke test of hedged_request: the fast backend wins and the slow one observes its cancellation
// long before it would have answered; under a deadline shorter than both, both are cancelled at
// the deadline.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "examples/example_test_util.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

// The number after `prefix` in the line that starts with it, or -1.
double NumberAfter(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& line : lines) {
    double value;
    if (absl::StartsWith(line, prefix) &&
        std::sscanf(line.c_str() + prefix.size(), "%lf", &value) == 1) {
      return value;
    }
  }
  return -1;
}

TEST(HedgedRequest, FirstAnswerWinsTheLoserIsCancelledTheDeadlineBoundsBoth) {
  const std::optional<std::string> run =
      RunToEnd("examples/hedged_request",
               {"--slow=1s", "--fast=100ms", "--deadline=5s", "--short_deadline=20ms"});
  ASSERT_TRUE(run.has_value());
  const std::string& output = *run;
  std::vector<std::string> lines = absl::StrSplit(output, '\n');
  ASSERT_GE(lines.size(), 7u) << output;

  // Request 1: B (100 ms) wins; A (1 s) is cancelled when B's answer arrives.
  const double won_at = NumberAfter(lines, "request 1, deadline 5s: answer from B after ");
  EXPECT_GE(won_at, 100) << output;
  EXPECT_LT(won_at, 1000) << output;
  EXPECT_NE(output.find("B's answer to request 1"), std::string::npos) << output;
  EXPECT_TRUE(absl::StartsWith(lines[2], "  backend A: cancelled after ")) << output;
  EXPECT_NE(lines[2].find("(CANCELLED"), std::string::npos) << output;
  const double a_cancelled_at = NumberAfter({lines[2]}, "  backend A: cancelled after ");
  EXPECT_GE(a_cancelled_at, won_at - 1) << output;
  EXPECT_LT(a_cancelled_at, 1000) << output;
  EXPECT_TRUE(absl::StartsWith(lines[3], "  backend B: answered after ")) << output;

  // Request 2: the deadline (20 ms) passes before either answers; both observe cancellation.
  EXPECT_TRUE(absl::StartsWith(lines[4], "request 2, deadline 20ms: DEADLINE_EXCEEDED")) << output;
  const double gave_up_at = NumberAfter({lines[5]}, "  backend A: cancelled after ");
  EXPECT_GE(gave_up_at, 20) << output;
  EXPECT_LT(gave_up_at, 100) << output;
  EXPECT_TRUE(absl::StartsWith(lines[6], "  backend B: cancelled after ")) << output;
}

}  // namespace
}  // namespace coral::examples
