// Copyright 2026 The coral Authors.
//
// Shielded(awaitable): a JoinHandle, an Event wait and a channel receive awaited while the task
// is cancelled run to their normal end; the cancellation is observed right after; a teardown
// inside the shield leaves nothing behind.

#include <atomic>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

Task<int> ValueAfter(Event* event, int value) {
  (void)co_await event->Wait();
  co_return value;
}

TEST(ShieldedTest, JoinsAHandleWhileCancelledThenObservesTheCancellation) {
  Runtime runtime({.num_workers = 2});
  Event release;
  absl::Status after = runtime.BlockOn([&]() -> Task<absl::Status> {
    // Spawned from outside any task: the child does not share our token.
    JoinHandle<int> child = runtime.Spawn(ValueAfter, &release, 42);
    CancellationSource source;
    co_return co_await WithCancellation(source.token(), [&]() -> Task<absl::Status> {
      source.Cancel();
      Spawn(
          [](Event* release) -> Task<void> {
            co_await Yield();
            release->Set();
          },
          &release)
          .Detach();
      absl::StatusOr<int> joined = co_await Shielded(std::move(child));
      EXPECT_TRUE(joined.ok()) << joined.status();
      EXPECT_EQ(*joined, 42);
      // Unmasked again: the cancellation that came before is observed at once.
      co_return co_await SleepFor(absl::Hours(1));
    }());
  }());
  EXPECT_TRUE(absl::IsCancelled(after)) << after;
}

// A Timeout inside the shield keeps its own deadline (on the paused clock): the shielded wait ends
// with DeadlineExceededError, not the outer cancellation, and the token is restored after it.
TEST(ShieldedTest, ATimeoutInsideKeepsItsDeadline) {
  Runtime runtime({.num_workers = 1, .start_paused = true});
  runtime.BlockOn([]() -> Task<void> {
    CancellationSource source;
    source.Cancel();
    co_await WithCancellation(source.token(), []() -> Task<void> {
      Event never;
      const Instant start = Now();
      auto wait = [&]() -> Task<absl::Status> { co_return co_await never.Wait(); };
      absl::Status waited = co_await Shielded(Timeout(absl::Seconds(5), wait()));
      EXPECT_TRUE(absl::IsDeadlineExceeded(waited)) << waited;
      EXPECT_EQ(Now() - start, absl::Seconds(5));
      EXPECT_TRUE(absl::IsCancelled(co_await SleepFor(absl::Hours(1))));
    }());
  }());
}

TEST(ShieldedTest, AnyAwaitableLvalueOrTemporary) {
  Runtime runtime({.num_workers = 2});
  Event set_later;
  auto [tx, rx] = Channel<int>::Bounded(1);
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    source.Cancel();
    co_await WithCancellation(source.token(), [&]() -> Task<void> {
      Spawn(
          [](Event* event, Sender<int> tx) -> Task<void> {
            co_await Yield();
            event->Set();
            (void)co_await tx.Send(7);
          },
          &set_later, tx)
          .Detach();
      EXPECT_TRUE((co_await Shielded(set_later.Wait())).ok());  // A temporary awaiter.
      absl::StatusOr<int> got = co_await Shielded(rx.Recv());
      EXPECT_EQ(*got, 7);
      Event unset;
      EXPECT_TRUE(absl::IsCancelled(co_await unset.Wait()));  // Unmasked outside the shield.
      // An lvalue awaitable with a member operator co_await (by reference, not moved).
      JoinHandle<int> handle = Spawn([]() -> Task<int> { co_return 5; });
      absl::StatusOr<int> five = co_await Shielded(handle);
      EXPECT_EQ(*five, 5);
      EXPECT_TRUE(handle.valid());
    }());
  }());
}

TEST(ShieldedTest, AbortInsideTheShieldTearsTheTaskDown) {
  Runtime runtime({.num_workers = 2});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    std::atomic<bool> passed{false};
    JoinHandle<void> task = Spawn(
        [](Event* never, std::atomic<bool>* passed) -> Task<void> {
          (void)co_await Shielded(never->Wait());
          passed->store(true);
        },
        &never, &passed);
    co_await Yield();
    task.Abort();  // Shielded masks the token, not Abort.
    EXPECT_TRUE(absl::IsCancelled(co_await std::move(task)));
    EXPECT_FALSE(passed.load());
  }());
}

}  // namespace
}  // namespace coral
