// Copyright 2026 The coral Authors.
//
// Things that one task at a time may await abort with a message when two tasks await them at
// once. A JoinHandle hung (the second registration overwrote the first, which was never woken);
// a OneshotReceiver served both, as a channel does. A Task cannot be copied, so it cannot be awaited from two tasks; TaskGroup::Join's check
// is in task_group_test.

#include <atomic>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/oneshot.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

class SingleWaiterDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(SingleWaiterDeathTest, JoinHandleAwaitedByTwoTasks) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 2});
        runtime.BlockOn([]() -> Task<void> {
          Event release;
          JoinHandle<int> target = Spawn([&release]() -> Task<int> {
            (void)co_await release.Wait();
            co_return 7;
          });
          std::atomic<bool> first_waiting{false};
          JoinHandle<void> first = Spawn([&target, &first_waiting]() -> Task<void> {
            first_waiting = true;
            (void)co_await target;
          });
          while (!first_waiting) (void)co_await SleepFor(absl::Milliseconds(1));
          (void)co_await SleepFor(absl::Milliseconds(5));  // The first is registered by now.
          Spawn([&release]() -> Task<void> {
            (void)co_await SleepFor(absl::Milliseconds(20));
            release.Set();
          }).Detach();
          (void)co_await target;  // The second joiner.
          (void)co_await first;   // Before the fix: never woken, a hang.
        }());
      },
      "a coral::JoinHandle was awaited by two tasks at once");
}

// A Oneshot is from one task to one other. Before, the second waiter got OutOfRangeError or the
// value, whichever came first, as from a channel with many receivers.
TEST_F(SingleWaiterDeathTest, OneshotReceiverAwaitedByTwoTasks) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 2});
        runtime.BlockOn([]() -> Task<void> {
          auto [tx, rx] = Oneshot<int>::Make();
          std::atomic<bool> first_waiting{false};
          JoinHandle<void> first = Spawn([&rx, &first_waiting]() -> Task<void> {
            first_waiting = true;
            (void)co_await rx.Recv();
          });
          while (!first_waiting) (void)co_await SleepFor(absl::Milliseconds(1));
          (void)co_await SleepFor(absl::Milliseconds(5));  // The first waits by now.
          Spawn([tx = std::move(tx)]() mutable -> Task<void> {
            (void)co_await SleepFor(absl::Milliseconds(20));
            (void)tx.Send(1);
          }).Detach();
          (void)co_await rx.Recv();  // The second waiter.
          (void)co_await first;
        }());
      },
      "a coral::OneshotReceiver was awaited by two tasks at once");
}

// One receiver awaited by one task after another (a cancelled wait, then a second Recv).
TEST(SingleWaiterTest, OneshotRecvAgainAfterACancelledWait) {
  Runtime runtime({.num_workers = 2});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> {
              auto [tx, rx] = Oneshot<int>::Make();
              CancellationSource source;
              Spawn([source]() -> Task<void> {
                (void)co_await SleepFor(absl::Milliseconds(5));  // The Recv waits by now.
                source.Cancel();
              }).Detach();
              auto recv = [&rx]() -> Task<absl::StatusOr<int>> { co_return co_await rx.Recv(); };
              absl::StatusOr<int> cancelled = co_await WithCancellation(source.token(), recv());
              EXPECT_TRUE(absl::IsCancelled(cancelled.status())) << cancelled.status();
              EXPECT_TRUE(tx.Send(3).ok());
              co_return (co_await rx.Recv()).value_or(-1);
            }()),
            3);
}

// Awaiting again after a cancelled wait, or after the task finished, is not two joiners.
TEST(SingleWaiterTest, JoinHandleAwaitedAgainAfterACancelledWait) {
  Runtime runtime({.num_workers = 2});
  EXPECT_EQ(runtime.BlockOn([]() -> Task<int> {
              Event release;
              JoinHandle<int> target = Spawn([&release]() -> Task<int> {
                (void)co_await release.Wait();
                co_return 7;
              });
              CancellationSource source;
              Spawn([source]() -> Task<void> {
                (void)co_await SleepFor(absl::Milliseconds(5));  // The wait is registered.
                source.Cancel();
              }).Detach();
              auto wait = [&target]() -> Task<absl::StatusOr<int>> { co_return co_await target; };
              absl::StatusOr<int> cancelled = co_await WithCancellation(source.token(), wait());
              EXPECT_TRUE(absl::IsCancelled(cancelled.status())) << cancelled.status();
              release.Set();
              co_return (co_await target).value_or(-1);
            }()),
            7);
}

}  // namespace
}  // namespace coral
