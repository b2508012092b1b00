// Copyright 2026 The coral Authors.
//
// SleepFor, SleepUntil, Timeout: durations, precision on an idle runtime, aborts and shutdown.
// Interval: its schedule, the three ways of catching up, cancellation and Reset.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/coral.h"
#include "coral/sleep.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

struct DropCounter {
  explicit DropCounter(std::atomic<int>* drops) : drops(drops) {}
  DropCounter(DropCounter&& other) noexcept : drops(std::exchange(other.drops, nullptr)) {}
  ~DropCounter() {
    if (drops != nullptr) drops->fetch_add(1);
  }
  std::atomic<int>* drops;
};

TEST(TimerTest, SleepLastsAtLeastItsDuration) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::Duration> {
    const absl::Time start = absl::Now();
    co_await SleepFor(absl::Milliseconds(30));
    co_return absl::Now() - start;
  };
  EXPECT_GE(runtime.BlockOn(body()), absl::Milliseconds(30));
}

TEST(TimerTest, SleepUntilThePast) {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<int> {
    co_await SleepUntil(absl::Now() - absl::Seconds(1));
    co_return 1;
  };
  EXPECT_EQ(runtime.BlockOn(body()), 1);
}

// On an idle runtime a timer fires within 1 ms of its deadline (median of 20, to tolerate a
// noisy machine).
TEST(TimerTest, FiresWithinOneMillisecondOnIdleRuntime) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<std::vector<absl::Duration>> {
    std::vector<absl::Duration> lateness;
    for (int i = 0; i < 20; ++i) {
      const absl::Time deadline = absl::Now() + absl::Milliseconds(5);
      co_await SleepUntil(deadline);
      lateness.push_back(absl::Now() - deadline);
    }
    co_return lateness;
  };
  std::vector<absl::Duration> lateness = runtime.BlockOn(body());
  std::sort(lateness.begin(), lateness.end());
  EXPECT_GE(lateness.front(), absl::ZeroDuration());
  EXPECT_LT(lateness[lateness.size() / 2], absl::Milliseconds(1));
}

TEST(TimerTest, TimersFireInDeadlineOrder) {
  Runtime runtime({.num_workers = 1});
  std::vector<int> order;  // One worker: no concurrent access.
  auto sleeper = [&order](int ms) -> Task<void> {
    co_await SleepFor(absl::Milliseconds(ms));
    order.push_back(ms);
  };
  auto body = [&]() -> Task<void> {
    std::vector<JoinHandle<void>> handles;
    for (int ms : {40, 10, 30, 20, 50}) handles.push_back(Spawn(sleeper, ms));
    for (auto& h : handles) co_await std::move(h);
  };
  runtime.BlockOn(body());
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30, 40, 50}));
}

TEST(TimerTest, AbortedSleeperNeverWakes) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> woke{false};
  std::atomic<int> drops{0};
  auto body = [&]() -> Task<absl::Status> {
    JoinHandle<void> sleeper = Spawn(
        [&woke](DropCounter guard) -> Task<void> {
          DropCounter local(std::move(guard));
          co_await SleepFor(absl::Milliseconds(20));
          woke = true;
        },
        DropCounter(&drops));
    co_await SleepFor(absl::Milliseconds(5));
    sleeper.Abort();
    absl::Status status = co_await std::move(sleeper);
    co_await SleepFor(absl::Milliseconds(40));  // Past the aborted timer's deadline.
    co_return status;
  };
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(body())));
  EXPECT_FALSE(woke.load());
  EXPECT_EQ(drops.load(), 1);
}

TEST(TimerTest, TimeoutReturnsResultWhenInTime) {
  Runtime runtime({.num_workers = 2});
  auto fast = []() -> Task<int> {
    co_await SleepFor(absl::Milliseconds(1));
    co_return 7;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Seconds(5), fast());
  };
  absl::StatusOr<int> result = runtime.BlockOn(body());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 7);
}

TEST(TimerTest, TimeoutCancelsSlowTask) {
  Runtime runtime({.num_workers = 2});
  std::atomic<int> drops{0};
  absl::Status slept;
  auto slow = [&](DropCounter guard) -> Task<int> {
    DropCounter local(std::move(guard));
    slept = co_await SleepFor(absl::Seconds(10));
    co_return 1;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Milliseconds(20), slow(DropCounter(&drops)));
  };
  const absl::Time start = absl::Now();
  absl::StatusOr<int> result = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(absl::IsCancelled(slept)) << slept;  // The sleep ended at the deadline.
  EXPECT_EQ(drops.load(), 1);  // The task returned before Timeout did.
}

TEST(TimerTest, TimeoutRethrows) {
  Runtime runtime({.num_workers = 2});
  auto thrower = []() -> Task<int> {
    throw std::runtime_error("inside timeout");
    co_return 0;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Seconds(5), thrower());
  };
  EXPECT_THROW(runtime.BlockOn(body()), std::runtime_error);
}

TEST(TimerTest, ShutdownDestroysSleepers) {
  std::atomic<int> drops{0};
  {
    Runtime runtime({.num_workers = 2});
    for (int i = 0; i < 100; ++i) {
      runtime
          .Spawn(
              [](DropCounter guard) -> Task<void> {
                DropCounter local(std::move(guard));
                co_await SleepFor(absl::Hours(1));
              },
              DropCounter(&drops))
          .Detach();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(drops.load(), 100);
}

// Interval tests check the schedule through next_tick(), which is exact, and completion times
// only from below (a tick never completes early), so a stall of the machine cannot fail them.

TEST(IntervalTest, TicksKeepToTheScheduleWhateverTheWorkTakes) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(absl::Milliseconds(50), Interval::MissedTicks::kBurst, start);
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE((co_await interval.Tick()).ok());
      EXPECT_GE(Now(), start + i * absl::Milliseconds(50));
      // A ticker that slept a period after each tick would drift by the work's length.
      EXPECT_EQ(interval.next_tick(), start + (i + 1) * absl::Milliseconds(50));
      co_await SleepFor(absl::Milliseconds(30));  // The work between ticks.
    }
  };
  runtime.BlockOn(body());
}

// The schedule began 3.1 periods ago, as if the task had been busy that long. (Long periods: a
// test goes wrong only if the machine stalls it for most of one.)
constexpr absl::Duration kPeriod = absl::Milliseconds(200);
constexpr absl::Duration kBehind = absl::Milliseconds(620);

TEST(IntervalTest, SkipDropsThePassedTicksAndKeepsTheSchedule) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    const Instant start = Now() - kBehind;
    Interval interval(kPeriod, Interval::MissedTicks::kSkip, start);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // The late tick, at once.
    EXPECT_EQ(interval.next_tick(), start + 4 * kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    EXPECT_GE(Now(), start + 4 * kPeriod);
    EXPECT_EQ(interval.next_tick(), start + 5 * kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, BurstCatchesUpWithEveryPassedTick) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    const Instant start = Now() - kBehind;
    Interval interval(kPeriod, Interval::MissedTicks::kBurst, start);
    for (int i = 1; i <= 5; ++i) {
      EXPECT_TRUE((co_await interval.Tick()).ok());  // The first four: at once.
      EXPECT_EQ(interval.next_tick(), start + i * kPeriod);
    }
    EXPECT_GE(Now(), start + 4 * kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, DelayRestartsTheScheduleFromTheLateTick) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    Interval interval(kPeriod, Interval::MissedTicks::kDelay, Now() - kBehind);
    const Instant before = Now();
    EXPECT_TRUE((co_await interval.Tick()).ok());
    const Instant after = Now();
    EXPECT_GE(interval.next_tick(), before + kPeriod);
    EXPECT_LE(interval.next_tick(), after + kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, ACancelledTickConsumesNothing) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kBurst, start);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // At once.
    const absl::Status cut_short = co_await Timeout(absl::Milliseconds(10), interval.Tick());
    EXPECT_TRUE(absl::IsDeadlineExceeded(cut_short)) << cut_short;
    EXPECT_EQ(interval.next_tick(), start + kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // Still the tick at one period.
    EXPECT_GE(Now(), start + kPeriod);
    EXPECT_EQ(interval.next_tick(), start + 2 * kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, ResetStartsAPeriodFromNow) {
  Runtime runtime({.num_workers = 2});
  Interval interval(kPeriod, Interval::MissedTicks::kSkip, Now() - absl::Seconds(1));
  const Instant before = Now();
  interval.Reset();  // The overdue tick is gone: the next is a period away.
  EXPECT_GE(interval.next_tick(), before + kPeriod);
  EXPECT_LE(interval.next_tick(), Now() + kPeriod);
  auto tick = [](Interval* interval) -> Task<absl::Status> { co_return co_await interval->Tick(); };
  EXPECT_TRUE(runtime.BlockOn(tick(&interval)).ok());
  EXPECT_GE(Now(), before + kPeriod);
}

}  // namespace
}  // namespace coral
