// Copyright 2026 The coral Authors.
//
// coral::Runtime: a pool of worker threads that run coroutine tasks and steal them from each other.
//
//   coral::Runtime runtime;                          // one worker per hardware thread
//   int sum = runtime.BlockOn(SumTree(0, 1 << 20));  // from main: run a task, wait for it
//
//   coral::Task<int> SumTree(int lo, int hi) {
//     if (hi - lo < 1024) co_return Sum(lo, hi);
//     auto left = coral::Spawn(SumTree, lo, (lo + hi) / 2);   // runs in parallel
//     int right = co_await SumTree((lo + hi) / 2, hi);
//     co_return *co_await std::move(left) + right;
//   }
//
// Spawning. Runtime::Spawn (from any thread) and coral::Spawn (from a task on a worker) take a
// callable returning coral::Task<T> and its arguments. Both are decay-copied into the new task, as
// std::thread does, so lambda captures and arguments live exactly as long as the task. A reference
// parameter does not compile unless the argument is wrapped in std::ref / std::cref (the caller
// then promises the referent outlives the task). The returned JoinHandle<T> joins, detaches or
// aborts the task (join_handle.h). To borrow the spawner's locals instead, spawn into a TaskGroup
// (task_group.h), which is joined before they go. Out of memory: if the new task's frame cannot be
// allocated, Spawn (and BlockOn) throw std::bad_alloc to their caller and nothing is created; a
// frame that the task itself fails to allocate later (a Task it awaits) throws inside the task,
// so the JoinHandle rethrows it as any exception of the task.
//
// Cancellation. A task spawned from inside a task runs under the spawner's cancellation token
// (cancellation.h); one spawned from outside any task runs under none.
//
// Threads. A task may be suspended on one worker and resumed on another: do not keep raw
// thread-local state across a co_await.
//
// Shutdown. Shutdown() (also run by the destructor) stops the workers after the tasks they are
// running suspend or finish, then destroys every task that has not finished, whatever it waits
// on (a timer, an fd, a JoinHandle, a primitive or channel owned outside the runtime or by
// another runtime's task, a blocking call), running the destructors of its locals on the calling
// thread (or on a thread that wakes one of them meanwhile); their JoinHandles report
// CancelledError. Each awaitable's destructor takes its task off what it waited on, so a waker
// that fires later (an Event set by main after the runtime is gone) finds nobody to wake. Tasks
// spawned after shutdown are destroyed at once the same way. A blocking call running on the
// blocking pool is waited for. Nothing leaks and nothing hangs. BlockOn waiting on another
// thread, or called after Shutdown, returns the task's cancellation (see BlockOn).
//
// A plain thread that holds a JoinHandle waits for it with coral::BlockingJoin (below).
//
// Seeded schedules (tests). Where a worker has a free choice (run a woken task next or queue it,
// which worker to steal from and how much, whether a task that could go on at a ready await
// yields, the order of the tasks one poll of the reactor woke, how many tasks to take from the
// global queue), a seed makes a generator choose, so that a stress test run under many seeds
// explores many schedules. Set it with Options::schedule_seed or, for every runtime of a process
// whose options leave it unset, the environment variable CORAL_SCHEDULE_SEED (a decimal number).
// A multi-threaded run is not replayed by its seed (the threads still race), but a failure found
// under a seed tends to come back under it: rerunning with the seed a failing test printed (see
// docs/reliability.md) is the first step of reproduction. Unseeded, each choice costs one
// predictable branch. Seeds change how often a task yields, so tests that count the cooperative
// budget's yields hold only unseeded.
//
// The deterministic mode (Options::deterministic) runs one worker on a paused clock (clock.h) and
// lets the seed pick which ready task runs next, among all of them. A test whose tasks wait only
// on coral's primitives, channels, task groups and timers (no fds, blocking calls or threads
// outside the runtime) then runs the same interleaving every time it runs with a seed, and
// different seeds give different interleavings: a failure replays exactly from its seed.
//
// Misuse (aborts with a message): BlockOn from a worker thread (of any coral runtime), destroying
// or shutting down a runtime from one of its own workers, coral::Spawn outside a worker, a BlockOn
// whose result type cannot carry an error (void, int...) cancelled by shutdown, the deterministic
// mode without num_workers = 1 and start_paused, a CORAL_SCHEDULE_SEED that is not a number.

#ifndef CORAL_RUNTIME_H_
#define CORAL_RUNTIME_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/internal/block_on.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral {

// True if Spawn(f, args...) compiles for an F and Args... of these types: the decay-copied
// callable, invoked with the decay-copied arguments as rvalues, returns a coral::Task<T>.
template <typename F, typename... Args>
inline constexpr bool kSpawnable = internal::IsSpawnable<F, Args...>();

class Runtime {
 public:
  struct Options {
    // Number of worker threads; 0 means std::thread::hardware_concurrency().
    int num_workers = 0;
    // Paused time, for tests (clock.h, "Paused time"): the runtime's clock is virtual; it starts
    // at the real monotonic now and moves only by auto-advance or AdvanceTime.
    bool start_paused = false;
    // With start_paused: whether the clock jumps to the earliest pending deadline whenever the
    // runtime is idle (tokio::time::pause's rule). If false, only AdvanceTime moves it.
    bool auto_advance = true;
    // Seeded schedules, for tests (see "Seeded schedules" above). If set, the workers take their
    // free choices from a generator seeded with this value; if not, from the process's seed,
    // CORAL_SCHEDULE_SEED in the environment, if set; with neither they are unperturbed.
    std::optional<uint64_t> schedule_seed = std::nullopt;
    // The deterministic mode, for tests (see "Seeded schedules" above): needs num_workers = 1 and
    // start_paused (else aborts). The seed (0 if none is set anywhere) orders every ready task.
    bool deterministic = false;
  };

  Runtime();
  explicit Runtime(Options options);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  int num_workers() const noexcept;

  // This runtime's clock (clock.h), from any thread: virtual if paused, else the real monotonic
  // clock.
  Instant Now() const;

  // Paused runtimes only, from outside the runtime (aborts on a worker: co_await
  // coral::AdvanceTime instead; and on a runtime that is not paused). Moves the clock to Now() + d
  // in steps: at each pending deadline up to there, in order, the timers due fire and the
  // runtime runs until idle (clock.h) before the next; then the clock stands at Now() + d and the
  // call returns once the runtime is idle there. With auto-advance on, the clock may run past
  // Now() + d by itself; the call returns once the runtime was idle at Now() + d or later. Blocks
  // as long as tasks keep running; returns at once after Shutdown.
  void AdvanceTime(absl::Duration d);

  // Spawns `f(args...)` as a new task. Safe from any thread, including this runtime's workers.
  template <typename F, typename... Args>
  auto Spawn(F&& f, Args&&... args) {
    static_assert(internal::CheckSpawnable<F, Args...>());
    using R = typename internal::SpawnedTaskType<F, Args...>::value_type;
    return internal::JoinHandleFactory::Adopt<R>(
        internal::CreateAndSubmit<R>(scheduler_.get(), {internal::InheritedCancellation()},
                                     std::forward<F>(f), std::forward<Args>(args)...));
  }

  // Runs `task` on the workers and blocks the calling thread until it finishes; returns its result
  // or rethrows its exception. Must not be called from a worker thread.
  //
  // Shutdown: if the runtime shuts down before the task finishes (Shutdown from another thread
  // while this one waits, or before BlockOn was called: the task is then torn down at once),
  // BlockOn returns promptly: absl::CancelledError when T is absl::Status or absl::StatusOr<U>;
  // for any other T, whose value cannot say so, it aborts with a message naming BlockOn.
  template <typename T>
  T BlockOn(Task<T> task) {
    CheckBlockOnAllowed();
    internal::BlockingResult<T> result;
    Spawn(&internal::RunToBlockingResult<T>, std::move(task), internal::FinishOnDestroy<T>(&result))
        .Detach();
    return result.Wait();
  }

  // Stops the workers and destroys every unfinished task (see the header comment). Idempotent.
  void Shutdown();

 private:
  void CheckBlockOnAllowed() const;

  std::unique_ptr<internal::Scheduler> scheduler_;
};

// Spawns `f(args...)` on the runtime whose worker is calling (see Runtime::Spawn). Aborts when
// called from a thread that is not a coral worker.
template <typename F, typename... Args>
auto Spawn(F&& f, Args&&... args) {
  static_assert(internal::CheckSpawnable<F, Args...>());
  using R = typename internal::SpawnedTaskType<F, Args...>::value_type;
  internal::Scheduler* scheduler = internal::CurrentScheduler();
  CORAL_CHECK(scheduler != nullptr,
              "coral::Spawn called from a thread that is not a coral worker; use Runtime::Spawn");
  return internal::JoinHandleFactory::Adopt<R>(
      internal::CreateAndSubmit<R>(scheduler, {internal::InheritedCancellation()},
                                   std::forward<F>(f), std::forward<Args>(args)...));
}

namespace internal {
template <typename T>
Task<JoinResult<T>> AwaitHandle(JoinHandle<T> handle) {
  co_return co_await std::move(handle);
}
}  // namespace internal

// Blocks the calling thread, which must not be a coral worker, until the task of `handle`
// finishes, and returns what awaiting the handle would (JoinResult<T>, join_handle.h; a task that
// threw has its exception rethrown here). For plain threads (main, a thread of another library)
// that started a task with Runtime::Spawn and now need its result. The handle's runtime must still
// exist (it may be shutting down).
//
// Shutdown: if the runtime shuts down before the task finishes (or already has), returns
// absl::CancelledError promptly. Cancellation: none; the calling thread has no token.
//
// Misuse (aborts with a message): calling it on a worker thread of any coral runtime (it would
// block the worker: co_await the handle instead), or with an empty, moved-from or detached handle.
template <typename T>
JoinResult<T> BlockingJoin(JoinHandle<T> handle) {
  internal::TaskHeader* task = internal::JoinHandleFactory::TaskOf(handle);
  CORAL_CHECK(task != nullptr,
              "coral::BlockingJoin on an empty, moved-from or detached coral::JoinHandle");
  CORAL_CHECK(internal::CurrentScheduler() == nullptr,
              "coral::BlockingJoin called from a coral worker thread; it would block the worker "
              "(co_await the handle instead)");
  internal::BlockingResult<JoinResult<T>> result;
  // A task (under no token) awaits the handle for us and hands the result over.
  internal::CreateAndSubmitDetached<void>(
      task->scheduler(), {.cancellation = nullptr}, &internal::RunToBlockingResult<JoinResult<T>>,
      internal::AwaitHandle(std::move(handle)), internal::FinishOnDestroy<JoinResult<T>>(&result));
  return result.Wait();
}

}  // namespace coral

#endif  // CORAL_RUNTIME_H_
