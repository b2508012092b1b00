// Copyright 2026 The coral Authors.
//
// The TaskGroup lifecycle matrix (tests/task_group_matrix.h) on workers {1, 2, 4}, with a thread
// outside the runtime cancelling the group or the parent in real time. Every combination checks
// what the child observed and exactly what Join() reports.

#include "tests/task_group_matrix.h"

#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/runtime.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

using ::coral::testing::AllCombinations;
using ::coral::testing::Combination;
using ::coral::testing::MatrixMode;

class MatrixTest : public ::testing::TestWithParam<std::tuple<int, Combination>> {};

TEST_P(MatrixTest, ExactOutcome) {
  const auto [workers, combination] = GetParam();
  testing::Probe probe;
  const absl::Time start = absl::Now();
  const testing::Observed observed = RunCombination(
      {.options = {.num_workers = workers}, .canceller = MatrixMode::Canceller::kOutsideThread},
      combination, &probe);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ExpectExactOutcome(combination, probe, observed);
}

std::string Name(const ::testing::TestParamInfo<MatrixTest::ParamType>& info) {
  const auto [workers, combination] = info.param;
  return absl::StrCat("Workers", workers, "_", CombinationName(combination));
}

INSTANTIATE_TEST_SUITE_P(TaskGroupLifecycle, MatrixTest,
                         ::testing::Combine(::testing::Values(1, 2, 4),
                                            ::testing::ValuesIn(AllCombinations())),
                         Name);

}  // namespace
}  // namespace coral
