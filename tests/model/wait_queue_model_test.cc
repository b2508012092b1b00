// Copyright 2026 The coral Authors.
//
// Model of the wait queue's grant racing cancellation (sync/wait_queue.cc's QueuedWait, with
// CancellableWait and CancellationState from runtime/cancellation_token.cc and cancellation.cc,
// all shipped and compiled with CORAL_MODEL_CHECK). The primitive is a semaphore
// restated from sync/semaphore.cc (its Acquire, Release and GrantWaitersLocked over the shipped
// WaitSite, Grant and WakeAll), so that the tasks need no coroutine machinery: a task is a
// TaskHeader whose resumption is its thread seeing Wake().
//   - waiter 1 (with a cancellation token) wants 2 permits, waiter 2 (none) wants 1; they are
//     queued in that order before the threads start; waiter 1's thread waits to be resumed and
//     then gives back what it got;
//   - a granter releases 2 permits one at a time while a canceller cancels waiter 1's token.
// The grant races the cancellation, and a cancellation between the two releases frees waiter 2,
// which FIFO order had held behind waiter 1, to take the first permit.
// The properties: each waiter is woken exactly once; a waiter that reports cancelled was never
// granted; a grant that wins the race stands (waiter 1 reports success and gives the permits
// back); no permit is lost: waiter 2 always ends up granted, and at the end both are back; every
// waker reference taken is consumed exactly once.

#include "runtime/cancellation.cc"
#include "runtime/cancellation_token.cc"
#include "sync/wait_queue.cc"
#include "tests/model/model.h"

namespace coral {

// Read only by deadlines, which the model has none of.
Instant Now() {
  RL_ASSERT(false);
  std::abort();
}
Instant internal::FromWallTime(absl::Time) {
  RL_ASSERT(false);
  std::abort();
}

}  // namespace coral

namespace coral::internal {

// The model's states have no deadline and its tasks are plain headers: timers and frames are
// linked in by the included sources' other functions, and never reached.
TimerQueue& CurrentTimers() {
  RL_ASSERT(false);
  std::abort();
}
void TimerQueue::Reserve() { RL_ASSERT(false); }
void TimerQueue::Insert(TimerEntry*) { RL_ASSERT(false); }
bool TimerQueue::Remove(TimerEntry*) {
  RL_ASSERT(false);
  return false;
}
TaskHeader* CurrentTask() noexcept {
  RL_ASSERT(false);
  return nullptr;
}
// Linked in by cancellation_token.cc's awaitables and sources, which the model does not use.
Scheduler* CurrentScheduler() noexcept {
  RL_ASSERT(false);
  return nullptr;
}
bool SpendBudget() noexcept {
  RL_ASSERT(false);
  return false;
}
bool YieldIfBudgetSpent(Resumer*) noexcept {
  RL_ASSERT(false);
  return false;
}

namespace {

constexpr int kTasks = 2;
TaskHeader* tasks;  // The model's, made inside the simulation (their atomics are Relacy's).
// Per task: waker references taken and not yet consumed, and wakes (the run queue's hand-off:
// release by the waker, acquire by the resumed task).
int references[kTasks];
// Across executions: how often waiter 1 was granted and cancelled (both must occur).
int granted_runs = 0;
int cancelled_runs = 0;
Atomic<int>* wakes[kTasks];

int IndexOf(const TaskHeader* task) {
  for (int i = 0; i < kTasks; ++i) {
    if (task == &tasks[i]) return i;
  }
  RL_ASSERT(false);
  return -1;
}

}  // namespace

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
};

struct WaitQueueModel : rl::test_suite<WaitQueueModel, 3> {
  ModelSemaphore semaphore;
  CancellationState* state = nullptr;
  TaskHeader task_headers[kTasks];
  Atomic<int> wake_counts[kTasks];
  PendingWait wait[kTasks];

  // Acquire's await_suspend for `permits`: true if the task must wait.
  bool Suspend(int index, int64_t permits) {
    wait[index].waiter().weight = permits;
    semaphore.lock.Lock();
    if (semaphore.permits >= permits) {
      semaphore.permits -= permits;
      semaphore.lock.Unlock();
      return false;
    }
    wait[index].SuspendLocked(semaphore.site(), &tasks[index], std::noop_coroutine());
    return true;
  }

  void before() {
    tasks = task_headers;
    for (int i = 0; i < kTasks; ++i) {
      references[i] = 0;
      wakes[i] = &wake_counts[i];
      tasks[i].set_cancellation(nullptr);
    }
    state = CancellationState::Create(nullptr);
    tasks[0].set_cancellation(state);
    // Waiter 1 (with the token) queued first, waiter 2 (no token) behind it.
    RL_ASSERT(Suspend(0, 2));
    RL_ASSERT(Suspend(1, 1));
  }

  void thread(unsigned index) {
    if (index == 0) {  // Waiter 1, resumed by the grant or the cancellation.
      while (wakes[0]->load(std::memory_order_acquire) == 0) CpuRelax();
      if (wait[0].FinishWait()) {
        ++cancelled_runs;
        RL_ASSERT(!wait[0].waiter().granted);  // Cancelled: never holds what was granted.
        return;
      }
      ++granted_runs;
      RL_ASSERT(wait[0].waiter().granted);
      semaphore.Release(2);   // Its permits' release: one of them reaches waiter 2.
    } else if (index == 1) {  // Two permits, one at a time.
      semaphore.Release(1);
      semaphore.Release(1);
    } else {
      state->Cancel();
    }
  }

  void after() {
    // A permit reached waiter 2 whatever happened to waiter 1: granted, woken once.
    RL_ASSERT(wait[1].waiter().granted);
    RL_ASSERT(wakes[1]->load(std::memory_order_relaxed) == 1);
    RL_ASSERT(wake_counts[0].load(std::memory_order_relaxed) <= 1);
    RL_ASSERT(wait[1].FinishWait() == false);
    semaphore.Release(1);
    RL_ASSERT(semaphore.permits == 2);
    RL_ASSERT(semaphore.queue.front() == nullptr);
    for (int i = 0; i < kTasks; ++i) RL_ASSERT(references[i] == 0);
    state->DropReference();
  }
};

TEST(WaitQueueModel, GrantRacingCancellationLosesNothing) {
  EXPECT_TRUE(
      model_check::Explore<WaitQueueModel>({.preemption_bound = 3, .random_iterations = 50000}));
  if (IsSkipped()) return;  // Under a sanitizer (model.h).
  EXPECT_GT(granted_runs, 0);
  EXPECT_GT(cancelled_runs, 0);
}

}  // namespace
}  // namespace coral::internal
