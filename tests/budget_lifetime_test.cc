// Copyright 2026 The coral Authors.
//
// What a wait keeps alive, it keeps alive across a budget yield too (coral/internal/budget.h):
// a task that spent its budget retries its operation on its next turn, and the channel, the
// joined task or the oneshot flag it retries on must still be there, whatever happened to the
// handle it borrowed meanwhile. The README's "Ownership and misuse" table, for these windows.
//
// The objects that are not reference-counted (the mutexes, Semaphore, Event, Latch, Notify,
// AsyncFd, TaskGroup's Join) count a task in such a yield as their waiter: destroying one then
// aborts with the message a waiting task would cause, instead of leaving the task to retry on
// freed memory. And an await retried after the yield looks at the object afresh.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/coral.h"
#include "coral/internal/budget.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// 128 always-ready awaits: the task's budget for this turn is then spent.
Task<void> ExhaustBudget() {
  Event ready;
  ready.Set();
  for (int i = 0; i < 128; ++i) (void)co_await ready.Wait();
}

// README "Ownership and misuse": Sender/Receiver destroyed while awaited -> "works: the wait
// holds the channel". Here the Recv yields for its budget first.
TEST(BudgetLifetimeTest, ChannelHandlesDroppedWhileRecvYieldsForBudget) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    auto [tx, rx] = Channel<int>::Bounded(1);
    std::optional<Sender<int>> sender(std::move(tx));
    std::optional<Receiver<int>> receiver(std::move(rx));
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](Receiver<int>* rx) -> Task<absl::StatusOr<int>> {
          co_await ExhaustBudget();
          co_return co_await rx->Recv();  // Yields for the budget, holding nothing.
        },
        &*receiver);
    co_await Yield();  // The waiter runs, spends its budget and yields behind us.
    receiver.reset();
    sender.reset();
    absl::StatusOr<int> got = co_await std::move(waiter);
    EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
  }());
}

// README: JoinHandle destroyed while awaited -> "works: the waiter still gets the output".
TEST(BudgetLifetimeTest, JoinHandleDroppedWhileJoinYieldsForBudget) {
  Runtime runtime({.num_workers = 1});
  absl::StatusOr<int> got = runtime.BlockOn([]() -> Task<absl::StatusOr<int>> {
    std::optional<JoinHandle<int>> handle;
    handle.emplace(Spawn([]() -> Task<int> { co_return 7; }));
    co_await Yield();  // It finishes; only the handle keeps it.
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](JoinHandle<int>* joined) -> Task<absl::StatusOr<int>> {
          co_await ExhaustBudget();
          co_return co_await *joined;  // Yields for the budget, holding no reference.
        },
        &*handle);
    co_await Yield();
    handle.reset();  // Frees the finished task: nothing else references it.
    co_return co_await std::move(waiter);
  }());
  EXPECT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got.value_or(0), 7);
}

// README: OneshotReceiver destroyed while awaited -> "works". On the heap, so that ASan sees a
// write into the dropped receiver.
TEST(BudgetLifetimeTest, OneshotReceiverOnTheHeapDroppedWhileRecvWaits) {
  Runtime runtime({.num_workers = 1});
  absl::StatusOr<int> got = runtime.BlockOn([]() -> Task<absl::StatusOr<int>> {
    auto [tx, rx] = Oneshot<int>::Make();
    auto sender = std::make_unique<OneshotSender<int>>(std::move(tx));
    auto receiver = std::make_unique<OneshotReceiver<int>>(std::move(rx));
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](OneshotReceiver<int>* rx) -> Task<absl::StatusOr<int>> {
          co_return co_await rx->Recv();
        },
        receiver.get());
    co_await Yield();  // The waiter runs and waits.
    co_await Yield();
    receiver.reset();
    sender.reset();
    co_return co_await std::move(waiter);
  }());
  EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
}

// --- Objects that are not reference-counted ----------------------------------------------------

// Ready awaits in one turn: the last one (the budget's 129th) yields for the budget.
constexpr int kAwaitsToYield = internal::kTaskBudget + 1;

// On a one-worker runtime: `waiter(object)` runs as a task, spends its budget on ready awaits of
// the object and yields behind the root, which then destroys the object. `waiter` is a
// captureless lambda returning Task<void>.
template <typename T, typename Waiter>
void DestroyDuringBudgetYield(std::unique_ptr<T> object, Waiter waiter) {
  alarm(5);  // Were it not caught, the waiter could hang on the freed object.
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([](std::unique_ptr<T> object, Waiter waiter) -> Task<void> {
    JoinHandle<void> handle = Spawn(waiter, object.get());
    co_await Yield();  // The waiter runs, spends its budget and yields behind us.
    object.reset();    // Aborts: the waiter counts as waiting on it.
    (void)co_await std::move(handle);
  }(std::move(object), waiter));
}

// A pipe whose read end is an AsyncFd holding 4096 bytes; the write end is returned in *writer.
std::unique_ptr<AsyncFd> FullPipe(int* writer) {
  int fds[2];
  CORAL_CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe2");
  const std::string data(4096, 'x');
  CORAL_CHECK(write(fds[1], data.data(), data.size()) == static_cast<ssize_t>(data.size()),
              "write");
  *writer = fds[1];
  absl::StatusOr<AsyncFd> fd = AsyncFd::Create(fds[0]);
  CORAL_CHECK(fd.ok(), "AsyncFd::Create");
  return std::make_unique<AsyncFd>(*std::move(fd));
}

class BudgetLifetimeDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(BudgetLifetimeDeathTest, AsyncMutexDestroyedDuringLockBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<AsyncMutex>(),
                                        [](AsyncMutex* mutex) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await mutex->Lock();
                                          }
                                        }),
               "a coral::AsyncMutex destroyed while locked or waited for");
}

TEST_F(BudgetLifetimeDeathTest, SynchronizedDestroyedDuringLockBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<Synchronized<int>>(0),
                                        [](Synchronized<int>* value) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await value->Lock();
                                          }
                                        }),
               "a coral::AsyncMutex destroyed while locked or waited for");
}

TEST_F(BudgetLifetimeDeathTest, AsyncSharedMutexDestroyedDuringLockBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<AsyncSharedMutex>(),
                                        [](AsyncSharedMutex* mutex) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await mutex->Lock();
                                          }
                                        }),
               "a coral::AsyncSharedMutex destroyed while locked or waited for");
}

TEST_F(BudgetLifetimeDeathTest, AsyncSharedMutexDestroyedDuringLockSharedBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<AsyncSharedMutex>(),
                                        [](AsyncSharedMutex* mutex) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await mutex->LockShared();
                                          }
                                        }),
               "a coral::AsyncSharedMutex destroyed while locked or waited for");
}

TEST_F(BudgetLifetimeDeathTest, SemaphoreDestroyedDuringAcquireBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<Semaphore>(1),
                                        [](Semaphore* semaphore) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await semaphore->Acquire();
                                          }
                                        }),
               "a coral::Semaphore destroyed while a task waits on it");
}

TEST_F(BudgetLifetimeDeathTest, EventDestroyedDuringWaitBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<Event>(/*set=*/true),
                                        [](Event* event) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await event->Wait();
                                          }
                                        }),
               "a coral::Event/Latch destroyed while a task waits on it");
}

TEST_F(BudgetLifetimeDeathTest, LatchDestroyedDuringWaitBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<Latch>(0),
                                        [](Latch* latch) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            (void)co_await latch->Wait();
                                          }
                                        }),
               "a coral::Event/Latch destroyed while a task waits on it");
}

TEST_F(BudgetLifetimeDeathTest, NotifyDestroyedDuringNotifiedBudgetYieldAborts) {
  EXPECT_DEATH(DestroyDuringBudgetYield(std::make_unique<Notify>(),
                                        [](Notify* notify) -> Task<void> {
                                          for (int i = 0; i < kAwaitsToYield; ++i) {
                                            notify->NotifyOne();  // A stored permit: ready.
                                            (void)co_await notify->Notified();
                                          }
                                        }),
               "a coral::Notify destroyed while a task waits on it");
}

TEST_F(BudgetLifetimeDeathTest, AsyncFdDestroyedDuringIoBudgetYieldAborts) {
  EXPECT_DEATH(
      {
        int writer;
        DestroyDuringBudgetYield(FullPipe(&writer), [](AsyncFd* fd) -> Task<void> {
          const int raw = fd->fd();
          char byte;
          for (int i = 0; i < kAwaitsToYield; ++i) {
            (void)co_await fd->ReadSome([raw, &byte] { return ::read(raw, &byte, 1); });
          }
        });
      },
      "an AsyncFd was closed while a task was waiting on it");
}

TEST_F(BudgetLifetimeDeathTest, AsyncFdDestroyedDuringReadableBudgetYieldAborts) {
  EXPECT_DEATH(
      {
        alarm(5);
        Runtime runtime({.num_workers = 1});
        int writer;
        runtime.BlockOn([](std::unique_ptr<AsyncFd> fd) -> Task<void> {
          (void)co_await fd->Readable();  // Registers it: its readiness is known from now on.
          JoinHandle<void> handle = Spawn(
              [](AsyncFd* fd) -> Task<void> {
                for (int i = 0; i < kAwaitsToYield; ++i) (void)co_await fd->Readable();
              },
              fd.get());
          co_await Yield();
          fd.reset();
          (void)co_await std::move(handle);
        }(FullPipe(&writer)));
      },
      "an AsyncFd was closed while a task was waiting on it");
}

// Moving an AsyncFd leaves a task that awaits it with the address of one that owns nothing (and
// may be freed, as here): a misuse, whether the task waits or yields for its budget.
TEST_F(BudgetLifetimeDeathTest, AsyncFdMovedWhileAwaitedAborts) {
  EXPECT_DEATH(
      {
        alarm(5);
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          int fds[2];
          CORAL_CHECK(pipe2(fds, O_CLOEXEC) == 0, "pipe2");
          auto fd = std::make_unique<AsyncFd>(*AsyncFd::Create(fds[0]));
          JoinHandle<void> handle =
              Spawn([](AsyncFd* fd) -> Task<void> { (void)co_await fd->Readable(); }, fd.get());
          co_await Yield();  // It waits: the pipe is empty.
          AsyncFd moved = std::move(*fd);
          fd.reset();
          if (::write(fds[1], "x", 1) != 1) co_return;  // Wakes it.
          (void)co_await std::move(handle);
        }());
      },
      "an AsyncFd moved or closed while a task waits on it");
  EXPECT_DEATH(
      {
        alarm(5);
        Runtime runtime({.num_workers = 1});
        int writer;
        runtime.BlockOn([](std::unique_ptr<AsyncFd> fd) -> Task<void> {
          (void)co_await fd->Readable();
          JoinHandle<void> handle = Spawn(
              [](AsyncFd* fd) -> Task<void> {
                for (int i = 0; i < kAwaitsToYield; ++i) (void)co_await fd->Readable();
              },
              fd.get());
          co_await Yield();  // It yields for its budget.
          AsyncFd moved = std::move(*fd);
          fd.reset();
          (void)co_await std::move(handle);
        }(FullPipe(&writer)));
      },
      "an AsyncFd moved or closed while a task waits on it");
}

TEST_F(BudgetLifetimeDeathTest, TaskGroupDestroyedDuringJoinBudgetYieldAborts) {
  EXPECT_DEATH(
      {
        alarm(5);
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          auto group = std::make_unique<TaskGroup>();
          JoinHandle<void> handle = Spawn(
              [](TaskGroup* group) -> Task<void> {
                for (int i = 0; i < kAwaitsToYield; ++i) (void)co_await group->Join();
              },
              group.get());
          co_await Yield();
          group.reset();
          (void)co_await std::move(handle);
        }());
      },
      "a coral::TaskGroup destroyed while a task awaits its Join");
}

// A task torn down in such a yield stops counting: the object may then go.
TEST(BudgetLifetimeTest, MutexDestroyedAfterTaskAbortedDuringBudgetYield) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    auto mutex = std::make_unique<AsyncMutex>();
    JoinHandle<void> handle = Spawn(
        [](AsyncMutex* mutex) -> Task<void> {
          for (int i = 0; i < kAwaitsToYield; ++i) (void)co_await mutex->Lock();
          ADD_FAILURE() << "resumed after the abort";
        },
        mutex.get());
    co_await Yield();
    handle.Abort();
    absl::Status joined = co_await std::move(handle);
    EXPECT_TRUE(absl::IsCancelled(joined)) << joined;
    mutex.reset();
  }());
}

TEST(BudgetLifetimeTest, AsyncFdClosedAfterTaskAbortedDuringIoBudgetYield) {
  Runtime runtime({.num_workers = 1});
  int writer;
  runtime.BlockOn([](std::unique_ptr<AsyncFd> fd) -> Task<void> {
    JoinHandle<void> handle = Spawn(
        [](AsyncFd* fd) -> Task<void> {
          const int raw = fd->fd();
          char byte;
          for (int i = 0; i < kAwaitsToYield; ++i) {
            (void)co_await fd->ReadSome([raw, &byte] { return ::read(raw, &byte, 1); });
          }
          ADD_FAILURE() << "resumed after the abort";
        },
        fd.get());
    co_await Yield();
    handle.Abort();
    absl::Status joined = co_await std::move(handle);
    EXPECT_TRUE(absl::IsCancelled(joined)) << joined;
    fd.reset();
  }(FullPipe(&writer)));
  close(writer);
}

// Runtime shutdown destroys a task in such a yield; the object, destroyed after, has no waiter.
TEST(BudgetLifetimeTest, EventOutlivesRuntimeThatDestroyedTaskInBudgetYield) {
  Event event(/*set=*/true);
  {
    Runtime runtime({.num_workers = 1});
    runtime.BlockOn([](Event* event) -> Task<void> {
      Spawn(
          [](Event* event) -> Task<void> {
            for (;;) (void)co_await event->Wait();  // Suspends only for its budget.
          },
          event)
          .Detach();
      co_await Yield();  // It yields behind us; we finish, and the runtime shuts down.
    }(&event));
  }
}

// After the yield the await looks again: what changed meanwhile counts.
TEST(BudgetLifetimeTest, EventResetDuringWaitBudgetYieldIsWaitedFor) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    Event event(/*set=*/true);
    JoinHandle<void> handle = Spawn(
        [](Event* event) -> Task<void> {
          for (int i = 0; i < kAwaitsToYield; ++i) (void)co_await event->Wait();
        },
        &event);
    co_await Yield();  // It yields in its last Wait.
    event.Reset();
    for (int i = 0; i < 3; ++i) co_await Yield();
    EXPECT_FALSE(handle.IsFinished());
    event.Set();
    EXPECT_TRUE((co_await std::move(handle)).ok());
  }());
}

TEST(BudgetLifetimeTest, MutexTakenDuringLockBudgetYieldIsWaitedFor) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    AsyncMutex mutex;
    JoinHandle<bool> handle = Spawn(
        [](AsyncMutex* mutex) -> Task<bool> {
          for (int i = 0; i + 1 < kAwaitsToYield; ++i) (void)co_await mutex->Lock();
          absl::StatusOr<AsyncMutex::Guard> last = co_await mutex->Lock();
          co_return last.ok() && last->owns_lock();
        },
        &mutex);
    co_await Yield();
    std::optional<AsyncMutex::Guard> held = mutex.TryLock();
    EXPECT_TRUE(held.has_value());
    for (int i = 0; i < 3; ++i) co_await Yield();
    EXPECT_FALSE(handle.IsFinished());
    held.reset();
    absl::StatusOr<bool> locked = co_await std::move(handle);
    EXPECT_TRUE(locked.ok() && *locked) << locked.status();
  }());
}

TEST(BudgetLifetimeTest, NotifyPermitTakenDuringBudgetYieldIsWaitedFor) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    Notify notify;
    JoinHandle<void> handle = Spawn(
        [](Notify* notify) -> Task<void> {
          for (int i = 0; i < kAwaitsToYield; ++i) {
            notify->NotifyOne();
            (void)co_await notify->Notified();
          }
        },
        &notify);
    co_await Yield();  // It stored a permit, then yielded in its last Notified.
    EXPECT_TRUE((co_await notify.Notified()).ok());  // Takes that permit.
    for (int i = 0; i < 3; ++i) co_await Yield();
    EXPECT_FALSE(handle.IsFinished());
    notify.NotifyOne();
    EXPECT_TRUE((co_await std::move(handle)).ok());
  }());
}

TEST(BudgetLifetimeTest, PipeDrainedDuringReadBudgetYieldIsWaitedFor) {
  Runtime runtime({.num_workers = 1});
  int writer;
  std::unique_ptr<AsyncFd> pipe = FullPipe(&writer);
  runtime.BlockOn([](AsyncFd* fd, int writer) -> Task<void> {
    JoinHandle<void> handle = Spawn(
        [](AsyncFd* fd) -> Task<void> {
          const int raw = fd->fd();
          char byte;
          for (int i = 0; i < kAwaitsToYield; ++i) {
            absl::StatusOr<size_t> n =
                co_await fd->ReadSome([raw, &byte] { return ::read(raw, &byte, 1); });
            EXPECT_TRUE(n.ok() && *n == 1) << n.status();
          }
        },
        fd);
    co_await Yield();
    char drain[4096];
    while (::read(fd->fd(), drain, sizeof(drain)) > 0) {
    }
    for (int i = 0; i < 3; ++i) co_await Yield();
    EXPECT_FALSE(handle.IsFinished());
    EXPECT_EQ(::write(writer, "y", 1), 1);
    EXPECT_TRUE((co_await std::move(handle)).ok());
  }(pipe.get(), writer));
  close(writer);
}

}  // namespace
}  // namespace coral
