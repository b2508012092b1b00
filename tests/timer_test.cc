// Copyright 2026 The coral Authors.
//
// SleepFor, SleepUntil, Timeout: durations (exact, on a paused clock; from below, on the real
// one), aborts and shutdown. Interval: its schedule, the three ways of catching up,
// cancellation and Reset, on a paused clock.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/interval.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::DropCounter;

// Real-clock tests check durations from below only, so a slow or stalled machine cannot fail
// them. Timer logic is tested on a paused runtime (clock.h), where times are exact.

TEST(TimerTest, SleepLastsAtLeastItsDurationOnTheRealClock) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    co_await SleepFor(absl::Milliseconds(30));
    co_return Now() - start;
  };
  EXPECT_GE(runtime.BlockOn(body()), absl::Milliseconds(30));
}

TEST(TimerTest, SleepUntilAWallTimeLastsUntilThenOnTheRealClock) {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    co_await SleepUntil(absl::Now() + absl::Milliseconds(20));
    co_return Now() - start;
  };
  // Converted once to the monotonic clock; the two clocks are read a few microseconds apart.
  EXPECT_GE(runtime.BlockOn(body()), absl::Milliseconds(19));
}

TEST(TimerTest, SleepLastsExactlyItsDuration) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    EXPECT_TRUE((co_await SleepFor(absl::Milliseconds(30))).ok());
    co_return Now() - start;
  };
  EXPECT_EQ(runtime.BlockOn(body()), absl::Milliseconds(30));
}

TEST(TimerTest, SleepUntilThePast) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    EXPECT_TRUE((co_await SleepUntil(Now() - absl::Seconds(1))).ok());
    EXPECT_TRUE((co_await SleepUntil(absl::Now() - absl::Seconds(1))).ok());
    EXPECT_TRUE((co_await SleepFor(absl::ZeroDuration())).ok());
    co_return Now() - start;
  };
  EXPECT_EQ(runtime.BlockOn(body()), absl::ZeroDuration());
}

TEST(TimerTest, TimersFireInDeadlineOrder) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  std::vector<std::pair<int, absl::Duration>> woke;  // One worker: no concurrent access.
  auto body = [&]() -> Task<void> {
    const Instant start = Now();
    auto sleeper = [&woke, start](int ms) -> Task<void> {
      co_await SleepFor(absl::Milliseconds(ms));
      woke.emplace_back(ms, Now() - start);
    };
    std::vector<JoinHandle<void>> handles;
    for (int ms : {40, 10, 30, 20, 50}) handles.push_back(Spawn(sleeper, ms));
    for (auto& h : handles) co_await std::move(h);
  };
  runtime.BlockOn(body());
  std::vector<std::pair<int, absl::Duration>> expected;
  for (int ms : {10, 20, 30, 40, 50}) expected.emplace_back(ms, absl::Milliseconds(ms));
  EXPECT_EQ(woke, expected);
}

TEST(TimerTest, AbortedSleeperNeverWakes) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
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
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto fast = []() -> Task<int> {
    co_await SleepFor(absl::Milliseconds(1));
    co_return 7;
  };
  auto body = [&]() -> Task<std::pair<absl::StatusOr<int>, absl::Duration>> {
    const Instant start = Now();
    absl::StatusOr<int> result = co_await Timeout(absl::Seconds(5), fast());
    co_return std::make_pair(result, Now() - start);
  };
  auto [result, took] = runtime.BlockOn(body());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 7);
  EXPECT_EQ(took, absl::Milliseconds(1));
}

TEST(TimerTest, TimeoutCancelsSlowTask) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  std::atomic<int> drops{0};
  absl::Status slept;
  auto slow = [&](DropCounter guard) -> Task<int> {
    DropCounter local(std::move(guard));
    slept = co_await SleepFor(absl::Seconds(10));
    co_return 1;
  };
  auto body = [&]() -> Task<std::pair<absl::StatusOr<int>, absl::Duration>> {
    const Instant start = Now();
    absl::StatusOr<int> result =
        co_await Timeout(absl::Milliseconds(20), slow(DropCounter(&drops)));
    co_return std::make_pair(result, Now() - start);
  };
  auto [result, took] = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
  EXPECT_EQ(took, absl::Milliseconds(20));
  EXPECT_TRUE(absl::IsCancelled(slept)) << slept;  // The sleep ended at the deadline.
  EXPECT_EQ(drops.load(), 1);                      // The task returned before Timeout did.
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

// The deadline fires (another worker polls this worker's timers while the task computes) and the
// task then finishes with its value without waiting again: its result wins, as with tokio, whose
// timeout polls the inner future first.
TEST(TimerTest, TimeoutReturnsAResultFinishedAfterTheDeadlineFired) {
  Runtime runtime({.num_workers = 2});
  std::atomic<bool> saw_deadline{false};
  auto computes_past_deadline = [&]() -> Task<int> {
    const CancellationToken token = CurrentCancellationToken();
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!token.IsCancelled() && absl::Now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // Computes; never awaits.
    }
    saw_deadline = token.IsCancelled();
    co_return 7;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Milliseconds(5), computes_past_deadline());
  };
  absl::StatusOr<int> result = runtime.BlockOn(body());
  ASSERT_TRUE(saw_deadline.load());  // The deadline had fired before the task finished.
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 7);
}

// Once the deadline has cut a wait short, the task's result is dropped even if it is a value.
TEST(TimerTest, TimeoutDropsAResultOnceAWaitWasCutShort) {
  Runtime runtime({.num_workers = 2});
  auto ignores_cancellation = []() -> Task<int> {
    (void)co_await SleepFor(absl::Seconds(10));
    co_return 7;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Milliseconds(5), ignores_cancellation());
  };
  EXPECT_TRUE(absl::IsDeadlineExceeded(runtime.BlockOn(body()).status()));
}

// A deadline that refuses a wait (it fired before the wait began) cuts the task short too.
TEST(TimerTest, TimeoutDropsAResultOnceAWaitWasRefused) {
  Runtime runtime({.num_workers = 2});
  auto waits_late = []() -> Task<int> {
    const CancellationToken token = CurrentCancellationToken();
    while (!token.IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    (void)co_await SleepFor(absl::Seconds(10));  // Does not start: the token is cancelled.
    co_return 7;
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Milliseconds(5), waits_late());
  };
  EXPECT_TRUE(absl::IsDeadlineExceeded(runtime.BlockOn(body()).status()));
}

// A task spawned inside the Timeout inherits its deadline; the deadline cutting that task's sleep
// short is not the Timeout's own task being cut short. The task finishes with 42 after the
// deadline fired, none of its own waits having noticed (its nap is shielded): 42 wins.
TEST(TimerTest, TimeoutKeepsAResultWhenOnlyASpawnedTaskWasCutShort) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    std::optional<JoinHandle<absl::Status>> child;
    auto nap = []() -> Task<absl::Status> { co_return co_await SleepFor(absl::Milliseconds(20)); };
    auto spawns_and_naps = [&]() -> Task<int> {
      child = Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
      EXPECT_TRUE((co_await Shielded(nap())).ok());
      co_return 42;
    };
    const Instant start = Now();
    absl::StatusOr<int> result = co_await Timeout(absl::Milliseconds(10), spawns_and_naps());
    EXPECT_EQ(Now() - start, absl::Milliseconds(20));
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result.value_or(0), 42);
    // The child's sleep did end at the deadline.
    absl::StatusOr<absl::Status> slept = co_await std::move(*child);
    EXPECT_TRUE(slept.ok() && absl::IsCancelled(*slept)) << slept.status();
  };
  runtime.BlockOn(body());
}

// The same with a TaskGroup: the deadline cuts the child's sleep short, the group's Join (which
// never ends early) reports the child's CancelledError, and the task ignores it and returns 42.
TEST(TimerTest, TimeoutKeepsAResultWhenOnlyAGroupChildWasCutShort) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto ignores_its_child = []() -> Task<int> {
    TaskGroup group;
    group.Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); });
    const absl::Status joined = co_await group.Join();
    EXPECT_TRUE(absl::IsCancelled(joined)) << joined;
    co_return 42;
  };
  auto body = [&]() -> Task<std::pair<absl::StatusOr<int>, absl::Duration>> {
    const Instant start = Now();
    absl::StatusOr<int> result = co_await Timeout(absl::Milliseconds(10), ignores_its_child());
    co_return std::make_pair(result, Now() - start);
  };
  auto [result, took] = runtime.BlockOn(body());
  EXPECT_EQ(took, absl::Milliseconds(10));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 42);
}

// A Select that the deadline cuts short is one of the task's own waits: DeadlineExceeded, not
// the Select's CancelledError passed through as the task's result.
TEST(TimerTest, TimeoutReportsASelectCutShort) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto [tx, rx] = Channel<int>::Bounded(1);
  auto selects = [&]() -> Task<absl::Status> { co_return (co_await Select(rx)).status(); };
  auto body = [&]() -> Task<absl::Status> {
    co_return co_await Timeout(absl::Milliseconds(10), selects());
  };
  const absl::Status result = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsDeadlineExceeded(result)) << result;
}

// WhenAll and WhenAny run their tasks as children, but for Timeout they are the awaited work
// itself, as if run in place (as tokio's join! and select! are): the deadline cutting their waits
// short drops the result they return, here 1s made by tasks that ignored the cancellation.
TEST(TimerTest, TimeoutAroundWhenAllAndWhenAnyCountsTheirWaits) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto ignores_cancellation = []() -> Task<int> {
    (void)co_await SleepFor(absl::Hours(1));
    co_return 1;
  };
  auto body = [&]() -> Task<void> {
    auto all = [&]() -> Task<int> {
      auto [a, b] = co_await WhenAll(ignores_cancellation(), ignores_cancellation());
      co_return a.value_or(0) + b.value_or(0);
    };
    const Instant start = Now();
    absl::StatusOr<int> result = co_await Timeout(absl::Milliseconds(10), all());
    EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
    EXPECT_EQ(Now() - start, absl::Milliseconds(10));
    auto any = [&]() -> Task<int> {
      WhenAnyResult<int, int> first =
          co_await WhenAny(ignores_cancellation(), ignores_cancellation());
      co_return std::visit([](const absl::StatusOr<int>& r) { return r.value_or(0); },
                           first.result);
    };
    result = co_await Timeout(absl::Milliseconds(10), any());
    EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
    std::vector<Task<int>> tasks;
    tasks.push_back(ignores_cancellation());
    result = co_await Timeout(absl::Milliseconds(10), [&]() -> Task<int> {
      std::vector<absl::StatusOr<int>> all = co_await WhenAll(std::move(tasks));
      co_return all[0].value_or(0);
    }());
    EXPECT_TRUE(absl::IsDeadlineExceeded(result.status())) << result.status();
  };
  runtime.BlockOn(body());
}

// A WhenAny whose winner finished in time keeps its value, although the deadline may cut the
// losers short before WhenAny returns (they were cancelled already, by the win).
TEST(TimerTest, TimeoutAroundWhenAnyKeepsAWinnerInTime) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto sleeps = [](absl::Duration d, int value) -> Task<int> {
    (void)co_await SleepFor(d);
    co_return value;
  };
  auto any = [&]() -> Task<int> {
    WhenAnyResult<int, int> first =
        co_await WhenAny(sleeps(absl::Milliseconds(5), 5), sleeps(absl::Hours(1), 0));
    co_return std::visit([](const absl::StatusOr<int>& r) { return r.value_or(-1); }, first.result);
  };
  auto body = [&]() -> Task<absl::StatusOr<int>> {
    co_return co_await Timeout(absl::Milliseconds(10), any());
  };
  absl::StatusOr<int> result = runtime.BlockOn(body());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, 5);
}

// The surrounding token's cancellation is not a deadline: the task's own result comes back.
TEST(TimerTest, TimeoutPassesTheSurroundingCancellationThrough) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::Status> {
    CancellationSource outer;
    outer.Cancel();
    auto sleeper = []() -> Task<absl::Status> { co_return co_await SleepFor(absl::Seconds(10)); };
    co_return co_await WithCancellation(outer.token(), [&]() -> Task<absl::Status> {
      co_return co_await Timeout(absl::Seconds(10), sleeper());
    }());
  };
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(body())));
}

TEST(TimerTest, TimeoutConvertsToATask) {
  Runtime runtime({.num_workers = 2});
  auto fast = []() -> Task<int> { co_return 1; };
  auto slow = []() -> Task<int> {
    (void)co_await SleepFor(absl::Seconds(10));
    co_return 2;
  };
  auto body = [&]() -> Task<bool> {
    auto [a, b] = co_await WhenAll<absl::StatusOr<int>, absl::StatusOr<int>>(
        Timeout(absl::Seconds(10), fast()), Timeout(absl::Milliseconds(5), slow()));
    co_return a.ok() && *a == 1 && absl::IsDeadlineExceeded(b.status());
  };
  EXPECT_TRUE(runtime.BlockOn(body()));
}

// Many Timeouts around tasks that finish at once leave no timer and no memory behind.
TEST(TimerTest, TimeoutsAroundReadyTasksReleaseTheirDeadlines) {
  Runtime runtime({.num_workers = 2});
  auto ready = []() -> Task<int> { co_return 1; };
  auto body = [&]() -> Task<int> {
    int sum = 0;
    for (int i = 0; i < 10000; ++i) {
      absl::StatusOr<int> r = co_await Timeout(absl::Hours(1), ready());
      sum += r.ok() ? *r : 0;
    }
    co_return sum;
  };
  EXPECT_EQ(runtime.BlockOn(body()), 10000);
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

// Interval tests run on a paused runtime: every tick's time is exact.

constexpr absl::Duration kPeriod = absl::Milliseconds(200);

TEST(IntervalTest, TicksKeepToTheScheduleWhateverTheWorkTakes) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(absl::Milliseconds(50), Interval::MissedTicks::kBurst, start);
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE((co_await interval.Tick()).ok());
      EXPECT_EQ(Now(), start + i * absl::Milliseconds(50));
      // A ticker that slept a period after each tick would drift by the work's length.
      EXPECT_EQ(interval.next_tick(), start + (i + 1) * absl::Milliseconds(50));
      co_await SleepFor(absl::Milliseconds(30));  // The work between ticks.
    }
  };
  runtime.BlockOn(body());
}

// The task falls 3.1 periods behind: work of 620 ms after the first tick.
constexpr absl::Duration kBehind = absl::Milliseconds(620);

TEST(IntervalTest, SkipDropsThePassedTicksAndKeepsTheSchedule) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kSkip);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // At once.
    co_await SleepFor(kBehind);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // The late tick, at once.
    EXPECT_EQ(Now(), start + kBehind);
    EXPECT_EQ(interval.next_tick(), start + 4 * kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    EXPECT_EQ(Now(), start + 4 * kPeriod);
    EXPECT_EQ(interval.next_tick(), start + 5 * kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, BurstCatchesUpWithEveryPassedTick) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kBurst);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    co_await SleepFor(kBehind);
    for (int i = 2; i <= 5; ++i) {
      EXPECT_TRUE((co_await interval.Tick()).ok());  // The first three: at once.
      EXPECT_EQ(Now(), std::max(start + kBehind, start + (i - 1) * kPeriod));
      EXPECT_EQ(interval.next_tick(), start + i * kPeriod);
    }
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, DelayRestartsTheScheduleFromTheLateTick) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kDelay);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    co_await SleepFor(kBehind);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    EXPECT_EQ(Now(), start + kBehind);
    EXPECT_EQ(interval.next_tick(), start + kBehind + kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    EXPECT_EQ(Now(), start + kBehind + kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, ACancelledTickConsumesNothing) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kBurst, start);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // At once.
    const absl::Status cut_short = co_await Timeout(absl::Milliseconds(10), interval.Tick());
    EXPECT_TRUE(absl::IsDeadlineExceeded(cut_short)) << cut_short;
    EXPECT_EQ(Now(), start + absl::Milliseconds(10));
    EXPECT_EQ(interval.next_tick(), start + kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());  // Still the tick at one period.
    EXPECT_EQ(Now(), start + kPeriod);
    EXPECT_EQ(interval.next_tick(), start + 2 * kPeriod);
  };
  runtime.BlockOn(body());
}

TEST(IntervalTest, ResetStartsAPeriodFromNow) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    Interval interval(kPeriod, Interval::MissedTicks::kSkip, start - absl::Seconds(1));
    co_await SleepFor(absl::Milliseconds(30));
    interval.Reset();  // The overdue tick is gone: the next is a period away.
    EXPECT_EQ(interval.next_tick(), start + absl::Milliseconds(30) + kPeriod);
    EXPECT_TRUE((co_await interval.Tick()).ok());
    EXPECT_EQ(Now(), start + absl::Milliseconds(30) + kPeriod);
  };
  runtime.BlockOn(body());
}

// A wall-clock start is converted once, when the Interval is made.
TEST(IntervalTest, AWallClockStartOnTheRealClock) {
  Runtime runtime({.num_workers = 1});
  auto body = []() -> Task<absl::Duration> {
    const Instant before = Now();
    Interval interval(absl::Milliseconds(20), Interval::MissedTicks::kSkip,
                      absl::Now() + absl::Milliseconds(20));
    EXPECT_TRUE((co_await interval.Tick()).ok());
    co_return Now() - before;
  };
  EXPECT_GE(runtime.BlockOn(body()), absl::Milliseconds(19));
}

}  // namespace
}  // namespace coral
