// Copyright 2026 The coral Authors.
//
// Things that one task at a time may await abort with a message when two tasks await them at
// once. A JoinHandle hung (the second registration overwrote the first, which was never woken);
// a OneshotReceiver served both, as a channel does. A Task cannot be copied, so it cannot be
// awaited from two tasks; TaskGroup::Join's check is in task_group_test.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

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

// Waits (spinning, bounded) until `target` has a registered join waiter: deterministic where a
// sleep would only make it likely.
template <typename T>
bool WaitForJoinWaiter(const JoinHandle<T>& target) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(internal::JoinHandleFactory::TaskOf(target)->LoadState() &
           internal::task_state::kJoinWaiter)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// The detection itself, with no timing involved: the first waiter is known to be registered when
// the second awaits.
TEST_F(SingleWaiterDeathTest, SecondJoinerOfARegisteredWaitAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 2});
        runtime.BlockOn([]() -> Task<void> {
          Event release;
          JoinHandle<int> target = Spawn([&release]() -> Task<int> {
            (void)co_await release.Wait();
            co_return 7;
          });
          JoinHandle<void> first = Spawn([&target]() -> Task<void> { (void)co_await target; });
          if (!WaitForJoinWaiter(target)) {
            std::fprintf(stderr, "the first joiner never registered\n");
            std::_Exit(1);
          }
          (void)co_await target;  // The second joiner: aborts at once.
          std::fprintf(stderr, "the second joiner was not detected\n");
          std::_Exit(1);
        }());
      },
      "a coral::JoinHandle was awaited by two tasks at once");
}

// Two joiners released at the same instant on two workers, while the joined task is released by
// a third thread: every interleaving of the two registrations with each other and with the
// completion must end either in the abort (both waited at once) or in both joins returning (the
// task completed before either registered; its output is void, so both may take it). Before the
// registration was one atomic step, both could pass the check: the second overwrote the first,
// which was never woken (a hang, caught here by a watchdog) or was woken in the other's place. Each
// round runs in a death-test child, which the abort ends.
TEST_F(SingleWaiterDeathTest, JoinersRacingToRegister) {
  constexpr int kRounds = 20;
  constexpr char kClean[] = "both joins returned";
  const auto aborted_or_clean = [](int status) {
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) ||
           (WIFEXITED(status) && WEXITSTATUS(status) == 0);
  };
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_EXIT(
        {
          // A lost waiter hangs: fail the round instead, with a message the regex rejects.
          std::thread([] {
            std::this_thread::sleep_for(std::chrono::seconds(10));
            std::fprintf(stderr, "hung: a joiner was never woken\n");
            std::_Exit(3);
          }).detach();
          Runtime runtime({.num_workers = 2});
          Event release;
          std::atomic<int> arrived{0};
          // Spins until all three parties arrived (bounded: the caller's watchdog).
          const auto arrive = [&arrived] {
            arrived.fetch_add(1);
            while (arrived.load() < 3) {
            }
          };
          std::thread releaser([&] {
            arrive();
            release.Set();
          });
          const int sum = runtime.BlockOn([&]() -> Task<int> {
            JoinHandle<void> target =
                Spawn([&release]() -> Task<void> { (void)co_await release.Wait(); });
            auto joiner = [&]() -> Task<int> {
              arrive();
              co_return (co_await target).ok() ? 1 : 0;
            };
            JoinHandle<int> a = Spawn(joiner);
            JoinHandle<int> b = Spawn(joiner);
            co_return (co_await std::move(a)).value_or(0) + (co_await std::move(b)).value_or(0);
          }());
          releaser.join();
          std::fprintf(stderr, "%s (%d of 2)\n", kClean, sum);
          std::_Exit(sum == 2 ? 0 : 2);
        },
        aborted_or_clean,
        "a coral::JoinHandle was awaited by two tasks at once|both joins returned \\(2 of 2\\)")
        << "round " << round;
  }
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
