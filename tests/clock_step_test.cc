// Copyright 2026 The coral Authors.
//
// A step of the wall clock (NTP, settimeofday, a VM resumed) must not move coral's timers: sleeps,
// timeouts, deadlines and intervals run on the monotonic clock.
//
// A test cannot step the machine's clock, so this binary interposes clock_gettime: every caller in
// the process (absl::Now, std::chrono::system_clock, coral itself) reads CLOCK_REALTIME through
// the definition below, offset by wall_offset_ns; every other clock passes through unchanged.
// WallClockHookSteps checks that premise. Each test then steps the wall clock while a timer is
// pending on a runtime whose worker keeps re-computing its park timeout (a ticker task sleeps
// 2 ms in a loop, as on any busy service), and measures the timer with CLOCK_MONOTONIC.
// Timers on the wall clock would fire at once after a step forward (the deadline now lies in the
// past), and an hour late after a step back.

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/interval.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "gtest/gtest.h"

namespace {
std::atomic<int64_t> wall_offset_ns{0};
}  // namespace

extern "C" int clock_gettime(clockid_t id, struct timespec* ts) {
  if (syscall(SYS_clock_gettime, id, ts) != 0) return -1;
  if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE) {
    const int64_t ns = ts->tv_sec * 1'000'000'000 + ts->tv_nsec + wall_offset_ns.load();
    ts->tv_sec = ns / 1'000'000'000;
    ts->tv_nsec = ns % 1'000'000'000;
  }
  return 0;
}

namespace coral {
namespace {

constexpr absl::Duration kStep = absl::Hours(1);

// Steps the wall clock for the length of a test.
class WallClockStep {
 public:
  explicit WallClockStep(absl::Duration step) {
    wall_offset_ns.fetch_add(absl::ToInt64Nanoseconds(step));
  }
  ~WallClockStep() { wall_offset_ns.store(0); }
};

std::chrono::steady_clock::time_point MonotonicNow() { return std::chrono::steady_clock::now(); }

absl::Duration Since(std::chrono::steady_clock::time_point start) {
  return absl::FromChrono(MonotonicNow() - start);
}

// Keeps the worker turning (and re-computing its park timeout) until `stop`.
Task<void> Ticker(std::atomic<bool>* stop) {
  while (!stop->load()) (void)co_await SleepFor(absl::Milliseconds(2));
}

// Runs `timed` (a Task<void>) with a ticker beside it on a one-worker runtime, steps the wall
// clock by `step` once `timed` has begun waiting, and returns how long `timed` took on the
// monotonic clock, or nullopt if it did not finish within `bound`.
template <typename Timed>
std::optional<absl::Duration> TimeAcrossStep(Timed timed, absl::Duration step,
                                             absl::Duration bound = absl::Seconds(5)) {
  Runtime runtime({.num_workers = 1});
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  runtime.Spawn(&Ticker, &stop).Detach();
  const auto start = MonotonicNow();
  runtime
      .Spawn([&]() -> Task<void> {
        co_await timed();
        done = true;
      })
      .Detach();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // The timer is armed.
  WallClockStep stepped(step);
  std::optional<absl::Duration> took;
  while (Since(start) < bound) {
    if (done.load()) {
      took = Since(start);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  return took;
}

TEST(ClockStepTest, WallClockHookSteps) {
  const absl::Time before = absl::Now();
  WallClockStep stepped(kStep);
  EXPECT_GE(absl::Now() - before, kStep);
}

TEST(ClockStepTest, StepForwardDoesNotEndASleep) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> { EXPECT_TRUE((co_await SleepFor(absl::Milliseconds(300))).ok()); },
      kStep);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, absl::Milliseconds(300));
}

TEST(ClockStepTest, StepBackDoesNotStretchASleep) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> { EXPECT_TRUE((co_await SleepFor(absl::Milliseconds(100))).ok()); },
      -kStep);
  ASSERT_TRUE(took.has_value()) << "the sleep did not end within 5 s";
  EXPECT_GE(*took, absl::Milliseconds(100));
}

// A wall-clock deadline is converted to the monotonic clock once, when the sleep begins.
TEST(ClockStepTest, SleepUntilAWallTimeIsConvertedOnce) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> {
        EXPECT_TRUE((co_await SleepUntil(absl::Now() + absl::Milliseconds(300))).ok());
      },
      kStep);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, absl::Milliseconds(250));
}

TEST(ClockStepTest, StepForwardDoesNotExpireATimeout) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> {
        auto slow = []() -> Task<int> {
          (void)co_await SleepFor(absl::Milliseconds(200));
          co_return 1;
        };
        absl::StatusOr<int> result = co_await Timeout(absl::Milliseconds(300), slow());
        EXPECT_TRUE(result.ok()) << result.status();
      },
      kStep);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, absl::Milliseconds(200));
}

TEST(ClockStepTest, StepForwardDoesNotCancelADeadline) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> {
        CancellationSource deadline = CancellationSource::WithDeadline(
            absl::Now() + absl::Milliseconds(300), CurrentCancellationToken());
        (void)co_await SleepFor(absl::Milliseconds(100));
        EXPECT_FALSE(deadline.IsCancelled());
        EXPECT_TRUE((co_await deadline.token().Cancelled()).ok());
      },
      kStep);
  ASSERT_TRUE(took.has_value());
  EXPECT_GE(*took, absl::Milliseconds(250));
}

TEST(ClockStepTest, StepBackDoesNotStallAnInterval) {
  std::optional<absl::Duration> took = TimeAcrossStep(
      []() -> Task<void> {
        Interval interval(absl::Milliseconds(50));
        for (int i = 0; i < 4; ++i) EXPECT_TRUE((co_await interval.Tick()).ok());
      },
      -kStep);
  ASSERT_TRUE(took.has_value()) << "the interval stalled";
  EXPECT_GE(*took, absl::Milliseconds(150));
}

}  // namespace
}  // namespace coral
