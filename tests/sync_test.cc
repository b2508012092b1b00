// Copyright 2026 The coral Authors.
//
// AsyncMutex, Synchronized, AsyncSharedMutex, Semaphore, Event, Notify, Latch: fairness order,
// cancellation, hand-off, and holding a lock across co_await while the task migrates.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/async_mutex.h"
#include "coral/async_shared_mutex.h"
#include "coral/cancellation.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/latch.h"
#include "coral/notify.h"
#include "coral/runtime.h"
#include "coral/semaphore.h"
#include "coral/sleep.h"
#include "coral/spawn_blocking.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// Records the order in which tasks did something.
class Order {
 public:
  void Add(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    order_.push_back(id);
  }
  std::vector<int> Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::vector<int> order_;
};

// Runs `body` under a source that an outside thread cancels after `delay`.
template <typename T>
T RunCancelledAfter(Runtime& runtime, absl::Duration delay, Task<T> body) {
  CancellationSource source;
  std::thread canceller([&] {
    absl::SleepFor(delay);
    source.Cancel();
  });
  T result = runtime.BlockOn(WithCancellation(source.token(), std::move(body)));
  canceller.join();
  return result;
}

TEST(AsyncMutexTest, LockTryLockUnlock) {
  Runtime runtime({.num_workers = 2});
  AsyncMutex mu;
  runtime.BlockOn([&]() -> Task<void> {
    absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
    EXPECT_TRUE(guard.ok());
    EXPECT_TRUE(guard->owns_lock());
    EXPECT_FALSE(mu.TryLock().has_value());
    guard->Unlock();
    EXPECT_FALSE(guard->owns_lock());
    std::optional<AsyncMutex::Guard> again = mu.TryLock();
    EXPECT_TRUE(again.has_value());
  }());
  EXPECT_TRUE(mu.TryLock().has_value());
}

// One worker, so that the waiters queue in id order by construction: each child runs (and
// queues) while its parent yields. With two, a child stolen by the other worker could be
// descheduled by the OS past any sleep of the parent's and queue late (a TSan run under load
// queued child 0 after children 1 and 2), which tests the OS scheduler, not the mutex. Hand-offs
// across threads are tested below and in stress/sync_stress_test.
TEST(AsyncMutexTest, FifoHandOff) {
  Runtime runtime({.num_workers = 1});
  AsyncMutex mu;
  Order order;
  runtime.BlockOn([&]() -> Task<void> {
    absl::StatusOr<AsyncMutex::Guard> held = co_await mu.Lock();
    TaskGroup group;
    for (int id = 0; id < 5; ++id) {
      group.Spawn([&, id]() -> Task<void> {
        absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
        EXPECT_TRUE(guard.ok());
        order.Add(id);
      });
      co_await Yield();  // The child runs first and queues.
    }
    EXPECT_FALSE(mu.TryLock().has_value());  // No barging past the queue.
    held->Unlock();
    (void)co_await group.Join();
  }());
  EXPECT_EQ(order.Get(), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(AsyncMutexTest, HeldAcrossAwaitWhileTheTaskMigrates) {
  Runtime runtime({.num_workers = 2});
  AsyncMutex mu;
  int inside = 0;  // Guarded by mu: a plain int, so TSan checks the lock's ordering.
  std::atomic<int> released_on_other_thread{0};
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int t = 0; t < 4; ++t) {
      group.Spawn([&]() -> Task<void> {
        // At least 50 rounds each, and on until some task was resumed on the other worker while
        // holding the lock (bounded: the wake-up placement is up to the scheduler).
        for (int i = 0; i < 50 || (released_on_other_thread.load() == 0 && i < 5000); ++i) {
          absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
          const std::thread::id locked_on = std::this_thread::get_id();
          EXPECT_EQ(++inside, 1);
          for (int y = 0; y < 3; ++y) co_await Yield();
          // Woken from a pool thread, through the injection queue: either worker resumes it.
          (void)co_await SpawnBlocking([] { return 1; });
          (void)co_await SleepFor(absl::Microseconds(50));
          EXPECT_EQ(inside--, 1);
          if (std::this_thread::get_id() != locked_on) ++released_on_other_thread;
        }
      });
    }
    (void)co_await group.Join();
  }());
  EXPECT_EQ(inside, 0);
  EXPECT_GT(released_on_other_thread.load(), 0);  // Migration really happened while held.
}

TEST(AsyncMutexTest, CancelledWaiterNeverHoldsTheLock) {
  Runtime runtime({.num_workers = 2});
  AsyncMutex mu;
  std::atomic<bool> cancelled_waiter_got_lock{false};
  runtime.BlockOn([&]() -> Task<void> {
    absl::StatusOr<AsyncMutex::Guard> held = co_await mu.Lock();
    TaskGroup group;
    CancellationSource source;
    auto wait_for_lock = [&]() -> Task<void> {
      absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
      EXPECT_TRUE(absl::IsCancelled(guard.status())) << guard.status();
      if (guard.ok()) cancelled_waiter_got_lock = true;
    };
    group.Spawn(
        [&]() -> Task<void> { co_await WithCancellation(source.token(), wait_for_lock()); });
    Order order;
    group.Spawn([&]() -> Task<void> {
      (void)co_await SleepFor(absl::Milliseconds(5));  // Queued behind the cancelled one.
      absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
      EXPECT_TRUE(guard.ok());
      order.Add(1);
    });
    (void)co_await SleepFor(absl::Milliseconds(10));
    source.Cancel();
    (void)co_await SleepFor(absl::Milliseconds(5));
    held->Unlock();  // Must reach the second waiter, not the cancelled one.
    (void)co_await group.Join();
    EXPECT_EQ(order.Get(), std::vector<int>{1});
  }());
  EXPECT_FALSE(cancelled_waiter_got_lock.load());
  EXPECT_TRUE(mu.TryLock().has_value());
}

TEST(AsyncMutexTest, AbortedWaiterPassesTheLockOn) {
  Runtime runtime({.num_workers = 2});
  AsyncMutex mu;
  runtime.BlockOn([&]() -> Task<void> {
    absl::StatusOr<AsyncMutex::Guard> held = co_await mu.Lock();
    JoinHandle<void> doomed = Spawn([&]() -> Task<void> {
      absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
      (void)co_await SleepFor(absl::Hours(1));
    });
    (void)co_await SleepFor(absl::Milliseconds(5));
    held->Unlock();  // Handed to `doomed`, which is aborted before it ever runs again.
    doomed.Abort();
    EXPECT_TRUE(absl::IsCancelled(co_await doomed));
    absl::StatusOr<AsyncMutex::Guard> after = co_await mu.Lock();  // Not stuck.
    EXPECT_TRUE(after.ok());
  }());
}

#ifndef NDEBUG
TEST(AsyncMutexDeathTest, RelockingFromTheSameTaskAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        AsyncMutex mu;
        runtime.BlockOn([&]() -> Task<void> {
          absl::StatusOr<AsyncMutex::Guard> first = co_await mu.Lock();
          absl::StatusOr<AsyncMutex::Guard> second = co_await mu.Lock();
        }());
      },
      "locked a coral::AsyncMutex it already holds");
}
#endif

TEST(SynchronizedTest, ValueOnlyThroughTheLock) {
  Runtime runtime({.num_workers = 2});
  Synchronized<std::map<int, std::string>> sessions;
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 100; ++i) {
      group.Spawn([&, i]() -> Task<void> {
        auto locked = co_await sessions.Lock();
        EXPECT_TRUE(locked.ok());
        (*locked)->emplace(i, std::to_string(i));
      });
    }
    (void)co_await group.Join();
  }());
  auto locked = sessions.TryLock();
  ASSERT_TRUE(locked.has_value());
  EXPECT_EQ((*locked)->size(), 100u);
}

TEST(AsyncSharedMutexTest, ReadersShareWritersExclude) {
  Runtime runtime({.num_workers = 2});
  AsyncSharedMutex mu;
  std::atomic<int> readers{0};
  std::atomic<int> max_readers{0};
  std::atomic<int> writers{0};
  std::atomic<bool> overlap{false};
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 20; ++i) {
      const bool writer = i % 5 == 0;
      group.Spawn([&, writer]() -> Task<void> {
        for (int round = 0; round < 20; ++round) {
          if (writer) {
            auto guard = co_await mu.Lock();
            if (++writers != 1 || readers.load() != 0) overlap = true;
            (void)co_await SleepFor(absl::Microseconds(20));
            --writers;
          } else {
            auto guard = co_await mu.LockShared();
            const int now = ++readers;
            if (writers.load() != 0) overlap = true;
            int seen = max_readers.load();
            while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
            }
            (void)co_await SleepFor(absl::Microseconds(20));
            --readers;
          }
        }
      });
    }
    (void)co_await group.Join();
  }());
  EXPECT_FALSE(overlap.load());
  EXPECT_GT(max_readers.load(), 1);
}

// One worker, for the reason given at FifoHandOff: each spawned waiter queues while the parent
// yields.
TEST(AsyncSharedMutexTest, WriterIsNotStarvedByReaders) {
  Runtime runtime({.num_workers = 1});
  AsyncSharedMutex mu;
  Order order;
  runtime.BlockOn([&]() -> Task<void> {
    auto first_reader = co_await mu.LockShared();
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      auto guard = co_await mu.Lock();
      order.Add(0);  // The writer.
    });
    co_await Yield();
    EXPECT_FALSE(mu.TryLockShared().has_value());  // A reader may not pass the queued writer.
    group.Spawn([&]() -> Task<void> {
      auto guard = co_await mu.LockShared();
      order.Add(1);  // A later reader.
    });
    co_await Yield();
    first_reader->Unlock();
    (void)co_await group.Join();
  }());
  EXPECT_EQ(order.Get(), (std::vector<int>{0, 1}));
}

// One worker, for the reason given at FifoHandOff: each spawned waiter queues, and anything a
// release wakes runs, while the parent yields.
TEST(SemaphoreTest, WeightedFifo) {
  Runtime runtime({.num_workers = 1});
  Semaphore semaphore(0);
  Order order;
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      auto big = co_await semaphore.Acquire(2);
      order.Add(2);
      (void)co_await SleepFor(absl::Milliseconds(5));
    });
    co_await Yield();
    group.Spawn([&]() -> Task<void> {
      auto small = co_await semaphore.Acquire(1);
      order.Add(1);
    });
    co_await Yield();
    semaphore.Release(1);  // Not enough for the head (2): the 1 behind it may not barge.
    co_await Yield();
    EXPECT_TRUE(order.Get().empty());
    semaphore.Release(1);  // The head takes both; the 1 waits until the head returns them.
    (void)co_await group.Join();
  }());
  EXPECT_EQ(order.Get(), (std::vector<int>{2, 1}));
  EXPECT_EQ(semaphore.available(), 2);
}

TEST(SemaphoreTest, CancelledHeadLetsTheNextThrough) {
  Runtime runtime({.num_workers = 2});
  Semaphore semaphore(1);
  runtime.BlockOn([&]() -> Task<void> {
    auto held = co_await semaphore.Acquire(1);
    CancellationSource source;
    TaskGroup group;
    auto greedy = [&]() -> Task<void> {
      auto permits = co_await semaphore.Acquire(5);  // Can never be satisfied.
      EXPECT_TRUE(absl::IsCancelled(permits.status()));
    };
    group.Spawn([&]() -> Task<void> { co_await WithCancellation(source.token(), greedy()); });
    (void)co_await SleepFor(absl::Milliseconds(3));
    std::atomic<bool> got{false};
    group.Spawn([&]() -> Task<void> {
      auto one = co_await semaphore.Acquire(1);
      got = one.ok();
    });
    held->Release();
    (void)co_await SleepFor(absl::Milliseconds(3));
    EXPECT_FALSE(got.load());  // Behind the greedy head.
    source.Cancel();
    (void)co_await group.Join();
    EXPECT_TRUE(got.load());
  }());
  EXPECT_EQ(semaphore.available(), 1);
}

TEST(EventTest, SetReleasesAllAndStaysSet) {
  Runtime runtime({.num_workers = 2});
  Event event;
  std::atomic<int> released{0};
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 10; ++i) {
      group.Spawn([&]() -> Task<void> {
        if ((co_await event.Wait()).ok()) ++released;
      });
    }
    (void)co_await SleepFor(absl::Milliseconds(3));
    EXPECT_EQ(released.load(), 0);
    event.Set();
    (void)co_await group.Join();
    EXPECT_TRUE((co_await event.Wait()).ok());  // Set: no wait.
    event.Reset();
    EXPECT_FALSE(event.IsSet());
  }());
  EXPECT_EQ(released.load(), 10);
}

TEST(EventTest, WaitIsCancellable) {
  Runtime runtime({.num_workers = 2});
  Event never;
  absl::Status status =
      RunCancelledAfter(runtime, absl::Milliseconds(5),
                        [&]() -> Task<absl::Status> { co_return co_await never.Wait(); }());
  EXPECT_TRUE(absl::IsCancelled(status));
}

TEST(NotifyTest, OnePermitIsStoredAllWakesWaitersOnly) {
  Runtime runtime({.num_workers = 2});
  Notify notify;
  runtime.BlockOn([&]() -> Task<void> {
    notify.NotifyOne();
    notify.NotifyOne();                              // At most one permit is stored.
    EXPECT_TRUE((co_await notify.Notified()).ok());  // Consumes it at once.
    std::atomic<int> woken{0};
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
      group.Spawn([&]() -> Task<void> {
        if ((co_await notify.Notified()).ok()) ++woken;
      });
    }
    (void)co_await SleepFor(absl::Milliseconds(3));
    notify.NotifyOne();
    (void)co_await SleepFor(absl::Milliseconds(3));
    EXPECT_EQ(woken.load(), 1);
    notify.NotifyAll();
    (void)co_await group.Join();
    EXPECT_EQ(woken.load(), 3);
  }());
  absl::Status status =
      RunCancelledAfter(runtime, absl::Milliseconds(5), [&]() -> Task<absl::Status> {
        co_return co_await notify.Notified();  // NotifyAll stored nothing.
      }());
  EXPECT_TRUE(absl::IsCancelled(status));
}

TEST(LatchTest, OpensAtZero) {
  Runtime runtime({.num_workers = 2});
  Latch latch(3);
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
      group.Spawn([&]() -> Task<void> {
        (void)co_await SleepFor(absl::Milliseconds(2));
        latch.CountDown();
      });
    }
    EXPECT_TRUE((co_await latch.Wait()).ok());
    EXPECT_TRUE(latch.TryWait());
    (void)co_await group.Join();
  }());
}

}  // namespace
}  // namespace coral
