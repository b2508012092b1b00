// Copyright 2026 The coral Authors.
//
// Runtime shutdown: BlockOn around a shutdown, and tasks whose wakers live outside the runtime
// (a primitive owned by main, another runtime's task or fd) torn down by it, with the waker
// firing after the runtime is gone.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/async_fd.h"
#include "coral/async_mutex.h"
#include "coral/async_shared_mutex.h"
#include "coral/channel.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/latch.h"
#include "coral/notify.h"
#include "coral/oneshot.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/semaphore.h"
#include "coral/signal.h"
#include "coral/sleep.h"
#include "coral/spawn_blocking.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::DropCounter;
using ::coral::testing::Eventually;

absl::Status JoinStatus(JoinHandle<void> handle) {
  Runtime joiner({.num_workers = 1});
  return joiner.BlockOn([](JoinHandle<void> h) -> Task<absl::Status> {
    co_return co_await std::move(h);
  }(std::move(handle)));
}

// Runs `wait()` (a Task<void> waiting on something whose waker lives outside the runtime) in a
// task of a runtime that is destroyed while the task waits, and checks that the shutdown tore the
// task down: its locals were destroyed, and its handle reports CancelledError. The caller fires
// the waker afterwards, the runtime being gone.
template <typename Wait>
void ExpectShutdownTearsDownWaiter(Wait wait) {
  std::atomic<int> drops{0};
  std::atomic<bool> started{false};
  JoinHandle<void> handle;
  {
    Runtime runtime({.num_workers = 2});
    handle = runtime.Spawn(
        [](Wait wait, DropCounter, std::atomic<bool>* started) -> Task<void> {
          started->store(true);
          co_await wait();
          ADD_FAILURE() << "the wait completed inside the runtime";
        },
        std::move(wait), DropCounter(&drops), &started);
    ASSERT_TRUE(Eventually([&] { return started.load(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Let it suspend.
  }
  EXPECT_EQ(drops.load(), 1) << "the task's frame was not destroyed by the shutdown";
  ASSERT_TRUE(handle.IsFinished());
  const absl::Status status = JoinStatus(std::move(handle));
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

// --- Item 15: every kind of wait, its waker outside the runtime. --------------------------------

TEST(ShutdownTest, TearsDownEventWaiter) {
  Event event;
  ExpectShutdownTearsDownWaiter([e = &event]() -> Task<void> { (void)co_await e->Wait(); });
  event.Set();
}

TEST(ShutdownTest, TearsDownNotifyWaiter) {
  Notify notify;
  ExpectShutdownTearsDownWaiter([n = &notify]() -> Task<void> { (void)co_await n->Notified(); });
  notify.NotifyOne();
  notify.NotifyAll();
}

TEST(ShutdownTest, TearsDownLatchWaiter) {
  Latch latch(1);
  ExpectShutdownTearsDownWaiter([l = &latch]() -> Task<void> { (void)co_await l->Wait(); });
  latch.CountDown();
}

TEST(ShutdownTest, TearsDownAsyncMutexWaiter) {
  AsyncMutex mutex;
  std::optional<AsyncMutex::Guard> held = mutex.TryLock();
  ASSERT_TRUE(held.has_value());
  ExpectShutdownTearsDownWaiter([m = &mutex]() -> Task<void> { (void)co_await m->Lock(); });
  held.reset();  // Would hand the lock to the waiter.
  EXPECT_TRUE(mutex.TryLock().has_value());
}

TEST(ShutdownTest, TearsDownAsyncSharedMutexWaiter) {
  AsyncSharedMutex mutex;
  auto held = mutex.TryLock();
  ASSERT_TRUE(held.has_value());
  ExpectShutdownTearsDownWaiter([m = &mutex]() -> Task<void> { (void)co_await m->LockShared(); });
  held.reset();
  EXPECT_TRUE(mutex.TryLock().has_value());
}

TEST(ShutdownTest, TearsDownSemaphoreWaiter) {
  Semaphore semaphore(1);
  auto held = semaphore.TryAcquire();
  ASSERT_TRUE(held.has_value());
  ExpectShutdownTearsDownWaiter([s = &semaphore]() -> Task<void> { (void)co_await s->Acquire(); });
  held.reset();  // Would hand the permit to the waiter.
  EXPECT_TRUE(semaphore.TryAcquire().has_value());
}

TEST(ShutdownTest, TearsDownChannelReceiver) {
  auto [tx, rx] = Channel<int>::Bounded(4);
  ExpectShutdownTearsDownWaiter([r = &rx]() -> Task<void> { (void)co_await r->Recv(); });
  EXPECT_TRUE(tx.TrySend(1).ok());
  EXPECT_EQ(*rx.TryRecv(), 1);  // Nobody took it.
}

TEST(ShutdownTest, TearsDownChannelSender) {
  auto [tx, rx] = Channel<int>::Bounded(1);
  ASSERT_TRUE(tx.TrySend(1).ok());
  ExpectShutdownTearsDownWaiter([t = &tx]() -> Task<void> { (void)co_await t->Send(2); });
  EXPECT_EQ(*rx.TryRecv(), 1);  // Would let the waiting sender in.
  EXPECT_FALSE(rx.TryRecv().ok());
}

TEST(ShutdownTest, TearsDownUnboundedChannelReceiver) {
  auto [tx, rx] = Channel<int>::Unbounded();
  ExpectShutdownTearsDownWaiter([r = &rx]() -> Task<void> { (void)co_await r->Recv(); });
  EXPECT_TRUE(tx.TrySend(1).ok());
  tx.Close();
}

TEST(ShutdownTest, TearsDownSelect) {
  auto [tx1, rx1] = Channel<int>::Bounded(1);
  auto [tx2, rx2] = Channel<int>::Unbounded();
  ExpectShutdownTearsDownWaiter(
      [r1 = &rx1, r2 = &rx2]() -> Task<void> { (void)co_await Select(*r1, *r2); });
  EXPECT_TRUE(tx1.TrySend(1).ok());
  EXPECT_TRUE(tx2.TrySend(2).ok());
  EXPECT_EQ(*rx1.TryRecv(), 1);
}

TEST(ShutdownTest, TearsDownOneshotReceiver) {
  auto [tx, rx] = Oneshot<int>::Make();
  ExpectShutdownTearsDownWaiter([r = &rx]() -> Task<void> { (void)co_await r->Recv(); });
  EXPECT_TRUE(tx.Send(1).ok());
}

TEST(ShutdownTest, TearsDownJoinerOfAnotherRuntimesTask) {
  Runtime other({.num_workers = 1});
  Event release;
  JoinHandle<void> joined =
      other.Spawn([&release]() -> Task<void> { (void)co_await release.Wait(); });
  ExpectShutdownTearsDownWaiter([h = &joined]() -> Task<void> { (void)co_await std::move(*h); });
  release.Set();  // The joined task completes: its join waiter is gone.
  EXPECT_TRUE(Eventually([&] { return joined.IsFinished(); }));
}

TEST(ShutdownTest, TearsDownTaskGroupWaitingOnOutsideEvent) {
  Event event;
  std::atomic<int> children_dropped{0};
  ExpectShutdownTearsDownWaiter([e = &event, d = &children_dropped]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
      group.Spawn([e](DropCounter) -> Task<void> { (void)co_await e->Wait(); }, DropCounter(d));
    }
    (void)co_await group.Join();
  });
  EXPECT_EQ(children_dropped.load(), 3);
  event.Set();
}

TEST(ShutdownTest, TearsDownWaiterOnAnotherRuntimesFd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  absl::StatusOr<AsyncFd> fd = AsyncFd::Create(fds[0]);
  ASSERT_TRUE(fd.ok());
  Runtime other({.num_workers = 1});
  // The fd joins the other runtime's reactor: that runtime's worker delivers its readiness.
  ASSERT_TRUE(
      other.BlockOn([&fd]() -> Task<absl::Status> { co_return fd->RegisterOnThisWorker(); }())
          .ok());
  ExpectShutdownTearsDownWaiter([f = &*fd]() -> Task<void> { (void)co_await f->Readable(); });
  ASSERT_EQ(write(fds[1], "x", 1), 1);  // The other runtime's reactor sees it: no waiter left.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  close(fds[1]);
}

TEST(ShutdownTest, TearsDownSignalListenerWaiter) {
  absl::StatusOr<SignalListener> listener = SignalListener::Create({SIGUSR2});
  ASSERT_TRUE(listener.ok());
  ExpectShutdownTearsDownWaiter([l = &*listener]() -> Task<void> { (void)co_await l->Next(); });
  ASSERT_EQ(raise(SIGUSR2), 0);
}

TEST(ShutdownTest, TearsDownSpawnBlockingWaiter) {
  std::atomic<bool> ran{false};
  ExpectShutdownTearsDownWaiter([r = &ran]() -> Task<void> {
    auto job = [r] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r->store(true);
    };
    (void)co_await SpawnBlocking(std::move(job));
  });
  EXPECT_TRUE(ran.load()) << "shutdown waits for a running blocking call";
}

// Many tasks waiting on one outside primitive, some of them joining each other, on four workers.
TEST(ShutdownTest, TearsDownManyWaitersAndTheirJoiners) {
  Event event;
  Semaphore semaphore(0);
  std::atomic<int> drops{0};
  std::vector<JoinHandle<void>> handles;
  {
    Runtime runtime({.num_workers = 4});
    for (int i = 0; i < 200; ++i) {
      JoinHandle<void> waiter = runtime.Spawn(
          [&event, &semaphore, i](DropCounter) -> Task<void> {
            if (i % 2 == 0) {
              (void)co_await event.Wait();
            } else {
              (void)co_await semaphore.Acquire();
            }
          },
          DropCounter(&drops));
      handles.push_back(runtime.Spawn(
          [](JoinHandle<void> h, DropCounter) -> Task<void> { (void)co_await std::move(h); },
          std::move(waiter), DropCounter(&drops)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(drops.load(), 400);
  for (auto& handle : handles) EXPECT_TRUE(handle.IsFinished());
  event.Set();
  semaphore.Release(200);
}

// --- Borrowers before owners. ---------------------------------------------------------------

// A task that lends a primitive of its frame to a task it spawned (std::ref) and then joins it is
// correct code; Shutdown may still reach the owner first. The borrower, still waiting on the
// primitive (or holding a permit of it), is then torn down before the primitive is destroyed,
// instead of the destructor aborting. Many pairs, so that both orders occur.
TEST(ShutdownTest, TearsDownBorrowersBeforeTheOwnerOfWhatTheyWaitOn) {
  constexpr int kPairs = 60;
  Event outside;
  std::atomic<int> waiting{0};
  std::atomic<int> drops{0};
  {
    Runtime runtime({.num_workers = 2});
    for (int i = 0; i < kPairs; ++i) {
      runtime
          .Spawn(
              [](int kind, Event& outside, std::atomic<int>& waiting, DropCounter) -> Task<void> {
                Event event;
                Latch latch(1);
                Notify notify;
                Semaphore semaphore(0);
                AsyncMutex mutex;
                AsyncSharedMutex shared;
                std::optional<AsyncMutex::Guard> held = mutex.TryLock();
                std::optional<AsyncSharedMutex::Guard> held_shared = shared.TryLock();
                JoinHandle<void> borrower = Spawn(
                    [](int kind, Event& event, Latch& latch, Notify& notify, Semaphore& semaphore,
                       AsyncMutex& mutex, AsyncSharedMutex& shared, Event& outside,
                       std::atomic<int>& waiting) -> Task<void> {
                      waiting.fetch_add(1);
                      switch (kind) {
                        case 0:
                          (void)co_await event.Wait();
                          break;
                        case 1:
                          (void)co_await latch.Wait();
                          break;
                        case 2:
                          (void)co_await notify.Notified();
                          break;
                        case 3:
                          (void)co_await semaphore.Acquire();
                          break;
                        case 4:
                          (void)co_await mutex.Lock();
                          break;
                        case 5:
                          (void)co_await shared.LockShared();
                          break;
                        default: {
                          semaphore.Release(1);
                          auto permit = co_await semaphore.Acquire();
                          (void)co_await outside.Wait();  // Holding a permit of the owner's.
                        }
                      }
                      ADD_FAILURE() << "the borrower's wait completed";
                    },
                    kind, std::ref(event), std::ref(latch), std::ref(notify), std::ref(semaphore),
                    std::ref(mutex), std::ref(shared), std::ref(outside), std::ref(waiting));
                (void)co_await std::move(borrower);
                ADD_FAILURE() << "the borrower finished";
              },
              i % 7, std::ref(outside), std::ref(waiting), DropCounter(&drops))
          .Detach();
    }
    ASSERT_TRUE(Eventually([&] { return waiting.load() == kPairs; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Let them suspend.
  }
  EXPECT_EQ(drops.load(), kPairs);
  outside.Set();
}

// The same when the borrower is not waiting but in a budget yield inside an await on the owner's
// mutex (its lock always free), and the owner is queued too (yielding): the queue order decides.
TEST(ShutdownTest, TearsDownBudgetYieldingBorrowersBeforeTheirOwners) {
  constexpr int kPairs = 20;
  std::atomic<int> running{0};
  std::atomic<int> drops{0};
  {
    Runtime runtime({.num_workers = 2});
    for (int i = 0; i < kPairs; ++i) {
      runtime
          .Spawn(
              [](std::atomic<int>& running, DropCounter) -> Task<void> {
                AsyncMutex mutex;
                JoinHandle<void> borrower = Spawn(
                    [](AsyncMutex& mutex, std::atomic<int>& running) -> Task<void> {
                      running.fetch_add(1);
                      for (;;) (void)co_await mutex.Lock();
                    },
                    std::ref(mutex), std::ref(running));
                for (;;) co_await Yield();
              },
              std::ref(running), DropCounter(&drops))
          .Detach();
    }
    ASSERT_TRUE(Eventually([&] { return running.load() == kPairs; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(drops.load(), kPairs);
}

// Wakes from another thread racing the shutdown: each wake either runs the task (before the
// shutdown) or tears it down; none touches the scheduler once the runtime is gone.
TEST(ShutdownTest, WakesRacingShutdown) {
  for (int round = 0; round < 20; ++round) {
    Event event;
    std::atomic<int> drops{0};
    std::thread setter;
    {
      Runtime runtime({.num_workers = 2});
      for (int i = 0; i < 50; ++i) {
        runtime
            .Spawn([&event](DropCounter) -> Task<void> { (void)co_await event.Wait(); },
                   DropCounter(&drops))
            .Detach();
      }
      setter = std::thread([&event, round] {
        std::this_thread::sleep_for(std::chrono::microseconds(round * 100));
        event.Set();
      });
    }
    setter.join();
    EXPECT_EQ(drops.load(), 50);
  }
}

// --- Item 12: BlockOn and Shutdown. -------------------------------------------------------------

TEST(BlockOnShutdownTest, BlockOnAfterShutdownReturnsCancelled) {
  Runtime runtime({.num_workers = 2});
  runtime.Shutdown();
  const absl::Status status =
      runtime.BlockOn([]() -> Task<absl::Status> { co_return absl::OkStatus(); }());
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  const absl::StatusOr<int> value =
      runtime.BlockOn([]() -> Task<absl::StatusOr<int>> { co_return 1; }());
  EXPECT_TRUE(absl::IsCancelled(value.status())) << value.status();
}

TEST(BlockOnShutdownTest, ShutdownFromAnotherThreadCancelsBlockOn) {
  Runtime runtime({.num_workers = 2});
  Event never;  // Owned outside the runtime, never set.
  std::thread stopper([&runtime] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    runtime.Shutdown();
  });
  const absl::Status status =
      runtime.BlockOn([&never]() -> Task<absl::Status> { co_return co_await never.Wait(); }());
  stopper.join();
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

TEST(BlockOnShutdownTest, ShutdownCancelsBlockOnOfSleepingAndYieldingTasks) {
  for (int kind = 0; kind < 2; ++kind) {
    Runtime runtime({.num_workers = 1});
    std::thread stopper([&runtime] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      runtime.Shutdown();
    });
    const absl::StatusOr<int> result = runtime.BlockOn([kind]() -> Task<absl::StatusOr<int>> {
      if (kind == 0) {
        absl::Status slept = co_await SleepFor(absl::Hours(1));
        if (!slept.ok()) co_return slept;
      } else {
        for (;;) co_await Yield();
      }
      co_return 1;
    }());
    stopper.join();
    EXPECT_TRUE(absl::IsCancelled(result.status())) << result.status();
  }
}

// BlockOn entered just before, during or just after Shutdown on another thread: it returns the
// task's result or CancelledError, promptly, in every interleaving.
TEST(BlockOnShutdownTest, BlockOnRacingShutdown) {
  std::mt19937 random(14);
  for (int round = 0; round < 200; ++round) {
    Runtime runtime({.num_workers = 2});
    Event never;
    const int delay_us = static_cast<int>(random() % 300);
    std::thread stopper([&runtime, delay_us] {
      std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      runtime.Shutdown();
    });
    const absl::Status status = runtime.BlockOn([&never, round]() -> Task<absl::Status> {
      if (round % 2 == 0) co_return co_await never.Wait();
      co_return absl::OkStatus();
    }());
    stopper.join();
    if (round % 2 == 0) {
      EXPECT_TRUE(absl::IsCancelled(status)) << status;
    } else {
      EXPECT_TRUE(status.ok() || absl::IsCancelled(status)) << status;
    }
  }
}

class BlockOnShutdownDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BlockOnShutdownDeathTest, VoidBlockOnAfterShutdownAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.Shutdown();
        runtime.BlockOn([]() -> Task<void> { co_return; }());
      },
      "BlockOn: the runtime shut down before the task finished, and its result type cannot "
      "carry the cancellation");
}

TEST_F(BlockOnShutdownDeathTest, IntBlockOnCancelledByShutdownAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        Event never;
        std::thread stopper([&runtime] {
          std::this_thread::sleep_for(std::chrono::milliseconds(30));
          runtime.Shutdown();
        });
        runtime.BlockOn([&never]() -> Task<int> {
          (void)co_await never.Wait();
          co_return 1;
        }());
        stopper.join();
      },
      "BlockOn: the runtime shut down before the task finished");
}

}  // namespace
}  // namespace coral
