// Copyright 2026 The coral Authors.
//
// TimerQueue: a worker's timers, as a binary min-heap of intrusive entries ordered by deadline.
// Entries are inserted by the worker that owns the queue (a task arms a timer on the worker it
// runs on), fired by that worker's reactor, and removed from any thread (a task torn down on
// another worker). One mutex guards the heap: insertion and removal are O(log n) under it.
//
// Firing hands the entry's target to its callback outside the lock, after copying the callback
// out, so an entry may be destroyed as soon as Remove returns false (it already fired) or true.
//
// Memory. The heap is a vector, so arming may have to grow it: an armer calls Reserve first,
// before it takes any reference for the entry, and a failure (std::bad_alloc) leaves nothing to
// undo. Firing allocates nothing (the due entries are copied out in batches on the stack), so a
// reactor turn cannot fail.

#ifndef CORAL_RUNTIME_TIMER_QUEUE_H_
#define CORAL_RUNTIME_TIMER_QUEUE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "coral/clock.h"
#include "coral/internal/timer_entry.h"
#include "runtime/mutex.h"

namespace coral::internal {

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Owner only: makes room for one more entry, so that the owner's next Insert allocates
  // nothing. Throws std::bad_alloc if it cannot (also when a test injects the failure:
  // AllocationSite::kTimerEntry in coral/internal/fault_injection.h). The room stays until that
  // Insert: only the owner inserts, and removals never shrink the heap's storage.
  void Reserve();
  // Owner only: arms `entry` (its deadline, callback and target set), in the room Reserve made.
  void Insert(TimerEntry* entry);
  // Disarms `entry`. Returns true if it was still armed: its callback will never run. Returns
  // false if it already fired (or is firing right now).
  bool Remove(TimerEntry* entry);
  // Fires every entry whose deadline is at or before `now`, in deadline order. Returns how many.
  int FireExpired(Instant now);
  // Fires every entry regardless of its deadline (shutdown).
  void FireAll();
  std::optional<Instant> NextDeadline();
  size_t size();

 private:
  struct Fired {
    void (*callback)(void*);
    void* target;
  };
  // Due entries are fired in batches of this many, copied out under the lock.
  static constexpr int kFireBatch = 32;
  // Fires the entries due at `now` (all of them if null), in deadline order; returns how many.
  int FireDue(const Instant* now);
  Fired PopTopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SiftUp(size_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SiftDown(size_t index) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Place(size_t index, TimerEntry* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Publishes the earliest deadline for the lock-free check in FireExpired.
  void UpdateEarliestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  std::vector<TimerEntry*> heap_ ABSL_GUARDED_BY(mu_);
  // The top's deadline in nanoseconds since the clock's origin (INT64_MAX when empty, or
  // infinite), written under mu_. A hint: the owner reads its own latest insertions; another
  // thread's removal can only make the true value later, so a stale read costs at most one
  // needless locked check.
  std::atomic<int64_t> earliest_ns_{INT64_MAX};
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_TIMER_QUEUE_H_
