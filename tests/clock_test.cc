// Copyright 2026 The coral Authors.
//
// The clock (coral/clock.h): Instant arithmetic, and paused time: auto-advance, AdvanceTime from
// outside and from a task, one virtual now on every worker, and what holds the clock back
// (SpawnBlocking in flight, ready fds).

#include "absl/time/clock.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/spawn_blocking.h"
#include "coral/task.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

using std::chrono::steady_clock;

absl::Duration RealSince(steady_clock::time_point start) {
  return absl::FromChrono(steady_clock::now() - start);
}

TEST(InstantTest, Arithmetic) {
  const Instant t = Instant::FromSinceOrigin(absl::Seconds(10));
  EXPECT_EQ(t + absl::Seconds(1) - t, absl::Seconds(1));
  EXPECT_EQ(t - absl::Seconds(1), Instant::FromSinceOrigin(absl::Seconds(9)));
  EXPECT_LT(t, t + absl::Nanoseconds(1));
  EXPECT_EQ(t + absl::InfiniteDuration(), Instant::InfiniteFuture());
  EXPECT_EQ(Instant::InfiniteFuture() - t, absl::InfiniteDuration());
  EXPECT_LT(Instant::InfinitePast(), t);
}

TEST(InstantTest, RealClockIsMonotonicAndTracksWallTime) {
  const Instant a = Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Instant b = Now();
  EXPECT_GE(b - a, absl::Milliseconds(5));
  EXPECT_EQ(internal::FromWallTime(absl::InfiniteFuture()), Instant::InfiniteFuture());
  EXPECT_EQ(internal::FromWallTime(absl::InfinitePast()), Instant::InfinitePast());
}

// A wall-clock time converts to the Instant as far from Now() as it is from absl::Now(). On a
// paused clock Now() stands still, so the only slack is the wall time that passes during the
// conversion itself, which the test measures: the bounds hold whatever the machine's speed.
TEST(PausedClockTest, AWallTimeConvertsToTheInstantAsFarAway) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  runtime.BlockOn([]() -> Task<void> {
    const Instant now = Now();
    const absl::Time wall_before = absl::Now();
    const Instant converted = internal::FromWallTime(wall_before + absl::Seconds(3));
    const absl::Duration during = absl::Now() - wall_before;
    EXPECT_EQ(Now(), now);
    EXPECT_LE(converted - now, absl::Seconds(3));
    EXPECT_GE(converted - now, absl::Seconds(3) - during);
    co_return;
  }());
}

TEST(PausedClockTest, AnHourLongSleepCompletesAtOnce) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  const auto real_start = steady_clock::now();
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    EXPECT_TRUE((co_await SleepFor(absl::Hours(1))).ok());
    co_return Now() - start;
  };
  EXPECT_EQ(runtime.BlockOn(body()), absl::Hours(1));
  EXPECT_LT(RealSince(real_start), absl::Seconds(2));
}

TEST(PausedClockTest, TheClockStandsStillWhileTasksRun) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    for (int i = 0; i < 1000; ++i) co_await Yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    co_return Now() - start;
  };
  EXPECT_EQ(runtime.BlockOn(body()), absl::ZeroDuration());
}

// Sleeps of 40, 10, 30, 20 and 50 ms on four workers: each sleeper wakes at exactly its
// deadline, and they wake in deadline order.
TEST(PausedClockTest, AutoAdvanceFiresTimersInOrderAtTheirDeadlines) {
  Runtime runtime({.num_workers = 4, .start_paused = true});
  std::mutex mu;
  std::vector<std::pair<int, absl::Duration>> woke;
  auto body = [&]() -> Task<void> {
    const Instant start = Now();
    auto sleeper = [&](int ms, Instant start) -> Task<void> {
      EXPECT_TRUE((co_await SleepFor(absl::Milliseconds(ms))).ok());
      std::lock_guard<std::mutex> lock(mu);
      woke.emplace_back(ms, Now() - start);
    };
    std::vector<JoinHandle<void>> handles;
    for (int ms : {40, 10, 30, 20, 50}) handles.push_back(Spawn(sleeper, ms, start));
    for (auto& h : handles) (void)co_await std::move(h);
    EXPECT_EQ(Now() - start, absl::Milliseconds(50));
  };
  runtime.BlockOn(body());
  ASSERT_EQ(woke.size(), 5u);
  for (size_t i = 0; i < woke.size(); ++i) {
    const int ms = 10 * static_cast<int>(i + 1);
    EXPECT_EQ(woke[i].first, ms);
    EXPECT_EQ(woke[i].second, absl::Milliseconds(ms));
  }
}

// One virtual now: 64 tasks spread over four workers sleep to the same deadline, and every one
// of them reads the same Now() on waking; the clock stands there until they are all done.
TEST(PausedClockTest, EveryWorkerSeesTheSameNow) {
  Runtime runtime({.num_workers = 4, .start_paused = true});
  std::mutex mu;
  std::vector<Instant> seen;
  std::vector<std::thread::id> threads;
  auto body = [&]() -> Task<Instant> {
    const Instant deadline = Now() + absl::Seconds(1);
    auto sleeper = [&](Instant deadline) -> Task<void> {
      for (int i = 0; i < 10; ++i) co_await Yield();  // Gives thieves a chance to spread them.
      EXPECT_TRUE((co_await SleepUntil(deadline)).ok());
      std::this_thread::sleep_for(std::chrono::microseconds(100));  // Real time passes.
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(Now());
      threads.push_back(std::this_thread::get_id());
    };
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < 64; ++i) handles.push_back(Spawn(sleeper, deadline));
    for (auto& h : handles) (void)co_await std::move(h);
    co_return deadline;
  };
  const Instant deadline = runtime.BlockOn(body());
  ASSERT_EQ(seen.size(), 64u);
  for (const Instant& t : seen) EXPECT_EQ(t, deadline);
  EXPECT_EQ(runtime.Now(), deadline);
  std::sort(threads.begin(), threads.end());
  const auto distinct = std::unique(threads.begin(), threads.end()) - threads.begin();
  std::printf("sleepers woke on %d of 4 workers\n", static_cast<int>(distinct));
}

// Without auto-advance the clock moves only when told. Runtime::AdvanceTime(25 ms) fires the
// timers due by then, each at its deadline and in deadline order, and no other.
TEST(PausedClockTest, AdvanceFiresExactlyTheDueTimersInOrder) {
  Runtime runtime({.num_workers = 2, .start_paused = true, .auto_advance = false});
  const Instant start = runtime.Now();
  std::mutex mu;
  std::vector<std::pair<int, absl::Duration>> woke;
  std::vector<JoinHandle<void>> handles;
  for (int ms : {30, 10, 20}) {
    handles.push_back(runtime.Spawn(
        [&](int ms) -> Task<void> {
          EXPECT_TRUE((co_await SleepFor(absl::Milliseconds(ms))).ok());
          std::lock_guard<std::mutex> lock(mu);
          woke.emplace_back(ms, Now() - start);
        },
        ms));
  }
  runtime.AdvanceTime(absl::ZeroDuration());  // Returns once idle: every sleeper waits.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(runtime.Now(), start);
  EXPECT_TRUE(woke.empty());

  runtime.AdvanceTime(absl::Milliseconds(25));
  EXPECT_EQ(runtime.Now(), start + absl::Milliseconds(25));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(woke, (std::vector<std::pair<int, absl::Duration>>{{10, absl::Milliseconds(10)},
                                                                 {20, absl::Milliseconds(20)}}));
  }
  runtime.AdvanceTime(absl::Milliseconds(5));
  EXPECT_EQ(runtime.Now(), start + absl::Milliseconds(30));
  for (auto& h : handles) {
    EXPECT_TRUE(runtime
                    .BlockOn([](JoinHandle<void> h) -> Task<absl::Status> {
                      co_return co_await std::move(h);
                    }(std::move(h)))
                    .ok());
  }
  ASSERT_EQ(woke.size(), 3u);
  EXPECT_EQ(woke[2], std::make_pair(30, absl::Milliseconds(30)));
}

// From a task: co_await AdvanceTime(d) lets the clock move d, firing what falls due on the way.
TEST(PausedClockTest, AdvanceTimeFromATask) {
  Runtime runtime({.num_workers = 2, .start_paused = true, .auto_advance = false});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    JoinHandle<absl::Duration> sleeper = Spawn([start]() -> Task<absl::Duration> {
      (void)co_await SleepFor(absl::Milliseconds(10));
      co_return Now() - start;
    });
    EXPECT_TRUE((co_await AdvanceTime(absl::Milliseconds(15))).ok());
    EXPECT_EQ(Now() - start, absl::Milliseconds(15));
    absl::StatusOr<absl::Duration> slept = co_await std::move(sleeper);
    EXPECT_EQ(*slept, absl::Milliseconds(10));
  };
  runtime.BlockOn(body());
}

TEST(PausedClockTest, AdvanceTimeWithAutoAdvanceWaitsUntilTheClockPassedIt) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  const Instant start = runtime.Now();
  runtime.AdvanceTime(absl::Seconds(5));
  EXPECT_EQ(runtime.Now(), start + absl::Seconds(5));
}

// A cancelled co_await AdvanceTime (here by a Timeout's deadline, a timer on the way) stops the
// clock where it stood: at the deadline, 5 s into the 10 s, for good. Nothing moves it further on
// the cancelled call's behalf, and no timer due before its target fires by itself afterwards.
TEST(PausedClockTest, ACancelledAdvanceStopsTheClockAndLeavesNoLimit) {
  Runtime runtime({.num_workers = 2, .start_paused = true, .auto_advance = false});
  const Instant start = runtime.Now();
  runtime.BlockOn([start]() -> Task<void> {
    const absl::Status advanced =
        co_await Timeout(absl::Seconds(5), AdvanceTime(absl::Seconds(10)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(advanced)) << advanced;
    EXPECT_EQ(Now() - start, absl::Seconds(5));
  }());
  std::atomic<bool> woke{false};
  JoinHandle<void> sleeper = runtime.Spawn([&woke]() -> Task<void> {
    EXPECT_TRUE((co_await SleepFor(absl::Seconds(2))).ok());
    woke = true;
  });
  runtime.AdvanceTime(absl::ZeroDuration());  // Returns once idle: the sleeper waits.
  EXPECT_EQ(runtime.Now() - start, absl::Seconds(5));
  EXPECT_FALSE(woke.load());
  runtime.AdvanceTime(absl::Seconds(1));
  EXPECT_EQ(runtime.Now() - start, absl::Seconds(6));
  EXPECT_FALSE(woke.load());
  runtime.AdvanceTime(absl::Seconds(1));
  EXPECT_EQ(runtime.Now() - start, absl::Seconds(7));
  EXPECT_TRUE(runtime
                  .BlockOn([](JoinHandle<void> h) -> Task<absl::Status> {
                    co_return co_await std::move(h);
                  }(std::move(sleeper)))
                  .ok());
  EXPECT_TRUE(woke.load());
}

// With auto-advance, a cancelled AdvanceTime leaves no target behind either: an idle runtime with
// no timer pending keeps its clock where the cancellation stopped it.
TEST(PausedClockTest, ACancelledAdvanceLeavesAutoAdvanceAsItWas) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  const Instant start = runtime.Now();
  runtime.BlockOn([start]() -> Task<void> {
    const absl::Status advanced =
        co_await Timeout(absl::Seconds(5), AdvanceTime(absl::Seconds(10)));
    EXPECT_TRUE(absl::IsDeadlineExceeded(advanced)) << advanced;
    EXPECT_EQ(Now() - start, absl::Seconds(5));
  }());
  runtime.AdvanceTime(absl::ZeroDuration());  // Returns once the runtime was idle.
  EXPECT_EQ(runtime.Now() - start, absl::Seconds(5));
}

// A SpawnBlocking call in flight holds the clock: its completion may wake a task.
TEST(PausedClockTest, ABlockingCallInFlightHoldsTheClock) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<void> {
    const Instant start = Now();
    auto blocking = []() -> Task<int> {
      auto job = [] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return 7;
      };
      co_return *co_await SpawnBlocking(std::move(job));
    };
    absl::StatusOr<int> result = co_await Timeout(absl::Milliseconds(1), blocking());
    EXPECT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(Now(), start);
    // Once it returned, the clock moves on.
    EXPECT_TRUE((co_await SleepFor(absl::Seconds(1))).ok());
    EXPECT_EQ(Now() - start, absl::Seconds(1));
  };
  runtime.BlockOn(body());
}

// Loopback I/O between tasks of the runtime happens at the virtual instant it is made: a read
// whose data is written at 1 s completes at 1 s, within a 2 s timeout; one whose data comes at
// 3 s times out at exactly 2 s.
TEST(PausedClockTest, LoopbackIoRacesTimeoutsExactly) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto read_with_timeout = [](absl::Duration write_at) -> Task<std::pair<bool, absl::Duration>> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    EXPECT_TRUE(pair.ok());
    const Instant start = Now();
    JoinHandle<void> writer = Spawn(
        [](UnixStream* stream, absl::Duration at) -> Task<void> {
          (void)co_await SleepFor(at);
          (void)co_await stream->Write("x");
        },
        &pair->second, write_at);
    char byte;
    absl::StatusOr<size_t> n =
        co_await Timeout(absl::Seconds(2), pair->first.Read(absl::MakeSpan(&byte, 1)));
    const absl::Duration took = Now() - start;
    writer.Abort();
    (void)co_await std::move(writer);
    co_return std::make_pair(n.ok(), took);
  };
  EXPECT_EQ(runtime.BlockOn(read_with_timeout(absl::Seconds(1))),
            std::make_pair(true, absl::Seconds(1)));
  EXPECT_EQ(runtime.BlockOn(read_with_timeout(absl::Seconds(3))),
            std::make_pair(false, absl::Seconds(2)));
}

// A real-clock runtime: the clock advances by itself.
TEST(PausedClockTest, RealClockRuntimeNowMoves) {
  Runtime runtime({.num_workers = 1});
  const Instant a = runtime.Now();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GE(runtime.Now() - a, absl::Milliseconds(2));
}

class ClockDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ClockDeathTest, AdvanceTimeNeedsAPausedClock) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.AdvanceTime(absl::Seconds(1));
      },
      "Runtime::AdvanceTime on a runtime whose clock is not paused");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> { (void)co_await AdvanceTime(absl::Seconds(1)); }());
      },
      "coral::AdvanceTime on a runtime whose clock is not paused");
}

TEST_F(ClockDeathTest, RuntimeAdvanceTimeFromAWorker) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1, .start_paused = true});
        runtime.BlockOn([&runtime]() -> Task<void> {
          runtime.AdvanceTime(absl::Seconds(1));
          co_return;
        }());
      },
      "Runtime::AdvanceTime called from a coral worker thread");
}

}  // namespace
}  // namespace coral
