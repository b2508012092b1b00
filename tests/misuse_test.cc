// Copyright 2026 The coral Authors.
//
// Misuse aborts with a message that names it.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "coral/async_fd.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/signal.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

class MisuseDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(MisuseDeathTest, BlockOnFromWorker) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        auto body = [&runtime]() -> Task<void> {
          runtime.BlockOn([]() -> Task<void> { co_return; }());
          co_return;
        };
        runtime.BlockOn(body());
      },
      "BlockOn called from a coral worker thread");
}

TEST_F(MisuseDeathTest, AwaitMovedFromTask) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        auto body = []() -> Task<void> {
          Task<int> task = []() -> Task<int> { co_return 1; }();
          Task<int> other = std::move(task);
          co_await task;  // NOLINT(bugprone-use-after-move): the misuse under test.
        };
        runtime.BlockOn(body());
      },
      "co_await on a moved-from coral::Task");
}

TEST_F(MisuseDeathTest, AwaitTaskTwice) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        auto body = []() -> Task<void> {
          Task<int> task = []() -> Task<int> { co_return 1; }();
          co_await task;
          co_await task;
        };
        runtime.BlockOn(body());
      },
      "already awaited");
}

TEST_F(MisuseDeathTest, DestroyRuntimeFromItsOwnWorker) {
  EXPECT_DEATH(
      {
        auto* runtime = new Runtime({.num_workers = 1});
        runtime
            ->Spawn([runtime]() -> Task<void> {
              delete runtime;
              co_return;
            })
            .Detach();
        for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // Until it aborts.
      },
      "destroyed from one of its own worker threads");
}

TEST_F(MisuseDeathTest, SpawnOutsideWorker) {
  EXPECT_DEATH({ Spawn([]() -> Task<void> { co_return; }).Detach(); },
               "coral::Spawn called from a thread that is not a coral worker");
}

TEST_F(MisuseDeathTest, AwaitEmptyJoinHandle) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        auto body = []() -> Task<void> {
          JoinHandle<void> handle;
          co_await std::move(handle);
        };
        runtime.BlockOn(body());
      },
      "empty, moved-from or detached coral::JoinHandle");
}

TEST_F(MisuseDeathTest, AwaitJoinHandleTwice) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        auto body = []() -> Task<void> {
          JoinHandle<int> handle = Spawn([]() -> Task<int> { co_return 1; });
          co_await handle;
          co_await handle;
        };
        runtime.BlockOn(body());
      },
      "JoinHandle awaited twice");
}

TEST_F(MisuseDeathTest, ShutdownWhileBlockedInBlockOn) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        std::thread stopper([&runtime] {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          runtime.Shutdown();
        });
        runtime.BlockOn([]() -> Task<void> {
          for (;;) co_await Yield();
        }());
        stopper.join();
      },
      "BlockOn: the runtime shut down before the task finished, and its result type cannot "
      "carry the cancellation");
}

TEST_F(MisuseDeathTest, MoveAsyncFdWhileAwaited) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        int fds[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
        AsyncFd reader = *AsyncFd::Create(fds[0]);
        auto body = [&]() -> Task<void> {
          JoinHandle<void> waiter =
              Spawn([&]() -> Task<void> { (void)co_await reader.Readable(); });
          co_await Yield();  // The waiter runs and waits.
          AsyncFd moved = std::move(reader);
          if (::write(fds[1], "x", 1) != 1) co_return;
          (void)co_await std::move(waiter);
        };
        runtime.BlockOn(body());
      },
      "an AsyncFd moved or closed while a task waits on it");
}

TEST_F(MisuseDeathTest, DestroySignalListenerWhileAwaited) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        std::optional<SignalListener> listener(*SignalListener::Create({SIGUSR1}));
        auto body = [&]() -> Task<void> {
          JoinHandle<absl::StatusOr<int>> waiter =
              Spawn([&]() -> Task<absl::StatusOr<int>> { co_return co_await listener->Next(); });
          co_await Yield();  // The waiter runs and waits.
          listener.reset();
          (void)co_await std::move(waiter);
        };
        runtime.BlockOn(body());
      },
      "closed while a task was waiting on it");
}

}  // namespace
}  // namespace coral
