// Copyright 2026 The coral Authors.
//
// main() for tests that run under seeded schedules (the stress suite, the deterministic-mode
// tests): GoogleTest's main, plus a listener that prints the process's schedule seed
// (coral/internal/schedule_seed.h) after each failed test, as the environment to rerun it with:
//
//   [ seed     ] LifecycleStress.AbortsRaceCompletion failed under CORAL_SCHEDULE_SEED=7
//
// A process without a seed says so instead, since an unperturbed schedule is a fact to report
// too. Rerun with `bazel/bazelw test --test_env=CORAL_SCHEDULE_SEED=7 ...` (docs/reliability.md).

#include <cstdint>
#include <cstdio>
#include <optional>

#include "coral/internal/schedule_seed.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

class SeedReporter : public ::testing::EmptyTestEventListener {
 public:
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    const std::optional<uint64_t> seed = internal::ProcessScheduleSeed();
    if (seed.has_value()) {
      std::printf("[ seed     ] %s.%s failed under %s=%llu\n", info.test_suite_name(), info.name(),
                  internal::kScheduleSeedEnv, static_cast<unsigned long long>(*seed));
    } else {
      std::printf("[ seed     ] %s.%s failed with no %s (schedule unperturbed)\n",
                  info.test_suite_name(), info.name(), internal::kScheduleSeedEnv);
    }
    std::fflush(stdout);
  }
};

}  // namespace
}  // namespace coral

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Read (and validated) before any test runs, so a malformed seed aborts at once.
  (void)coral::internal::ProcessScheduleSeed();
  // The listener list owns it.
  ::testing::UnitTest::GetInstance()->listeners().Append(new coral::SeedReporter);
  return RUN_ALL_TESTS();
}
