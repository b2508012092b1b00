// Copyright 2026 The coral Authors.
//
// The waiting half shared by coral's synchronization primitives (mutexes, semaphore, events,
// channels). Private to coral; the protocol is described in sync/wait_queue.cc.

#ifndef CORAL_INTERNAL_WAIT_QUEUE_H_
#define CORAL_INTERNAL_WAIT_QUEUE_H_

#include <coroutine>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/intrusive_list.h"
#include "coral/internal/scheduling.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

// Shared by the waiters one Select registers on several channels: the first branch to claim it
// wins; the others are skipped by whoever pops them.
struct SelectClaim {
  static constexpr int kNone = -1;
  static constexpr int kCancelled = -2;
  // acq_rel: the winner's hand-off (under its channel's lock) is ordered before the select reads.
  bool TryClaim(int branch) {
    int expected = kNone;
    return winner.compare_exchange_strong(expected, branch, std::memory_order_acq_rel);
  }
  Atomic<int> winner{kNone};
};

// A task waiting in a primitive's queue; lives in the awaitable.
struct Waiter {
  // The queue's links (coral/internal/intrusive_list.h).
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  TaskHeader* task = nullptr;
  // Primitive-specific: permits wanted (Semaphore), exclusive or shared (AsyncSharedMutex).
  int64_t weight = 0;
  // Channels: the value a sender offers, or the slot a receiver waits to fill (std::optional<T>*).
  void* payload = nullptr;
  // Channels: woken because the channel closed, not granted. Guarded by the primitive's lock.
  bool closed = false;
  // Select: the claim this waiter must win before it may be handed anything, and its branch.
  SelectClaim* claim = nullptr;
  int branch = 0;

  // Whether whoever popped this waiter may hand it something (always, outside a Select).
  bool Claim() { return claim == nullptr || claim->TryClaim(branch); }
  // Both guarded by the primitive's lock. linked: in the queue (the list's flag). granted: the
  // primitive gave the waiter what it waited for (the lock, the permits, the message) and took it
  // out of the queue.
  bool linked = false;
  bool granted = false;
};
static_assert(kModelCheck || sizeof(Waiter) == 64, "every queued wait holds one: keep it packed");

// An intrusive FIFO of waiters. Not synchronized: the primitive's lock guards it.
using WaiterList = IntrusiveList<Waiter>;

// Tasks granted under a primitive's lock, to be woken once it is released. (Never wake under the
// lock: after shutdown a wake tears the task down inline, and its awaitable takes the lock.)
using WakeList = absl::InlinedVector<TaskHeader*, 4>;
void WakeAll(const WakeList& tasks);

// Where a waiter waits: the primitive's lock and queue, and what to do after a cancelled waiter
// left the queue (a semaphore may now satisfy the next waiter; a mutex may clear its flag).
struct WaitSite {
  SpinLock* lock;
  WaiterList* queue;
  // Called with the lock held, after a waiter was removed without being granted; appends the
  // waiters it grants to `granted`.
  void (*after_removal)(void* primitive, WakeList* granted);
  void* primitive;
};

// The suspend / cancel / teardown protocol. An awaitable derives from it, decides under the
// site's lock whether it can complete at once, and otherwise calls SuspendLocked.
class QueuedWait : protected CancellableWait {
 public:
  QueuedWait() = default;
  QueuedWait(const QueuedWait&) = delete;
  QueuedWait& operator=(const QueuedWait&) = delete;

 protected:
  // The current task; aborts naming `operation` outside a task.
  static TaskHeader* CurrentTaskChecked(const char* operation);

  // With site.lock held: links waiter_ at the back of the queue, releases the lock, and arms the
  // cancellation. The caller returns true from await_suspend.
  void SuspendLocked(const WaitSite& site, TaskHeader* task, std::coroutine_handle<> self);

  // After resumption: deregisters the cancellation; true if the wait was cancelled (the waiter
  // was removed without being granted).
  bool FinishWait() {
    suspended_ = false;
    Disarm();
    return cancelled();
  }

  // For the awaitable's destructor (the task was torn down while waiting): takes the waiter out of
  // the queue. Returns true if it had been granted already (the caller must give back what it
  // was given).
  bool AbandonWait(const WaitSite& site) {
    if (!suspended_) return false;  // Never suspended, or resumed (FinishWait disarmed).
    return AbandonSuspendedWait(site);
  }

  Waiter waiter_;
  bool suspended_ = false;

 private:
  static void OnCancel(CancellationNode* node);
  bool AbandonSuspendedWait(const WaitSite& site);

  WaitSite site_{};
};

// A QueuedWait for awaitables that construct it only when they must wait (in a std::optional),
// keeping their fast paths free of its initialization.
class PendingWait final : public QueuedWait {
 public:
  using CancellableWait::MarkCancelled;
  using QueuedWait::AbandonWait;
  using QueuedWait::CurrentTaskChecked;
  using QueuedWait::FinishWait;
  using QueuedWait::SuspendLocked;
  Waiter& waiter() { return waiter_; }
};

// Under the lock: marks `waiter` (already out of its queue) granted and returns its task, to be
// passed to Wake() after the lock is released. (The waiter itself may be gone by then: a task
// torn down meanwhile destroys it.)
inline TaskHeader* Grant(Waiter* waiter) {
  waiter->granted = true;
  return waiter->task;
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_WAIT_QUEUE_H_
