// Copyright 2026 The coral Authors.
//
// The README's "Ownership and misuse" table, cell by cell: for every public type, what happens
// when it is moved from, destroyed while a task awaits it, destroyed or used from another thread,
// and used after the runtime shut down. A cell says "works" (a behaviour test here), "aborts"
// (a death test here, matching the message) or "does not compile" (a snippet in
// tests/compile_fail/).
//
// Tests whose body could crash or hang the whole binary if the rule broke run in a child process
// (RunIsolated), so one broken cell fails one test.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/coral.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::DropCounter;
using ::coral::testing::Eventually;

// Death tests and isolated tests re-run the binary ("threadsafe"): the runtimes' threads make a
// plain fork unsafe.
class OwnershipDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};
using OwnershipTest = OwnershipDeathTest;

// Runs `body` in a child process that must exit cleanly (0) within 20 s: for rules whose breach
// would crash or hang (a use-after-free, a waiter left behind at shutdown).
void RunIsolated(const std::function<void()>& body) {
  EXPECT_EXIT(
      {
        alarm(20);
        body();
        std::exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

// Lets the tasks queued on a one-worker runtime run until they suspend.
Task<void> LetOthersRun() {
  for (int i = 0; i < 4; ++i) co_await Yield();
}

// Awaits `handle` on `runtime` (for a handle whose own runtime is gone).
template <typename T>
JoinResult<T> JoinOn(Runtime& runtime, JoinHandle<T>& handle) {
  return runtime.BlockOn(
      [](JoinHandle<T>* h) -> Task<JoinResult<T>> { co_return co_await std::move(*h); }(&handle));
}

Task<void> Forever() { co_await SleepFor(absl::Hours(1)); }

// ---------------------------------------------------------------------------------------------
// Task

TEST_F(OwnershipDeathTest, TaskMovedFromAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          Task<int> task = []() -> Task<int> { co_return 1; }();
          Task<int> other = std::move(task);
          (void)co_await task;  // NOLINT(bugprone-use-after-move): the misuse under test.
        }());
      },
      "co_await on a moved-from coral::Task");
}

TEST_F(OwnershipDeathTest, TaskDestroyedWhileAwaitedAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        Event never;
        std::optional<Task<void>> inner;
        runtime.BlockOn([](Event* never, std::optional<Task<void>>* inner) -> Task<void> {
          inner->emplace([](Event* never) -> Task<void> { (void)co_await never->Wait(); }(never));
          JoinHandle<void> awaiter =
              Spawn([](Task<void>* task) -> Task<void> { co_await *task; }, &**inner);
          co_await LetOthersRun();  // The awaiter starts the inner task, which waits.
          inner->reset();
        }(&never, &inner));
      },
      "a coral::Task destroyed while a task awaits it");
}

TEST_F(OwnershipTest, TaskTornDownWithItsAwaiterWorks) {
  std::atomic<int> drops{0};
  Runtime runtime({.num_workers = 1});
  JoinHandle<void> handle = runtime.Spawn(
      [](DropCounter counter) -> Task<void> {
        co_await [](DropCounter) -> Task<void> { co_await Forever(); }(std::move(counter));
      },
      DropCounter(&drops));
  ASSERT_TRUE(Eventually([&] { return !handle.IsFinished(); }));
  handle.Abort();
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, handle)));
  EXPECT_EQ(drops.load(), 1);
}

TEST_F(OwnershipTest, TaskMadeOnOneThreadRunsOnAnother) {
  Task<int> task = []() -> Task<int> { co_return 42; }();
  std::optional<Task<int>> unstarted([]() -> Task<int> { co_return 1; }());
  std::thread([&unstarted] { unstarted.reset(); }).join();  // Destroyed unstarted elsewhere.
  Runtime runtime({.num_workers = 2});
  EXPECT_EQ(runtime.BlockOn(std::move(task)), 42);
}

TEST_F(OwnershipTest, TaskSpawnedAfterShutdownIsDestroyedUnrun) {
  std::atomic<int> drops{0};
  std::atomic<bool> ran{false};
  Runtime runtime({.num_workers = 1});
  runtime.Shutdown();
  JoinHandle<void> handle = runtime.Spawn(
      [&ran](DropCounter) -> Task<void> {
        ran = true;
        co_return;
      },
      DropCounter(&drops));
  EXPECT_TRUE(handle.IsFinished());
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, handle)));
  EXPECT_FALSE(ran.load());
  EXPECT_EQ(drops.load(), 1);
}

// ---------------------------------------------------------------------------------------------
// JoinHandle

TEST_F(OwnershipDeathTest, JoinHandleMovedFromAborts) {
  auto moved_from = [] {
    Runtime runtime({.num_workers = 1});
    JoinHandle<int> handle = runtime.Spawn([]() -> Task<int> { co_return 1; });
    JoinHandle<int> other = std::move(handle);
    return handle;  // NOLINT: moved from.
  };
  EXPECT_DEATH(moved_from().Abort(), "Abort on an empty, moved-from or detached coral::JoinHandle");
  EXPECT_DEATH((void)moved_from().IsFinished(),
               "IsFinished on an empty, moved-from or detached coral::JoinHandle");
  EXPECT_DEATH(moved_from().Detach(),
               "Detach on an empty, moved-from or detached coral::JoinHandle");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        JoinHandle<int> handle = moved_from();
        (void)JoinOn(runtime, handle);
      },
      "co_await on an empty, moved-from or detached coral::JoinHandle");
  EXPECT_FALSE(moved_from().valid());
}

TEST_F(OwnershipTest, JoinHandleDestroyedWhileAwaitedWorks) {
  RunIsolated([] {
    Runtime runtime({.num_workers = 1});
    Event go;
    std::optional<JoinHandle<int>> handle;
    absl::StatusOr<int> got;
    runtime.BlockOn([](Event* go, std::optional<JoinHandle<int>>* handle,
                       absl::StatusOr<int>* got) -> Task<void> {
      handle->emplace(Spawn(
          [](Event* go) -> Task<int> {
            (void)co_await go->Wait();
            co_return 7;
          },
          go));
      JoinHandle<void> waiter =
          Spawn([](JoinHandle<int>* joined,
                   absl::StatusOr<int>* got) -> Task<void> { *got = co_await *joined; },
                &**handle, got);
      co_await LetOthersRun();  // The waiter waits on the handle.
      handle->reset();          // Dropped while awaited.
      go->Set();
      (void)co_await std::move(waiter);
    }(&go, &handle, &got));
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got.value_or(0), 7);
  });
}

TEST_F(OwnershipTest, JoinHandleUsedAndDroppedOnAnotherThread) {
  Runtime runtime({.num_workers = 2});
  JoinHandle<void> sleeper = runtime.Spawn(Forever);
  std::thread([&sleeper] {
    EXPECT_FALSE(sleeper.IsFinished());
    sleeper.Abort();
    EXPECT_TRUE(Eventually([&] { return sleeper.IsFinished(); }));
    JoinHandle<void> moved = std::move(sleeper);  // Destroyed on this thread.
  }).join();
}

TEST_F(OwnershipTest, JoinHandleAfterShutdownReportsCancelled) {
  JoinHandle<void> handle;
  {
    Runtime runtime({.num_workers = 1});
    handle = runtime.Spawn(Forever);
    ASSERT_TRUE(Eventually([&] { return !handle.IsFinished(); }));
  }
  EXPECT_TRUE(handle.IsFinished());
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, handle)));
}

// ---------------------------------------------------------------------------------------------
// TaskGroup (moving one does not compile: tests/compile_fail/move_task_group.cc)

// Needs the `groups` branch (issue 14, item 1): today the destructor trusts an earlier Join.
TEST_F(OwnershipDeathTest, TaskGroupDestroyedWithLiveChildAborts) {
  EXPECT_DEATH(
      {
        alarm(20);
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          std::optional<TaskGroup> group(std::in_place);
          group->Spawn([]() -> Task<void> { co_return; });
          (void)co_await group->Join();
          group->Spawn(Forever);  // Spawned after the join: live when the group goes.
          group.reset();
        }());
      },
      "coral: fatal misuse: .*TaskGroup");
}

TEST_F(OwnershipDeathTest, TaskGroupSpawnOffWorkerAborts) {
  EXPECT_DEATH(
      {
        TaskGroup group;
        group.Spawn([]() -> Task<void> { co_return; });
      },
      "TaskGroup::Spawn called from a thread that is not a coral worker");
}

TEST_F(OwnershipTest, TaskGroupCancelledFromAnotherThread) {
  Runtime runtime({.num_workers = 2});
  absl::Status joined = runtime.BlockOn([]() -> Task<absl::Status> {
    TaskGroup group;
    std::atomic<bool> waiting{false};
    group.Spawn([&waiting]() -> Task<absl::Status> {
      waiting = true;
      co_return co_await SleepFor(absl::Hours(1));
    });
    std::thread canceller([&] {
      EXPECT_TRUE(Eventually([&] { return waiting.load(); }));
      group.Cancel();
    });
    absl::Status status = co_await group.Join();
    canceller.join();
    co_return status;
  }());
  EXPECT_TRUE(absl::IsCancelled(joined)) << joined;
}

TEST_F(OwnershipTest, TaskGroupOwnerTornDownAtShutdown) {
  std::atomic<int> drops{0};
  JoinHandle<void> owner;
  {
    Runtime runtime({.num_workers = 1});
    owner = runtime.Spawn(
        [](std::atomic<int>* drops) -> Task<void> {
          TaskGroup group;
          group.Spawn([](DropCounter) -> Task<void> { co_await Forever(); }, DropCounter(drops));
          (void)co_await group.Join();
        },
        &drops);
    ASSERT_TRUE(Eventually([&] { return !owner.IsFinished(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // The child starts sleeping.
  }
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, owner)));
  EXPECT_EQ(drops.load(), 1);
}

// ---------------------------------------------------------------------------------------------
// CancellationSource, CancellationToken (a CancellationCallback does not move:
// tests/compile_fail/move_cancellation_callback.cc)

TEST_F(OwnershipDeathTest, CancellationSourceMovedFromAborts) {
  auto moved_from = [] {
    CancellationSource source;
    CancellationSource other = std::move(source);
    return source;  // NOLINT: moved from.
  };
  EXPECT_DEATH(moved_from().Cancel(), "Cancel on a moved-from coral::CancellationSource");
  EXPECT_DEATH((void)moved_from().token(), "token\\(\\) of a moved-from coral::CancellationSource");
  EXPECT_DEATH((void)moved_from().IsCancelled(),
               "IsCancelled on a moved-from coral::CancellationSource");
  EXPECT_DEATH(
      {
        CancellationSource copy = moved_from();
        CancellationSource again(copy);
      },
      "copy of a moved-from coral::CancellationSource");
}

TEST_F(OwnershipDeathTest, CancellationTokenMovedFromAborts) {
  auto moved_from = [] {
    CancellationToken token = CancellationSource().token();
    CancellationToken other = std::move(token);
    return token;  // NOLINT: moved from.
  };
  EXPECT_DEATH((void)moved_from().IsCancelled(),
               "IsCancelled on a moved-from coral::CancellationToken");
  EXPECT_DEATH((void)moved_from().CanBeCancelled(),
               "CanBeCancelled on a moved-from coral::CancellationToken");
  EXPECT_DEATH((void)moved_from().Cancelled(), "Cancelled\\(\\) on a moved-from");
  EXPECT_DEATH({ CancellationSource child(moved_from()); }, "use of a moved-from");
  // A default token is not a moved-from one.
  EXPECT_FALSE(CancellationToken().IsCancelled());
  EXPECT_FALSE(CancellationToken().CanBeCancelled());
  CancellationToken reassigned = moved_from();
  reassigned = CancellationSource().token();
  EXPECT_TRUE(reassigned.CanBeCancelled());
}

TEST_F(OwnershipTest, CancellationHandlesDroppedWhileAwaited) {
  RunIsolated([] {
    Runtime runtime({.num_workers = 1});
    runtime.BlockOn([]() -> Task<void> {
      // The token awaited through is dropped; the source still cancels the waiter.
      std::optional<CancellationSource> source(std::in_place);
      std::optional<CancellationToken> token(source->token());
      JoinHandle<absl::Status> waiter = Spawn(
          [](CancellationToken* token) -> Task<absl::Status> {
            co_return co_await token->Cancelled();
          },
          &*token);
      co_await LetOthersRun();
      token.reset();
      source->Cancel();
      absl::Status woke = co_await std::move(waiter);
      EXPECT_TRUE(woke.ok()) << woke;
      // The source itself is dropped: the waiter waits on (it can never be cancelled now).
      source.emplace();
      token.emplace(source->token());
      JoinHandle<absl::Status> orphan = Spawn(
          [](CancellationToken* token) -> Task<absl::Status> {
            co_return co_await token->Cancelled();
          },
          &*token);
      co_await LetOthersRun();
      token.reset();
      source.reset();
      co_await LetOthersRun();
      EXPECT_FALSE(orphan.IsFinished());
      orphan.Abort();
      EXPECT_TRUE(absl::IsCancelled(co_await std::move(orphan)));
    }());
  });
}

TEST_F(OwnershipTest, CancellationFromAnotherThreadAndAfterShutdown) {
  CancellationSource source;
  std::atomic<int> callbacks{0};
  CancellationCallback callback(source.token(), [&callbacks] { callbacks.fetch_add(1); });
  JoinHandle<absl::Status> waiter;
  {
    Runtime runtime({.num_workers = 1});
    waiter = runtime.Spawn(
        [](CancellationToken token) -> Task<absl::Status> { co_return co_await token.Cancelled(); },
        source.token());
    std::thread([source] { source.Cancel(); }).join();  // A copy, cancelled on another thread.
    ASSERT_TRUE(Eventually([&] { return waiter.IsFinished(); }));
  }
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(JoinOn(joiner, waiter).ok());
  EXPECT_EQ(callbacks.load(), 1);
  // After the runtime is gone: a new source still cancels, and runs its callbacks.
  CancellationSource late;
  CancellationCallback late_callback(late.token(), [&callbacks] { callbacks.fetch_add(1); });
  late.Cancel();
  EXPECT_EQ(callbacks.load(), 2);
}

// ---------------------------------------------------------------------------------------------
// AsyncMutex and its guards (moving a mutex does not compile: move_async_mutex.cc)

TEST_F(OwnershipTest, MovedFromGuardsOwnNothing) {
  AsyncMutex mutex;
  std::optional<AsyncMutex::Guard> guard = mutex.TryLock();
  ASSERT_TRUE(guard.has_value());
  AsyncMutex::Guard moved = *std::move(guard);
  EXPECT_FALSE(guard->owns_lock());
  guard->Unlock();  // A no-op: the lock is still held.
  EXPECT_FALSE(mutex.TryLock().has_value());
  moved.Unlock();
  EXPECT_TRUE(mutex.TryLock().has_value());

  Semaphore semaphore(2);
  std::optional<Semaphore::Permit> permit = semaphore.TryAcquire(2);
  ASSERT_TRUE(permit.has_value());
  Semaphore::Permit kept = *std::move(permit);
  EXPECT_EQ(permit->count(), 0);
  permit->Release();
  EXPECT_EQ(semaphore.available(), 0);
  kept.Release();
  EXPECT_EQ(semaphore.available(), 2);

  AsyncSharedMutex shared;
  std::optional<AsyncSharedMutex::Guard> writer = shared.TryLock();
  ASSERT_TRUE(writer.has_value());
  AsyncSharedMutex::Guard held = *std::move(writer);
  EXPECT_FALSE(writer->owns_lock());
  writer->Unlock();
  EXPECT_FALSE(shared.TryLockShared().has_value());
}

TEST_F(OwnershipDeathTest, MovedFromSynchronizedGuardAborts) {
  EXPECT_DEATH(
      {
        Synchronized<int> value(1);
        std::optional<Synchronized<int>::Guard> guard = value.TryLock();
        Synchronized<int>::Guard moved = *std::move(guard);
        **guard = 2;
      },
      "use of a moved-from coral::Synchronized guard");
}

TEST_F(OwnershipDeathTest, AsyncMutexDestroyedWhileLockedOrAwaitedAborts) {
  EXPECT_DEATH(
      {
        std::optional<AsyncMutex> mutex(std::in_place);
        std::optional<AsyncMutex::Guard> guard = mutex->TryLock();
        mutex.reset();
      },
      "a coral::AsyncMutex destroyed while locked or waited for");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          std::optional<AsyncMutex> mutex(std::in_place);
          std::optional<AsyncMutex::Guard> guard = mutex->TryLock();
          JoinHandle<void> waiter =
              Spawn([](AsyncMutex* mutex) -> Task<void> { (void)co_await mutex->Lock(); }, &*mutex);
          co_await LetOthersRun();
          guard.reset();  // Handed to the waiter, which now holds it.
          mutex.reset();
        }());
      },
      "a coral::AsyncMutex destroyed while locked or waited for");
}

TEST_F(OwnershipTest, AsyncMutexGuardReleasedOnAnotherThread) {
  AsyncMutex mutex;
  Runtime runtime({.num_workers = 2});
  absl::StatusOr<AsyncMutex::Guard> guard =
      runtime.BlockOn([](AsyncMutex* mutex) -> Task<absl::StatusOr<AsyncMutex::Guard>> {
        co_return co_await mutex->Lock();
      }(&mutex));
  ASSERT_TRUE(guard.ok());
  std::thread([guard = *std::move(guard)]() mutable { guard.Unlock(); }).join();
  EXPECT_TRUE(mutex.TryLock().has_value());
}

// ---------------------------------------------------------------------------------------------
// Semaphore, AsyncSharedMutex, Event, Notify, Latch (none of them moves: move_*.cc)

// Spawns a task that waits on the primitive, lets it wait, then destroys the primitive.
#define DESTROY_WHILE_AWAITED(Type, wait, message, ...)                                  \
  EXPECT_DEATH(                                                                          \
      {                                                                                  \
        Runtime runtime({.num_workers = 1});                                             \
        runtime.BlockOn([]() -> Task<void> {                                             \
          std::optional<Type> primitive(std::in_place __VA_OPT__(, ) __VA_ARGS__);       \
          JoinHandle<void> waiter =                                                      \
              Spawn([](Type* p) -> Task<void> { (void)co_await p->wait; }, &*primitive); \
          co_await LetOthersRun();                                                       \
          primitive.reset();                                                             \
        }());                                                                            \
      },                                                                                 \
      message)

TEST_F(OwnershipDeathTest, PrimitivesDestroyedWhileAwaitedAbort) {
  DESTROY_WHILE_AWAITED(Semaphore, Acquire(), "a coral::Semaphore destroyed while a task waits", 0);
  DESTROY_WHILE_AWAITED(Event, Wait(), "a coral::Event/Latch destroyed while a task waits");
  DESTROY_WHILE_AWAITED(Latch, Wait(), "a coral::Event/Latch destroyed while a task waits", 1);
  DESTROY_WHILE_AWAITED(Notify, Notified(), "a coral::Notify destroyed while a task waits");
}

TEST_F(OwnershipDeathTest, PrimitivesDestroyedWhileHeldAbort) {
  EXPECT_DEATH(
      {
        std::optional<Semaphore> semaphore(std::in_place, 1);
        std::optional<Semaphore::Permit> permit = semaphore->TryAcquire();
        semaphore.reset();
      },
      "a coral::Semaphore destroyed while a Permit taken from it is alive");
  EXPECT_DEATH(
      {
        std::optional<AsyncSharedMutex> mutex(std::in_place);
        std::optional<AsyncSharedMutex::SharedGuard> reader = mutex->TryLockShared();
        mutex.reset();
      },
      "a coral::AsyncSharedMutex destroyed while locked or waited for");
}

TEST_F(OwnershipTest, PrimitivesSignalledFromAnotherThread) {
  Event event;
  Notify notify;
  Semaphore semaphore(0);
  Latch latch(1);
  Runtime runtime({.num_workers = 2});
  std::atomic<int> waiting{0};
  absl::Status all =
      runtime.BlockOn([](Event* event, Notify* notify, Semaphore* semaphore, Latch* latch,
                         std::atomic<int>* waiting) -> Task<absl::Status> {
        std::thread signaller([&] {  // Each signal once its waiter is (about to be) waiting.
          EXPECT_TRUE(Eventually([&] { return waiting->load() >= 1; }));
          event->Set();
          EXPECT_TRUE(Eventually([&] { return waiting->load() >= 2; }));
          notify->NotifyOne();
          EXPECT_TRUE(Eventually([&] { return waiting->load() >= 3; }));
          semaphore->Release();
          EXPECT_TRUE(Eventually([&] { return waiting->load() >= 4; }));
          latch->CountDown();
        });
        waiting->fetch_add(1);
        absl::Status s1 = co_await event->Wait();
        waiting->fetch_add(1);
        absl::Status s2 = co_await notify->Notified();
        waiting->fetch_add(1);
        absl::StatusOr<Semaphore::Permit> permit = co_await semaphore->Acquire();
        waiting->fetch_add(1);
        absl::Status s4 = co_await latch->Wait();
        signaller.join();
        for (const absl::Status& s : {s1, s2, permit.status(), s4}) {
          if (!s.ok()) co_return s;
        }
        co_return absl::OkStatus();
      }(&event, &notify, &semaphore, &latch, &waiting));
  EXPECT_TRUE(all.ok()) << all;
}

// Needs the `shutdown` branch (issue 14, item 15): today Shutdown leaves these waiters queued.
TEST_F(OwnershipTest, PrimitiveWaitersDestroyedAtShutdown) {
  RunIsolated([] {
    AsyncMutex mutex;
    AsyncSharedMutex shared;
    Semaphore semaphore(0);
    Event event;
    Notify notify;
    Latch latch(1);
    std::pair<Sender<int>, Receiver<int>> channel = Channel<int>::Bounded(1);
    Sender<int>& tx = channel.first;
    Receiver<int>& rx = channel.second;
    std::pair<Sender<int>, Receiver<int>> idle = Channel<int>::Unbounded();
    std::pair<OneshotSender<int>, OneshotReceiver<int>> oneshot = Oneshot<int>::Make();
    std::optional<AsyncMutex::Guard> held = mutex.TryLock();
    std::optional<AsyncSharedMutex::Guard> held_shared = shared.TryLock();
    ASSERT_TRUE(tx.TrySend(0).ok());  // Full: a Send waits.
    std::vector<JoinHandle<void>> waiters;
    {
      Runtime runtime({.num_workers = 1});
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await mutex.Lock(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await shared.LockShared(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await semaphore.Acquire(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await event.Wait(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await notify.Notified(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await latch.Wait(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await tx.Send(1); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await idle.second.Recv(); }));
      waiters.push_back(runtime.Spawn([&]() -> Task<void> { (void)co_await Select(idle.second); }));
      waiters.push_back(
          runtime.Spawn([&]() -> Task<void> { (void)co_await oneshot.second.Recv(); }));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // All of them wait.
      for (auto& waiter : waiters) EXPECT_FALSE(waiter.IsFinished());
      runtime.Shutdown();
    }
    Runtime joiner({.num_workers = 1});
    for (auto& waiter : waiters) {
      EXPECT_TRUE(waiter.IsFinished());
      EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, waiter)));
    }
    // Wakers fired after the runtime is gone touch nothing of it.
    held.reset();
    held_shared.reset();
    semaphore.Release();
    event.Set();
    notify.NotifyAll();
    latch.CountDown();
    EXPECT_TRUE(rx.TryRecv().ok());
    EXPECT_TRUE(tx.TrySend(2).ok());  // The channel still works after its waiter is gone.
    EXPECT_TRUE(idle.first.TrySend(3).ok());
    EXPECT_EQ(idle.second.TryRecv().value_or(0), 3);
    EXPECT_TRUE(oneshot.first.Send(4).ok());
  });
}

// ---------------------------------------------------------------------------------------------
// Channel handles and Select

TEST_F(OwnershipDeathTest, ChannelHandlesMovedFromAbort) {
  auto sender = [] {
    auto [tx, rx] = Channel<int>::Unbounded();
    Sender<int> other = std::move(tx);
    return std::move(tx);  // NOLINT: moved from.
  };
  auto receiver = [] {
    auto [tx, rx] = Channel<int>::Unbounded();
    Receiver<int> other = std::move(rx);
    return std::move(rx);  // NOLINT: moved from.
  };
  EXPECT_FALSE(sender().valid());
  EXPECT_FALSE(receiver().valid());
  EXPECT_DEATH((void)sender().TrySend(1), "TrySend on a moved-from coral::Sender");
  EXPECT_DEATH(sender().Close(), "Close on a moved-from coral::Sender");
  EXPECT_DEATH((void)sender().IsClosed(), "IsClosed on a moved-from coral::Sender");
  EXPECT_DEATH((void)sender().Send(1), "Send on a moved-from coral::Sender");
  EXPECT_DEATH(
      {
        Sender<int> s = sender();
        Sender<int> copy(s);
      },
      "copy of a moved-from coral::Sender");
  EXPECT_DEATH((void)receiver().TryRecv(), "TryRecv on a moved-from coral::Receiver");
  EXPECT_DEATH(receiver().Close(), "Close on a moved-from coral::Receiver");
  EXPECT_DEATH((void)receiver().Recv(), "Recv on a moved-from coral::Receiver");
  EXPECT_DEATH(
      {
        Receiver<int> r = receiver();
        Receiver<int> copy(r);
      },
      "copy of a moved-from coral::Receiver");
  auto select = [&receiver] {
    Receiver<int> moved = receiver();
    auto [tx, live] = Channel<int>::Unbounded();
    (void)Select(live, moved);
  };
  EXPECT_DEATH(select(), "coral::Select on a moved-from coral::Receiver");
}

TEST_F(OwnershipTest, ChannelHandlesDroppedWhileAwaited) {
  RunIsolated([] {
    Runtime runtime({.num_workers = 1});
    runtime.BlockOn([]() -> Task<void> {
      {  // Every handle dropped while a Recv waits: the receive ends with OutOfRange.
        auto [tx, rx] = Channel<int>::Bounded(1);
        std::optional<Sender<int>> sender(std::move(tx));
        std::optional<Receiver<int>> receiver(std::move(rx));
        JoinHandle<absl::StatusOr<int>> waiter = Spawn(
            [](Receiver<int>* rx) -> Task<absl::StatusOr<int>> { co_return co_await rx->Recv(); },
            &*receiver);
        co_await LetOthersRun();
        receiver.reset();
        sender.reset();
        absl::StatusOr<int> got = co_await std::move(waiter);
        EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
      }
      {  // Every handle dropped while a Send waits: the value comes back.
        auto [tx, rx] = Channel<int>::Bounded(1);
        std::optional<Sender<int>> sender(std::move(tx));
        std::optional<Receiver<int>> receiver(std::move(rx));
        EXPECT_TRUE(sender->TrySend(1).ok());
        JoinHandle<SendResult<int>> waiter =
            Spawn([](Sender<int>* tx) -> Task<SendResult<int>> { co_return co_await tx->Send(2); },
                  &*sender);
        co_await LetOthersRun();
        sender.reset();
        receiver.reset();
        absl::StatusOr<SendResult<int>> sent = co_await std::move(waiter);
        EXPECT_TRUE(sent.ok());
        EXPECT_TRUE(absl::IsFailedPrecondition(sent->status));
        EXPECT_EQ(sent->unsent.value_or(0), 2);
      }
      {  // Dropped while a Select waits.
        auto [tx, rx] = Channel<int>::Unbounded();
        std::optional<Sender<int>> sender(std::move(tx));
        std::optional<Receiver<int>> receiver(std::move(rx));
        JoinHandle<bool> waiter = Spawn(
            [](Receiver<int>* rx) -> Task<bool> {
              absl::StatusOr<SelectResult<int>> got = co_await Select(*rx);
              co_return got.ok() && absl::IsOutOfRange(std::get<0>(got->value).status());
            },
            &*receiver);
        co_await LetOthersRun();
        receiver.reset();
        sender.reset();
        EXPECT_TRUE((co_await std::move(waiter)).value_or(false));
      }
      {  // Oneshot: the sender dropped while Recv waits, and the receiver too.
        auto [tx, rx] = Oneshot<int>::Make();
        std::optional<OneshotSender<int>> sender(std::move(tx));
        std::optional<OneshotReceiver<int>> receiver(std::move(rx));
        JoinHandle<absl::StatusOr<int>> waiter = Spawn(
            [](OneshotReceiver<int>* rx) -> Task<absl::StatusOr<int>> {
              co_return co_await rx->Recv();
            },
            &*receiver);
        co_await LetOthersRun();
        receiver.reset();
        sender.reset();
        absl::StatusOr<int> got = co_await std::move(waiter);
        EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
      }
    }());
  });
}

TEST_F(OwnershipTest, ChannelHandlesUsedOnOtherThreads) {
  auto [tx, rx] = Channel<int>::Unbounded();
  auto [one_tx, one_rx] = Oneshot<int>::Make();
  Runtime runtime({.num_workers = 2});
  std::thread sender([tx = tx, one_tx = std::move(one_tx)]() mutable {
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(tx.TrySend(i).ok());
    EXPECT_TRUE(one_tx.Send(7).ok());
  });  // Its copies are dropped on that thread.
  int sum = runtime.BlockOn([](Receiver<int> rx, OneshotReceiver<int> one) -> Task<int> {
    int total = 0;
    for (int i = 0; i < 100; ++i) total += (co_await rx.Recv()).value_or(-1000);
    total += (co_await one.Recv()).value_or(-1000);
    co_return total;
  }(rx, std::move(one_rx)));
  sender.join();
  EXPECT_EQ(sum, 99 * 100 / 2 + 7);
}

TEST_F(OwnershipDeathTest, OneshotMovedFromAborts) {
  auto send = [] {
    auto [tx, rx] = Oneshot<int>::Make();
    OneshotSender<int> other = std::move(tx);
    (void)tx.Send(1);  // NOLINT(bugprone-use-after-move)
  };
  auto recv = [] {
    auto [tx, rx] = Oneshot<int>::Make();
    OneshotReceiver<int> other = std::move(rx);
    (void)rx.Recv();  // NOLINT(bugprone-use-after-move)
  };
  EXPECT_DEATH(send(), "Send on a moved-from coral::OneshotSender");
  EXPECT_DEATH(recv(), "Recv on a moved-from coral::OneshotReceiver");
}

// ---------------------------------------------------------------------------------------------
// Sockets and AsyncFd

TEST_F(OwnershipDeathTest, SocketsMovedFromAbort) {
  auto unix_stream = [] {
    auto pair = UnixStream::Pair();
    UnixStream other = std::move(pair->first);
    return std::move(pair->first);  // NOLINT: moved from.
  };
  EXPECT_FALSE(unix_stream().valid());
  EXPECT_EQ(unix_stream().fd(), -1);
  unix_stream().Close();  // A no-op.
  EXPECT_DEATH((void)unix_stream().TryRead({}), "StreamSocket::TryRead on a closed or moved-from");
  EXPECT_DEATH((void)unix_stream().TryWrite("x"),
               "StreamSocket::TryWrite on a closed or moved-from");
  EXPECT_DEATH((void)unix_stream().ShutdownWrite(),
               "StreamSocket::ShutdownWrite on a closed or moved-from");
  EXPECT_DEATH((void)unix_stream().PeerAddress(),
               "StreamSocket::PeerAddress on a closed or moved-from");
  EXPECT_DEATH((void)unix_stream().Read({}), "StreamSocket::Read on a closed or moved-from");
  EXPECT_DEATH((void)unix_stream().Write("x"), "StreamSocket::Write on a closed or moved-from");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        UnixStream stream = unix_stream();
        (void)runtime.BlockOn(stream.WriteAll("x"));
      },
      "StreamSocket::Write on a closed or moved-from");
  EXPECT_DEATH(
      {
        TcpStream stream;  // Default: no socket, like a moved-from one.
        (void)stream.SetNoDelay(true);
      },
      "TcpStream::SetNoDelay on a closed or moved-from");
  EXPECT_DEATH(
      {
        auto listener = TcpListener::Bind(SocketAddress::Loopback(0));
        TcpListener other = *std::move(listener);
        Runtime runtime({.num_workers = 1});
        (void)runtime.BlockOn(listener->Accept());  // NOLINT(bugprone-use-after-move)
      },
      "TcpListener::Accept on a closed or moved-from");
  EXPECT_DEATH(
      {
        auto listener = TcpListener::Bind(SocketAddress::Loopback(0));
        listener->Close();
        (void)listener->LocalAddress();
      },
      "TcpListener::LocalAddress on a closed or moved-from");
  EXPECT_DEATH(
      {
        UnixListener listener;
        Runtime runtime({.num_workers = 1});
        (void)runtime.BlockOn(listener.Accept());
      },
      "UnixListener::Accept on a closed or moved-from");
  EXPECT_DEATH(
      {
        auto socket = UdpSocket::Bind(SocketAddress::Loopback(0));
        UdpSocket other = *std::move(socket);
        Runtime runtime({.num_workers = 1});
        // NOLINTNEXTLINE(bugprone-use-after-move)
        (void)runtime.BlockOn(socket->SendTo("x", SocketAddress::Loopback(9)));
      },
      "UdpSocket::SendTo on a closed or moved-from");
  EXPECT_DEATH(
      {
        UdpSocket socket;
        (void)socket.Connect(SocketAddress::Loopback(9));
      },
      "UdpSocket::Connect on a closed or moved-from");
}

TEST_F(OwnershipDeathTest, AsyncFdMovedFromAborts) {
  auto moved_from = [] {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) std::abort();
    ::close(fds[1]);
    AsyncFd fd = *AsyncFd::Create(fds[0]);
    AsyncFd other = std::move(fd);
    return fd;  // NOLINT: moved from.
  };
  EXPECT_FALSE(moved_from().valid());
  moved_from().Close();                   // A no-op.
  EXPECT_EQ(moved_from().Release(), -1);  // Nothing to release.
  EXPECT_DEATH((void)moved_from().CurrentReadiness(),
               "CurrentReadiness on a closed or moved-from coral::AsyncFd");
  EXPECT_DEATH((void)moved_from().RegisterOnThisWorker(),
               "RegisterOnThisWorker on a closed or moved-from coral::AsyncFd");
  EXPECT_DEATH((void)moved_from().Readable(),
               "readiness awaited on a closed or moved-from AsyncFd");
  EXPECT_DEATH((void)moved_from().ReadSome([] { return ssize_t{0}; }),
               "readiness awaited on a closed or moved-from AsyncFd");
}

TEST_F(OwnershipDeathTest, SocketDestroyedWhileAwaitedAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          auto pair = UnixStream::Pair();
          std::optional<UnixStream> stream(std::move(pair->first));
          JoinHandle<void> reader = Spawn(
              [](UnixStream* s) -> Task<void> {
                char byte;
                (void)co_await s->Read(absl::MakeSpan(&byte, 1));
              },
              &*stream);
          co_await LetOthersRun();
          stream.reset();
        }());
      },
      "an AsyncFd was closed while a task was waiting on it");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          std::optional<TcpListener> listener(*TcpListener::Bind(SocketAddress::Loopback(0)));
          JoinHandle<void> acceptor =
              Spawn([](TcpListener* l) -> Task<void> { (void)co_await l->Accept(); }, &*listener);
          co_await LetOthersRun();
          listener.reset();
        }());
      },
      "an AsyncFd was closed while a task was waiting on it");
}

TEST_F(OwnershipTest, SocketReadAndWrittenFromTasksOnOtherThreads) {
  auto pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok());
  Runtime runtime({.num_workers = 2});
  JoinHandle<absl::Status> writer = runtime.Spawn(
      [](UnixStream* s) -> Task<absl::Status> { co_return co_await s->WriteAll("hello"); },
      &pair->first);
  JoinHandle<absl::Status> reader = runtime.Spawn(
      [](UnixStream* s) -> Task<absl::Status> {
        char buffer[5];
        absl::Status read = co_await s->ReadExact(absl::MakeSpan(buffer));
        if (read.ok() && std::string(buffer, 5) != "hello") read = absl::DataLossError("garbled");
        co_return read;
      },
      &pair->second);
  EXPECT_TRUE(
      runtime.BlockOn([](JoinHandle<absl::Status>* w, JoinHandle<absl::Status>* r) -> Task<bool> {
        absl::Status written = co_await std::move(*w);
        absl::Status read = co_await std::move(*r);
        co_return written.ok() && read.ok();
      }(&writer, &reader)));
  // Moved to another thread and closed there.
  std::thread([stream = std::move(pair->first)]() mutable { stream.Close(); }).join();
}

TEST_F(OwnershipTest, SocketWaitsAfterShutdownEndCancelled) {
  auto pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok());
  JoinHandle<absl::StatusOr<size_t>> reader;
  {
    Runtime runtime({.num_workers = 1});
    reader = runtime.Spawn(
        [](UnixStream* s) -> Task<absl::StatusOr<size_t>> {
          char byte;
          co_return co_await s->Read(absl::MakeSpan(&byte, 1));
        },
        &pair->first);
    ASSERT_TRUE(Eventually([&] { return !reader.IsFinished(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // It waits for data.
  }
  Runtime next({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(next, reader).status()));
  // The socket outlives its runtime: a new wait ends at once, the non-waiting calls still work.
  absl::StatusOr<size_t> read = next.BlockOn([](UnixStream* s) -> Task<absl::StatusOr<size_t>> {
    char byte;
    co_return co_await s->Read(absl::MakeSpan(&byte, 1));
  }(&pair->first));
  EXPECT_TRUE(absl::IsCancelled(read.status())) << read.status();
  EXPECT_TRUE(pair->second.TryWrite("x").ok());
  pair->first.Close();
}

// ---------------------------------------------------------------------------------------------
// SignalListener

TEST_F(OwnershipDeathTest, SignalListenerMisuseAborts) {
  EXPECT_DEATH(
      {
        auto listener = SignalListener::Create({SIGUSR1});
        SignalListener other = *std::move(listener);
        Runtime runtime({.num_workers = 1});
        (void)runtime.BlockOn(listener->Next());  // NOLINT(bugprone-use-after-move)
      },
      "SignalListener::Next on a moved-from or default listener");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          std::optional<SignalListener> listener(*SignalListener::Create({SIGUSR1}));
          JoinHandle<absl::StatusOr<int>> waiter = Spawn(
              [](SignalListener* l) -> Task<absl::StatusOr<int>> { co_return co_await l->Next(); },
              &*listener);
          co_await LetOthersRun();
          listener.reset();
        }());
      },
      "closed while a task was waiting on it");
}

TEST_F(OwnershipTest, SignalRaisedOnAnotherThreadAndListenerAfterShutdown) {
  std::optional<SignalListener> listener(*SignalListener::Create({SIGUSR2}));
  {
    Runtime runtime({.num_workers = 2});
    JoinHandle<absl::StatusOr<int>> waiter = runtime.Spawn(
        [](SignalListener* l) -> Task<absl::StatusOr<int>> { co_return co_await l->Next(); },
        &*listener);
    std::thread([] { ::raise(SIGUSR2); }).join();
    ASSERT_TRUE(Eventually([&] { return waiter.IsFinished(); }));
    // A second wait, left pending: shutdown tears it down.
    JoinHandle<absl::StatusOr<int>> pending = runtime.Spawn(
        [](SignalListener* l) -> Task<absl::StatusOr<int>> { co_return co_await l->Next(); },
        &*listener);
    runtime.Shutdown();
    Runtime joiner({.num_workers = 1});
    absl::StatusOr<int> got = JoinOn(joiner, waiter);
    EXPECT_EQ(got.value_or(0), SIGUSR2);
    EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, pending).status()));
  }
  listener.reset();  // No task waits any more.
}

// ---------------------------------------------------------------------------------------------
// Interval (neither copied nor moved: move_interval.cc)

TEST_F(OwnershipDeathTest, IntervalMisuseAborts) {
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          std::optional<Interval> interval(std::in_place, absl::Hours(1),
                                           Interval::MissedTicks::kSkip,
                                           absl::Now() + absl::Hours(1));
          JoinHandle<absl::Status> ticker = Spawn(
              [](Interval* i) -> Task<absl::Status> { co_return co_await i->Tick(); }, &*interval);
          co_await LetOthersRun();
          interval.reset();
        }());
      },
      "a coral::Interval destroyed while a task awaits its Tick");
  EXPECT_DEATH(
      {
        Runtime runtime({.num_workers = 1});
        runtime.BlockOn([]() -> Task<void> {
          Interval interval(absl::Hours(1), Interval::MissedTicks::kSkip,
                            absl::Now() + absl::Hours(1));
          JoinHandle<absl::Status> first = Spawn(
              [](Interval* i) -> Task<absl::Status> { co_return co_await i->Tick(); }, &interval);
          co_await LetOthersRun();
          (void)co_await interval.Tick();
        }());
      },
      "coral::Interval::Tick awaited by two tasks at once");
}

TEST_F(OwnershipTest, IntervalTickTornDownAtShutdown) {
  Interval interval(absl::Hours(1), Interval::MissedTicks::kSkip, absl::Now() + absl::Hours(1));
  JoinHandle<absl::Status> ticker;
  {
    Runtime runtime({.num_workers = 2});
    ticker = runtime.Spawn([](Interval* i) -> Task<absl::Status> { co_return co_await i->Tick(); },
                           &interval);
    ASSERT_TRUE(Eventually([&] { return !ticker.IsFinished(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Runtime joiner({.num_workers = 1});
  EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, ticker)));
  // The torn-down Tick let go: the Interval may tick again, and be destroyed.
  absl::Status ticked = joiner.BlockOn([](Interval* i) -> Task<absl::Status> {
    co_return co_await Timeout(absl::Milliseconds(1), i->Tick());
  }(&interval));
  EXPECT_TRUE(absl::IsDeadlineExceeded(ticked) || absl::IsCancelled(ticked)) << ticked;
}

// ---------------------------------------------------------------------------------------------
// Runtime (neither copied nor moved: move_runtime.cc)

TEST_F(OwnershipTest, RuntimeDestroyedWithWaitingTasksAndUsedFromThreads) {
  std::atomic<int> drops{0};
  std::vector<JoinHandle<void>> handles;
  {
    Runtime runtime({.num_workers = 2});
    std::vector<std::thread> spawners;
    std::mutex mu;
    for (int t = 0; t < 4; ++t) {
      spawners.emplace_back([&] {
        JoinHandle<void> handle = runtime.Spawn(
            [](DropCounter) -> Task<void> { co_await Forever(); }, DropCounter(&drops));
        std::lock_guard<std::mutex> lock(mu);
        handles.push_back(std::move(handle));
      });
    }
    for (auto& spawner : spawners) spawner.join();
  }  // Destroyed while its tasks wait.
  EXPECT_EQ(drops.load(), 4);
  Runtime joiner({.num_workers = 1});
  for (auto& handle : handles) EXPECT_TRUE(absl::IsCancelled(JoinOn(joiner, handle)));
}

// Destroying a runtime from one of its own workers aborts: misuse_test.cc.

// Needs the `shutdown` branch (issue 14, item 12): today BlockOn after Shutdown hangs. It must
// return the task's cancellation or abort naming the shutdown, promptly either way.
TEST_F(OwnershipDeathTest, RuntimeBlockOnAfterShutdownEndsPromptly) {
  EXPECT_EXIT(
      {
        alarm(10);
        Runtime runtime({.num_workers = 1});
        runtime.Shutdown();
        absl::Status status =
            runtime.BlockOn([]() -> Task<absl::Status> { co_return absl::OkStatus(); }());
        std::fprintf(stderr, "BlockOn returned: %s\n", status.ToString().c_str());
        std::fflush(stderr);
        std::_Exit(absl::IsCancelled(status) ? 0 : 1);
      },
      [](int status) {
        return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
               (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
      },
      "BlockOn returned: CANCELLED|shut down");
}

}  // namespace
}  // namespace coral
