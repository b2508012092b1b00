// Copyright 2026 The coral Authors.
//
// Models of the wait queue's grant racing cancellation, in three primitives. Shipped and compiled
// with CORAL_MODEL_CHECK: sync/wait_queue.cc's QueuedWait, CancellableWait and CancellationState
// (runtime/cancellation_token.cc, cancellation.cc), AsyncMutex (its awaitable, LockWait, Unlock's
// hand-off, sync/async_mutex.cc) and Notify (its awaitable and NotifyOne, sync/notify.cc). A task
// is a bare TaskHeader: the model drives an awaitable as a coroutine would (await_ready,
// await_suspend, and await_resume once the task is woken), and a wake is a counter its thread
// waits on (the run queue's hand-off: release by the waker, acquire by the resumed task).
//
// Semaphore (restated from sync/semaphore.cc over the shipped WaitSite, Grant and WakeAll: its
// Acquire, Release and GrantWaitersLocked, so that it needs no coroutine machinery either):
//   - waiter 1 (with a cancellation token) wants 2 permits, waiter 2 (none) wants 1; they are
//     queued in that order before the threads start; waiter 1's thread waits to be resumed and
//     then gives back what it got;
//   - a granter releases 2 permits one at a time while a canceller cancels waiter 1's token.
//   The grant races the cancellation, and a cancellation between the two releases frees waiter 2,
//   which FIFO order had held behind waiter 1, to take the first permit. Properties: each waiter
//   is woken exactly once; a waiter that reports cancelled was never granted; a grant that wins
//   the race stands (waiter 1 reports success and gives the permits back); no permit is lost:
//   waiter 2 always ends up granted, and at the end both are back.
// Semaphore, one permit: the same queue, but the granter releases a single permit, which waiter 1
//   can never take: waiter 1 always ends cancelled, and waiter 2 is granted either by the release
//   or, if the cancellation comes after it, by the cancellation passing the permit on.
// AsyncMutex: task A locks and unlocks, task B (with a token) locks and unlocks unless cancelled,
//   task D locks and unlocks, and a canceller cancels B's token. Every critical section updates a
//   plain variable that Relacy checks for data races, so two holders at once, or a hand-off that
//   does not order one holder after the previous, fail. Properties: B reporting cancelled never
//   held the lock; a hand-off racing the cancellation stands; at the end the lock is free (a
//   later TryLock succeeds): it is never lost, also when B leaves the queue with D behind it.
// Notify: waiter 1 (token) and waiter 2 (none) queued in that order before the threads start; a
//   notifier calls NotifyOne twice while a canceller cancels waiter 1's token. Properties: waiter 2
//   is always notified; waiter 1 reports either notified, or cancelled and then the notification
//   it did not take is stored: a later Notified() (probed by a task whose token is cancelled,
//   which completes at once only on a stored permit) completes, and only then.
// In all: every waker reference taken is consumed exactly once, and no task is woken twice.

#include "runtime/cancellation.cc"
#include "runtime/cancellation_token.cc"
#include "sync/async_mutex.cc"
#include "sync/notify.cc"
#include "sync/wait_queue.cc"
#include "tests/model/model.h"
#include "tests/model/unreached_deadlines.h"

namespace coral::internal {

// The model's states have no deadline and its tasks are plain headers: timers and frames are
// linked in by the included sources' other functions, and never reached.
// Linked in by cancellation_token.cc's awaitables and sources, which the model does not use.
Scheduler* CurrentScheduler() noexcept {
  RL_ASSERT(false);
  return nullptr;
}
// The model's tasks run off a worker's turn, where the cooperative budget counts nothing
// (budget.h): it is never spent, and no awaitable yields.
bool SpendBudget() noexcept { return true; }
bool YieldIfBudgetSpent(Resumer*) noexcept { return false; }
// No runtime shuts down: the primitives' destructors only check that nobody holds or waits.
bool ShutdownOnThisThread() { return false; }
void TearDownRemainingAtShutdown() { RL_ASSERT(false); }

namespace {

constexpr int kMaxTasks = 3;
constexpr int kMaxThreads = 4;
TaskHeader* tasks;  // The running model's, made inside the simulation (their atomics are Relacy's).
// Per task: waker references taken and not yet consumed; wakes (an atomic of the model's, see the
// top); and the wakes its thread has waited for.
int references[kMaxTasks];
Atomic<int>* wakes[kMaxTasks];
int resumed[kMaxTasks];
// Per simulated thread: the task it runs (CurrentTask()), or null.
TaskHeader* running[kMaxThreads];

int IndexOf(const TaskHeader* task) {
  for (int i = 0; i < kMaxTasks; ++i) {
    if (task == &tasks[i]) return i;
  }
  RL_ASSERT(false);
  return -1;
}

// A model's tasks; before() resets the shared bookkeeping to them.
struct ModelTasks {
  TaskHeader headers[kMaxTasks];
  Atomic<int> wake_counts[kMaxTasks];

  void Reset() {
    tasks = headers;
    for (int i = 0; i < kMaxTasks; ++i) {
      references[i] = 0;
      wakes[i] = &wake_counts[i];
      resumed[i] = 0;
      headers[i].set_cancellation(nullptr);
    }
    for (TaskHeader*& task : running) task = nullptr;
  }
  // Every waker reference consumed, and every wake waited for by its task (none twice).
  void CheckSettled() {
    for (int i = 0; i < kMaxTasks; ++i) {
      RL_ASSERT(references[i] == 0);
      // relaxed: in after(), which Relacy orders after every thread.
      RL_ASSERT(wake_counts[i].load(std::memory_order_relaxed) == resumed[i]);
    }
  }
};

// Blocks the calling thread until `task` has been woken once more.
void WaitForWake(int task) {
  while (wakes[task]->load(std::memory_order_acquire) == resumed[task]) CpuRelax();
  ++resumed[task];
}

// In after(), for a task without a thread of its own: it was woken exactly once, and now resumes.
// (relaxed: Relacy orders after() after every thread.)
void ResumeWokenOnce(int task) {
  RL_ASSERT(resumed[task] == 0 && wakes[task]->load(std::memory_order_relaxed) == 1);
  ++resumed[task];
}

// co_await `awaiter` as `task`, as a coroutine would.
template <typename Awaiter>
auto Await(int task, Awaiter& awaiter) {
  running[rl::thread_index()] = &tasks[task];
  if (!awaiter.await_ready() && awaiter.await_suspend(std::noop_coroutine())) WaitForWake(task);
  auto result = awaiter.await_resume();
  running[rl::thread_index()] = nullptr;
  return result;
}

}  // namespace

TaskHeader* CurrentTask() noexcept { return running[rl::thread_index()]; }
void TaskHeader::AddReference() { ++references[IndexOf(this)]; }
void TaskHeader::DropReference() { --references[IndexOf(this)]; }
// Consumes the waker reference and makes the task runnable.
void Wake(TaskHeader* task) {
  const int index = IndexOf(task);
  --references[index];
  wakes[index]->fetch_add(1, std::memory_order_release);
}

namespace {

// sync/semaphore.cc's logic, restated over the shipped wait queue.
struct ModelSemaphore {
  SpinLock lock;
  WaiterList queue;
  int64_t permits = 0;

  WaitSite site() { return {&lock, &queue, &AfterWaiterRemoved, this}; }
  void GrantWaitersLocked(WakeList* granted) {
    while (Waiter* front = queue.front()) {
      if (front->weight > permits) break;
      permits -= front->weight;
      queue.Remove(front);
      granted->push_back(Grant(front));
    }
  }
  static void AfterWaiterRemoved(void* self, WakeList* granted) {
    static_cast<ModelSemaphore*>(self)->GrantWaitersLocked(granted);
  }
  void Release(int64_t n) {
    WakeList granted;
    {
      SpinLockHolder hold(&lock);
      permits += n;
      GrantWaitersLocked(&granted);
    }
    WakeAll(granted);
  }
  // Acquire's await_suspend for `permits` as task `index`: true if it must wait.
  bool Suspend(PendingWait* wait, int index, int64_t wanted) {
    wait->waiter().weight = wanted;
    lock.Lock();
    if (permits >= wanted) {
      permits -= wanted;
      lock.Unlock();
      return false;
    }
    wait->SuspendLocked(site(), &tasks[index], std::noop_coroutine());
    return true;
  }
};

// Across executions: outcomes that must each occur for a model to have reached its races.
struct Outcomes {
  int granted = 0;
  int cancelled = 0;
  int granted_after_cancel = 0;  // The grant won a race with a cancellation already made.
};

// Both semaphore models: waiter 1 (token, wants 2) and waiter 2 (none, wants 1) queued in that
// order; kTwoPermits: the granter releases 2 permits one at a time, else 1.
template <bool kTwoPermits>
struct SemaphoreModel : rl::test_suite<SemaphoreModel<kTwoPermits>, 3> {
  static inline Outcomes outcomes;
  ModelTasks model_tasks;
  ModelSemaphore semaphore;
  CancellationState* state = nullptr;
  PendingWait wait[2];

  void before() {
    model_tasks.Reset();
    state = CancellationState::Create(nullptr);
    tasks[0].set_cancellation(state);
    RL_ASSERT(semaphore.Suspend(&wait[0], 0, 2));
    RL_ASSERT(semaphore.Suspend(&wait[1], 1, 1));
  }

  void thread(unsigned index) {
    if (index == 0) {  // Waiter 1, resumed by the grant or the cancellation.
      WaitForWake(0);
      if (wait[0].FinishWait()) {
        ++outcomes.cancelled;
        RL_ASSERT(!wait[0].waiter().granted);  // Cancelled: never holds what was granted.
        return;
      }
      ++outcomes.granted;
      if (state->IsCancelled()) ++outcomes.granted_after_cancel;
      RL_ASSERT(kTwoPermits && wait[0].waiter().granted);
      semaphore.Release(2);  // Its permits' release: one of them reaches waiter 2.
    } else if (index == 1) {
      semaphore.Release(1);
      if (kTwoPermits) semaphore.Release(1);
    } else {
      state->Cancel();
    }
  }

  void after() {
    // A permit reached waiter 2 whatever happened to waiter 1: granted, woken once.
    RL_ASSERT(wait[1].waiter().granted);
    ResumeWokenOnce(1);
    RL_ASSERT(wait[1].FinishWait() == false);
    semaphore.Release(1);
    RL_ASSERT(semaphore.permits == (kTwoPermits ? 2 : 1));
    RL_ASSERT(semaphore.queue.front() == nullptr);
    model_tasks.CheckSettled();
    state->DropReference();
  }
};

// Tasks A, B (token) and D each lock and unlock; a canceller cancels B's token.
struct MutexModel : rl::test_suite<MutexModel, 4> {
  static constexpr int kA = 0, kB = 1, kD = 2;
  static inline Outcomes outcomes;
  ModelTasks model_tasks;
  AsyncMutex mutex;
  CancellationState* state = nullptr;
  rl::var<int> critical_sections{0};  // Race-checked: only ever touched under the lock.
  int locked = 0;                     // Successful Locks.

  // co_await mutex.Lock() as `task`, then its critical section and unlock; false if cancelled.
  bool LockAndUnlock(int task) {
    internal::LockAwaiter lock = mutex.Lock();
    absl::StatusOr<AsyncMutex::Guard> guard = Await(task, lock);
    if (!guard.ok()) {
      RL_ASSERT(absl::IsCancelled(guard.status()));
      return false;
    }
    RL_ASSERT(guard->owns_lock());
    critical_sections($) = critical_sections($) + 1;
    ++locked;
    guard->Unlock();
    return true;
  }

  void before() {
    model_tasks.Reset();
    state = CancellationState::Create(nullptr);
    tasks[kB].set_cancellation(state);
  }

  void thread(unsigned index) {
    if (index == 0) {
      RL_ASSERT(LockAndUnlock(kA));
    } else if (index == 1) {
      if (!LockAndUnlock(kB)) {
        // It holds nothing: a lock handed to it and then dropped would fail after()'s TryLock.
        ++outcomes.cancelled;
      } else {
        ++outcomes.granted;
        // Handed the lock (it waited) after its token was cancelled: the hand-off stood.
        if (resumed[kB] > 0 && state->IsCancelled()) ++outcomes.granted_after_cancel;
      }
    } else if (index == 2) {
      RL_ASSERT(LockAndUnlock(kD));
    } else {
      state->Cancel();
    }
  }

  void after() {
    // Every Lock that succeeded ran its critical section, and the lock was left free.
    RL_ASSERT(critical_sections($) == locked);
    std::optional<AsyncMutex::Guard> later = mutex.TryLock();
    RL_ASSERT(later.has_value());
    later->Unlock();
    model_tasks.CheckSettled();
    state->DropReference();
  }
};

// Waiter 1 (token) and waiter 2 queued in that order; a notifier notifies twice; a canceller
// cancels waiter 1's token. Task 2, whose token is cancelled, probes for a stored notification.
struct NotifyModel : rl::test_suite<NotifyModel, 3> {
  static constexpr int kWaiter1 = 0, kWaiter2 = 1, kProbe = 2;
  static inline Outcomes outcomes;
  ModelTasks model_tasks;
  Notify notify;
  CancellationState* state = nullptr;
  CancellationState* probe_state = nullptr;
  NotifiedAwaiter waiter1{&notify};
  NotifiedAwaiter waiter2{&notify};
  bool waiter1_notified = false;

  // await_suspend as `task`, from before() or after(): whether it suspended.
  bool Suspend(int task, NotifiedAwaiter* awaiter) {
    running[rl::thread_index()] = &tasks[task];
    const bool suspended = awaiter->await_suspend(std::noop_coroutine());
    running[rl::thread_index()] = nullptr;
    return suspended;
  }

  void before() {
    model_tasks.Reset();
    state = CancellationState::Create(nullptr);
    tasks[kWaiter1].set_cancellation(state);
    probe_state = CancellationState::Create(nullptr);
    probe_state->Cancel();
    tasks[kProbe].set_cancellation(probe_state);
    RL_ASSERT(Suspend(kWaiter1, &waiter1));
    RL_ASSERT(Suspend(kWaiter2, &waiter2));
  }

  void thread(unsigned index) {
    if (index == 0) {
      WaitForWake(kWaiter1);
      const absl::Status status = waiter1.await_resume();
      waiter1_notified = status.ok();
      if (waiter1_notified) {
        ++outcomes.granted;
        if (state->IsCancelled()) ++outcomes.granted_after_cancel;
      } else {
        RL_ASSERT(absl::IsCancelled(status));
        ++outcomes.cancelled;
      }
    } else if (index == 1) {
      notify.NotifyOne();
      notify.NotifyOne();
    } else {
      state->Cancel();
    }
  }

  void after() {
    // Waiter 2 was notified whatever happened to waiter 1, and woken once.
    ResumeWokenOnce(kWaiter2);
    RL_ASSERT(waiter2.await_resume().ok());
    // The probe's token is cancelled, so its Notified() completes at once: OK if it took a stored
    // notification, cancelled if there was none. The second notification is stored exactly when
    // waiter 1 did not take one.
    NotifiedAwaiter probe(&notify);
    RL_ASSERT(!Suspend(kProbe, &probe));
    RL_ASSERT(probe.await_resume().ok() == !waiter1_notified);
    model_tasks.CheckSettled();
    state->DropReference();
    probe_state->DropReference();
  }
};

// Each outcome the race can have was reached in some execution.
void ExpectEveryOutcome(const Outcomes& outcomes, bool can_grant) {
  EXPECT_GT(outcomes.cancelled, 0);
  if (!can_grant) return;
  EXPECT_GT(outcomes.granted, 0);
  EXPECT_GT(outcomes.granted_after_cancel, 0);
}

TEST(WaitQueueModel, SemaphoreGrantRacingCancellationLosesNothing) {
  using Model = SemaphoreModel</*kTwoPermits=*/true>;
  EXPECT_TRUE(model_check::Explore<Model>({.preemption_bound = 3, .random_iterations = 50000}));
  if (IsSkipped()) return;  // Under a sanitizer (model.h).
  ExpectEveryOutcome(Model::outcomes, /*can_grant=*/true);
}

TEST(WaitQueueModel, SemaphoreCancellationPassesPermitsOn) {
  using Model = SemaphoreModel</*kTwoPermits=*/false>;
  EXPECT_TRUE(model_check::Explore<Model>({.preemption_bound = 3, .random_iterations = 50000}));
  if (IsSkipped()) return;
  ExpectEveryOutcome(Model::outcomes, /*can_grant=*/false);
}

// Four threads: bound 3 explores 4.5 million executions (about a minute), so bound 2 here, and
// more random schedules.
TEST(WaitQueueModel, MutexHandOffRacingCancellationLosesNothing) {
  EXPECT_TRUE(
      model_check::Explore<MutexModel>({.preemption_bound = 2, .random_iterations = 200000}));
  if (IsSkipped()) return;
  ExpectEveryOutcome(MutexModel::outcomes, /*can_grant=*/true);
}

TEST(WaitQueueModel, NotifyOneRacingCancellationLosesNothing) {
  EXPECT_TRUE(
      model_check::Explore<NotifyModel>({.preemption_bound = 3, .random_iterations = 50000}));
  if (IsSkipped()) return;
  ExpectEveryOutcome(NotifyModel::outcomes, /*can_grant=*/true);
}

}  // namespace
}  // namespace coral::internal
