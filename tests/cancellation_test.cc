// Copyright 2026 The coral Authors.
//
// CancellationSource / Token / Callback, inheritance, and every suspending operation observing
// the current token: sleep, readiness, join, Cancelled(); Shielded and WithCancellation.

#include "coral/cancellation.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr absl::Duration kPromptly = absl::Milliseconds(20);  // Sanitizers slow every step.
#else
constexpr absl::Duration kPromptly = absl::Milliseconds(1);
#endif

TEST(CancellationTest, DefaultTokenIsNeverCancelled) {
  CancellationToken token;
  EXPECT_FALSE(token.CanBeCancelled());
  EXPECT_FALSE(token.IsCancelled());
}

TEST(CancellationTest, SourceCancelsItsTokensOnce) {
  CancellationSource source;
  CancellationToken token = source.token();
  CancellationToken copy = token;
  EXPECT_TRUE(token.CanBeCancelled());
  EXPECT_FALSE(copy.IsCancelled());
  source.Cancel();
  source.Cancel();
  EXPECT_TRUE(token.IsCancelled());
  EXPECT_TRUE(copy.IsCancelled());
  EXPECT_TRUE(source.IsCancelled());
}

TEST(CancellationTest, ChildFollowsParentNotTheOtherWay) {
  CancellationSource parent;
  CancellationSource child(parent.token());
  CancellationSource grandchild(child.token());
  CancellationSource sibling(parent.token());
  child.Cancel();
  EXPECT_FALSE(parent.IsCancelled());
  EXPECT_FALSE(sibling.IsCancelled());
  EXPECT_TRUE(grandchild.IsCancelled());
  parent.Cancel();
  EXPECT_TRUE(sibling.IsCancelled());
  CancellationSource late(parent.token());  // Made from an already cancelled parent.
  EXPECT_TRUE(late.IsCancelled());
}

TEST(CancellationTest, ChildOutlivesDroppedParentHandles) {
  auto parent = std::make_unique<CancellationSource>();
  CancellationToken parent_token = parent->token();
  CancellationSource child(parent_token);
  parent.reset();
  EXPECT_FALSE(child.IsCancelled());
  child.Cancel();
  EXPECT_TRUE(child.IsCancelled());
  EXPECT_FALSE(parent_token.IsCancelled());
}

TEST(CancellationTest, CallbackRunsOnCancelOrAtOnce) {
  CancellationSource source;
  int runs = 0;
  {
    CancellationCallback callback(source.token(), [&] { ++runs; });
    EXPECT_EQ(runs, 0);
    source.Cancel();
    EXPECT_EQ(runs, 1);
  }
  CancellationCallback late(source.token(), [&] { ++runs; });
  EXPECT_EQ(runs, 2);
  CancellationCallback never(CancellationToken(), [&] { ++runs; });
  EXPECT_EQ(runs, 2);
}

TEST(CancellationTest, DeregisteredCallbackNeverRuns) {
  CancellationSource source;
  int runs = 0;
  {
    CancellationCallback callback(source.token(), [&] { ++runs; });
  }
  source.Cancel();
  EXPECT_EQ(runs, 0);
}

TEST(CancellationTest, CallbackDeregisteredConcurrentlyWithCancel) {
  // After the destructor returns the callback is not running: it writes into memory the test
  // frees right after (ASan would see a late write), and counts entries and exits.
  for (int round = 0; round < 2000; ++round) {
    CancellationSource source;
    auto counter = std::make_unique<std::atomic<int>>(0);
    std::atomic<bool> go{false};
    std::thread canceller([&] {
      while (!go.load()) {
      }
      source.Cancel();
    });
    {
      CancellationCallback callback(source.token(), [&counter] {
        counter->fetch_add(1);
        std::this_thread::yield();
        counter->fetch_add(1);
      });
      go = true;
    }
    const int seen = counter->load();
    EXPECT_TRUE(seen == 0 || seen == 2) << seen;
    counter.reset();
    canceller.join();
  }
}

// A callback may destroy its own CancellationCallback (the state then never touches its node
// again: ASan would see it), and the callbacks after it still run.
TEST(CancellationTest, CallbackMayDestroyItself) {
  CancellationSource source;
  int runs = 0;
  CancellationCallback first(source.token(), [&] { ++runs; });
  std::unique_ptr<CancellationCallback> self_destroying;
  self_destroying = std::make_unique<CancellationCallback>(source.token(), [&] {
    ++runs;
    self_destroying.reset();  // Last: this lambda (and its captures) is gone after it.
  });
  CancellationCallback last(source.token(), [&] { ++runs; });
  source.Cancel();
  EXPECT_EQ(self_destroying, nullptr);
  EXPECT_EQ(runs, 3);
}

TEST(CancellationTest, CallbackMayDropTheLastTokenReference) {
  auto source = std::make_unique<CancellationSource>();
  auto token = std::make_unique<CancellationToken>(source->token());
  CancellationCallback callback(*token, [&] { token.reset(); });
  source->Cancel();
  source.reset();
  EXPECT_EQ(token, nullptr);
}

TEST(CancellationTest, OutsideTasksTheCurrentTokenIsNone) {
  EXPECT_FALSE(CurrentCancellationToken().CanBeCancelled());
  Runtime runtime({.num_workers = 1});
  EXPECT_FALSE(runtime.BlockOn(
      []() -> Task<bool> { co_return CurrentCancellationToken().CanBeCancelled(); }()));
}

TEST(CancellationTest, SpawnInheritsTheSpawnersToken) {
  Runtime runtime({.num_workers = 2});
  CancellationSource source;
  auto body = [&]() -> Task<absl::Status> {
    JoinHandle<absl::Status> child =
        Spawn([]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Seconds(30)); });
    co_return co_await std::move(child);
  };
  auto outer = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(source.token(), body());
  };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    source.Cancel();
  });
  const absl::Time start = absl::Now();
  const absl::Status status = runtime.BlockOn(outer());
  canceller.join();
  // The child's sleep was cancelled by the inherited token, or the parent's join was: either way
  // the error is a cancellation, long before the sleep's 30 s.
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// Runs `op` under a fresh source in a task, cancels the source once the task has suspended, and
// returns the op's status with the time from Cancel() to the op's return.
template <typename Op>
std::pair<absl::Status, absl::Duration> CancelWhileWaiting(Runtime& runtime, Op op) {
  CancellationSource source;
  std::atomic<bool> started{false};
  absl::Time returned;
  auto body = [&]() -> Task<absl::Status> {
    started = true;
    absl::Status status = co_await op();
    returned = absl::Now();
    co_return status;
  };
  auto outer = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(source.token(), body());
  };
  JoinHandle<absl::Status> handle = runtime.Spawn(outer);
  while (!started.load()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Let it suspend; workers go idle.
  const absl::Time cancelled = absl::Now();
  source.Cancel();
  absl::Status status =
      runtime.BlockOn([&]() -> Task<absl::Status> { co_return co_await std::move(handle); }());
  return {status, returned - cancelled};
}

TEST(CancellationTest, CancelledSleepReturnsPromptly) {
  Runtime runtime({.num_workers = 2});
  std::vector<absl::Duration> latencies;
  for (int i = 0; i < 21; ++i) {
    auto [status, latency] = CancelWhileWaiting(runtime, [] { return SleepFor(absl::Hours(1)); });
    EXPECT_TRUE(absl::IsCancelled(status)) << status;
    latencies.push_back(latency);
  }
  std::sort(latencies.begin(), latencies.end());
  EXPECT_LT(latencies[latencies.size() / 2], kPromptly);
}

TEST(CancellationTest, CancelledReadReturnsAndLosesNoData) {
  Runtime runtime({.num_workers = 2});
  auto pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok()) << pair.status();
  auto& [reader, writer] = *pair;
  char byte = 0;
  auto read = [&]() -> Task<absl::Status> {
    absl::StatusOr<size_t> n = co_await reader.Read(absl::MakeSpan(&byte, 1));
    co_return n.status();
  };
  auto [status, latency] = CancelWhileWaiting(runtime, read);
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_LT(latency, absl::Seconds(1));
  // The stream still works: a byte written now is read by the next, uncancelled read.
  absl::StatusOr<size_t> got = runtime.BlockOn([&]() -> Task<absl::StatusOr<size_t>> {
    absl::Status wrote = co_await writer.WriteAll("x");
    if (!wrote.ok()) co_return wrote;
    co_return co_await reader.Read(absl::MakeSpan(&byte, 1));
  }());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, 1u);
  EXPECT_EQ(byte, 'x');
}

TEST(CancellationTest, CancelledJoinLeavesTheHandleUsable) {
  Runtime runtime({.num_workers = 2});
  CancellationSource source;
  auto body = [&]() -> Task<int> {
    // Spawned under no token (from inside Shielded), so only the join observes the source.
    JoinHandle<int> child = co_await Shielded([]() -> Task<JoinHandle<int>> {
      co_return Spawn([]() -> Task<int> {
        (void)co_await SleepFor(absl::Milliseconds(50));
        co_return 7;
      });
    }());
    auto join = [&]() -> Task<absl::StatusOr<int>> { co_return co_await child; };
    absl::StatusOr<int> first = co_await WithCancellation(source.token(), join());
    EXPECT_TRUE(absl::IsCancelled(first.status())) << first.status();
    absl::StatusOr<int> second = co_await child;
    co_return second.ok() ? *second : -1;
  };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    source.Cancel();
  });
  EXPECT_EQ(runtime.BlockOn(body()), 7);
  canceller.join();
}

TEST(CancellationTest, WaitsUnderACancelledTokenDoNotStart) {
  Runtime runtime({.num_workers = 1});
  CancellationSource source;
  source.Cancel();
  auto body = [&]() -> Task<absl::Status> { co_return co_await SleepFor(absl::Hours(1)); };
  auto outer = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(source.token(), body());
  };
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(outer())));
}

TEST(CancellationTest, AwaitCancelled) {
  Runtime runtime({.num_workers = 2});
  CancellationSource watched;
  CancellationSource own;
  auto wait = [&]() -> Task<absl::Status> { co_return co_await watched.token().Cancelled(); };
  auto outer = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(own.token(), wait());
  };
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    watched.Cancel();
  });
  EXPECT_TRUE(runtime.BlockOn(outer()).ok());
  canceller.join();
  // The awaiting task's own token ends the wait with CancelledError.
  CancellationSource never;
  auto wait_never = [&]() -> Task<absl::Status> { co_return co_await never.token().Cancelled(); };
  auto outer2 = [&]() -> Task<absl::Status> {
    co_return co_await WithCancellation(own.token(), wait_never());
  };
  std::thread canceller2([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    own.Cancel();
  });
  EXPECT_TRUE(absl::IsCancelled(runtime.BlockOn(outer2())));
  canceller2.join();
}

TEST(CancellationTest, ShieldedCleanupFinishes) {
  Runtime runtime({.num_workers = 2});
  CancellationSource source;
  source.Cancel();
  auto body = [&]() -> Task<std::pair<absl::Status, absl::Status>> {
    auto cleanup = []() -> Task<absl::Status> {
      co_return co_await SleepFor(absl::Milliseconds(5));
    };
    absl::Status shielded = co_await Shielded(cleanup());
    absl::Status after = co_await SleepFor(absl::Milliseconds(5));
    co_return std::make_pair(shielded, after);
  };
  auto outer = [&]() -> Task<std::pair<absl::Status, absl::Status>> {
    co_return co_await WithCancellation(source.token(), body());
  };
  auto [shielded, after] = runtime.BlockOn(outer());
  EXPECT_TRUE(shielded.ok()) << shielded;
  EXPECT_TRUE(absl::IsCancelled(after)) << after;
}

TEST(CancellationTest, DeadlineCancelsAfterItPasses) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    CancellationSource source = CancellationSource::WithDeadline(start + absl::Milliseconds(20));
    EXPECT_FALSE(source.IsCancelled());
    (void)co_await SleepFor(absl::Milliseconds(19));
    EXPECT_FALSE(source.IsCancelled());
    absl::Status status = co_await source.token().Cancelled();
    EXPECT_TRUE(status.ok()) << status;
    co_return Now() - start;
  };
  EXPECT_EQ(runtime.BlockOn(body()), absl::Milliseconds(20));  // Paused clock: exact.
}

// A wall-clock deadline is converted once, at the call; on the real clock, from below only.
TEST(CancellationTest, WallClockDeadlineCancelsAfterItPasses) {
  Runtime runtime({.num_workers = 2});
  auto body = []() -> Task<absl::Duration> {
    const Instant start = Now();
    CancellationSource source =
        CancellationSource::WithDeadline(absl::Now() + absl::Milliseconds(20));
    EXPECT_TRUE((co_await source.token().Cancelled()).ok());
    co_return Now() - start;
  };
  EXPECT_GE(runtime.BlockOn(body()), absl::Milliseconds(19));
}

TEST(CancellationTest, DroppedDeadlinesReleaseTheirTimers) {
  // 100,000 hour-long deadlines dropped at once: their timer tasks are aborted as the last
  // reference goes, so memory stays flat (kept, each would hold a task and a state: ~40 MB).
  Runtime runtime({.num_workers = 2});
  [[maybe_unused]] const long before = ::coral::testing::ResidentBytes();
  auto body = []() -> Task<bool> {
    bool any_cancelled = false;
    for (int i = 0; i < 100000; ++i) {
      CancellationSource source = CancellationSource::WithDeadline(absl::Now() + absl::Hours(1),
                                                                   CurrentCancellationToken());
      any_cancelled = any_cancelled || source.IsCancelled();
      if (i % 1000 == 0) co_await Yield();
    }
    co_return any_cancelled;
  };
  EXPECT_FALSE(runtime.BlockOn(body()));
#if !defined(__SANITIZE_ADDRESS__)  // ASan quarantines freed memory.
  EXPECT_LT(testing::ResidentBytes() - before, 16L << 20);
#endif
}

TEST(CancellationTest, TimeoutReturnsDeadlineExceededForIoToo) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok());
  auto& reader = pair->first;
  const Instant start = runtime.Now();
  auto body = [&]() -> Task<absl::Status> {
    char byte;
    absl::StatusOr<size_t> n =
        co_await Timeout(absl::Milliseconds(10), reader.Read(absl::MakeSpan(&byte, 1)));
    co_return n.status();
  };
  EXPECT_TRUE(absl::IsDeadlineExceeded(runtime.BlockOn(body())));
  EXPECT_EQ(runtime.Now() - start, absl::Milliseconds(10));
}

}  // namespace
}  // namespace coral
