// Copyright 2026 The coral Authors.
//
// OnceCell: one initializer runs while the others wait, a failed, throwing, cancelled or aborted
// initializer hands the turn to the longest waiter, Set, and misuse.

#include "coral/once_cell.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(OnceCellTest, OneInitializerRunsOthersWaitForItsValue) {
  Runtime runtime({.num_workers = 4});
  OnceCell<std::string> cell;
  std::atomic<int> inits{0};
  Event release;
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 16; ++i) {
      group.Spawn([&, i]() -> Task<void> {
        absl::StatusOr<const std::string*> value =
            co_await cell.GetOrInit([&, i]() -> Task<std::string> {
              ++inits;
              (void)co_await release.Wait();
              co_return "from " + std::to_string(i);
            });
        EXPECT_TRUE(value.ok());
        EXPECT_EQ(*value, cell.Get());
      });
    }
    while (inits.load() == 0) co_await Yield();
    EXPECT_EQ(cell.Get(), nullptr);
    release.Set();
    (void)co_await group.Join();
  }());
  EXPECT_EQ(inits.load(), 1);
  ASSERT_NE(cell.Get(), nullptr);
  EXPECT_EQ(cell.Get()->substr(0, 5), "from ");
  EXPECT_TRUE(absl::IsAlreadyExists(cell.Set("late")));
}

TEST(OnceCellTest, FailedInitializerHandsTheTurnToTheLongestWaiter) {
  Runtime runtime({.num_workers = 1});
  OnceCell<int> cell;
  Event fail_now;
  std::vector<int> tried;  // One worker: the tasks never run at the same time.
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<const int*> failed =
          co_await cell.GetOrInit([&]() -> Task<absl::StatusOr<int>> {
            tried.push_back(0);
            (void)co_await fail_now.Wait();
            co_return absl::UnavailableError("backend down");
          });
      EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
    });
    co_await Yield();  // Task 0 holds the turn.
    for (int i = 1; i <= 2; ++i) {
      group.Spawn([&, i]() -> Task<void> {
        absl::StatusOr<const int*> value =
            co_await cell.GetOrInit([&, i]() -> Task<absl::StatusOr<int>> {
              tried.push_back(i);
              co_return i * 100;
            });
        EXPECT_EQ(**value, 100);  // Waiter 1 took over; waiter 2 got its value.
      });
      co_await Yield();  // Waiter i queues before waiter i + 1.
    }
    fail_now.Set();
    (void)co_await group.Join();
    EXPECT_EQ(tried, (std::vector<int>{0, 1}));
    EXPECT_EQ(*cell.Get(), 100);
  }());
}

TEST(OnceCellTest, ThrowingOrAbortedInitializerLetsTheNextTry) {
  Runtime runtime({.num_workers = 2});
  OnceCell<int> cell;
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    bool caught = false;
    try {
      (void)co_await cell.GetOrInit([]() -> Task<int> {
        throw std::runtime_error("init threw");
        co_return 0;
      });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(cell.Get(), nullptr);

    JoinHandle<void> stuck = Spawn(
        [](OnceCell<int>* cell, Event* never) -> Task<void> {
          (void)co_await cell->GetOrInit([never]() -> Task<int> {
            (void)co_await never->Wait();
            co_return 1;
          });
        },
        &cell, &never);
    co_await Yield();
    stuck.Abort();
    (void)co_await std::move(stuck);
    absl::StatusOr<const int*> value = co_await cell.GetOrInit([]() -> Task<int> { co_return 2; });
    EXPECT_EQ(**value, 2);
  }());
}

TEST(OnceCellTest, CancelledWaiterReturnsCancelledAndDoesNotInitialize) {
  Runtime runtime({.num_workers = 1});
  OnceCell<int> cell;
  Event release;
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      (void)co_await cell.GetOrInit([&]() -> Task<int> {
        (void)co_await release.Wait();
        co_return 1;
      });
    });
    co_await Yield();  // One worker: the other task now holds the turn, waiting on `release`.
    CancellationSource source;
    source.Cancel();
    bool init_called = false;
    absl::StatusOr<const int*> cancelled =
        co_await WithCancellation(source.token(), cell.GetOrInit([&]() -> Task<int> {
          init_called = true;
          co_return 2;
        }));
    EXPECT_FALSE(init_called);
    EXPECT_TRUE(absl::IsCancelled(cancelled.status())) << cancelled.status();
    release.Set();
    (void)co_await group.Join();
    EXPECT_EQ(*cell.Get(), 1);
  }());
}

TEST(OnceCellTest, SetWithoutWaiting) {
  OnceCell<std::string> cell;
  EXPECT_EQ(cell.Get(), nullptr);
  EXPECT_TRUE(cell.Set("x").ok());
  EXPECT_EQ(*cell.Get(), "x");
  EXPECT_TRUE(absl::IsAlreadyExists(cell.Set("y")));
}

void DestroyWhileInitializing() {
  Runtime runtime({.num_workers = 1});
  Event never;
  runtime.BlockOn([&]() -> Task<void> {
    auto* cell = new OnceCell<int>;
    Spawn(
        [](OnceCell<int>* cell, Event* never) -> Task<void> {
          (void)co_await cell->GetOrInit([never]() -> Task<int> {
            (void)co_await never->Wait();
            co_return 1;
          });
        },
        cell, &never)
        .Detach();
    co_await Yield();
    delete cell;
  }());
}

TEST(OnceCellDeathTest, DestroyedWhileInitializing) {
  EXPECT_DEATH(DestroyWhileInitializing(), "OnceCell destroyed while a task initializes it");
}

}  // namespace
}  // namespace coral
