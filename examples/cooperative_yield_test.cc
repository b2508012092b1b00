// Copyright 2026 The coral Authors.
//
// Smoke test of cooperative_yield: without yielding the hogs run one after the other and the
// ticker waits for them; with coral::Yield, and with the budget alone, the hogs share the worker,
// and with Yield the ticker runs often and promptly.

#include <cstdio>
#include <optional>
#include <string>

#include "examples/example_test_util.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

struct Phase {
  double first_started = -1;
  double second_started = -1;
  int woke = -1;
  double median = -1;
  double worst = -1;
};

Phase Parse(const std::string& output, const std::string& name) {
  Phase phase;
  const size_t at = output.find("\n" + name);
  if (at == std::string::npos) return phase;
  const size_t colon = output.find(": hogs", at);
  if (colon == std::string::npos) return phase;
  std::sscanf(output.c_str() + colon,
              ": hogs started at %lf, %lf ms; ticker woke %d times, late by median %lf ms, "
              "worst %lf ms",
              &phase.first_started, &phase.second_started, &phase.woke, &phase.median,
              &phase.worst);
  return phase;
}

TEST(CooperativeYield, YieldAndTheBudgetShareTheWorker) {
  constexpr double kWorkMs = 100;
  const std::optional<std::string> run = RunToEnd(
      "examples/cooperative_yield", {"--hogs=2", "--work=100ms", "--slice=10us", "--tick=5ms"});
  ASSERT_TRUE(run.has_value());
  const std::string& output = *run;

  const Phase no_yield = Parse(output, "no yield");
  const Phase yield = Parse(output, "coral::Yield");
  const Phase budget = Parse(output, "budget");
  ASSERT_GE(no_yield.worst, 0) << output;
  ASSERT_GE(yield.worst, 0) << output;
  ASSERT_GE(budget.second_started, 0) << output;

  // Without yielding, the second hog starts only when the first is done, and the ticker, due
  // 5 ms after the start, runs only when both are.
  EXPECT_GE(no_yield.second_started, 0.9 * kWorkMs);
  EXPECT_GE(no_yield.worst, 1.8 * kWorkMs);
  // With Yield the hogs take turns from the start, and the ticker wakes many times, each time
  // far less late.
  EXPECT_LT(yield.second_started, 0.5 * kWorkMs);
  EXPECT_GT(yield.woke, no_yield.woke);
  EXPECT_LT(yield.worst, no_yield.worst / 2);
  // Under the budget alone, the first hog gives way after 128 ready awaits (1.3 ms of work).
  EXPECT_LT(budget.second_started, 0.5 * kWorkMs);
}

}  // namespace
}  // namespace coral::examples
