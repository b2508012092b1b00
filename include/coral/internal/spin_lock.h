// Copyright 2026 The coral Authors.
//
// SpinLock: a test-and-test-and-set lock for critical sections of a few pointer operations (the
// global injection queue, the wait queue of every synchronization primitive and channel, a
// cancellation state's callback list, an fd registration's waiter list, the frame allocator's
// depot). A contended std::mutex parks the waiter in the kernel at once, which costs a futex
// round trip per contended push; measured on the global queue under spawn_outside, the futex
// waits took ~6% of the main thread. Waiters spin with SpinWait: CpuRelax(), and after
// kSpinsBeforeYield steps a yield of the CPU, so that a preempted holder can run (a runtime may
// have more threads than the machine has cores).
//
// CpuRelax() and ThreadYield(), the steps of every spin-wait in coral, live in
// internal/sync_primitives.h with the atomics, so that the model checker sees a spinning thread.

#ifndef CORAL_INTERNAL_SPIN_LOCK_H_
#define CORAL_INTERNAL_SPIN_LOCK_H_

#include "absl/base/thread_annotations.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal {

// The steps of a spin-wait for another thread's short operation: CpuRelax, and after
// kSpinsBeforeYield steps ThreadYield, so that a preempted thread being waited for can run.
class SpinWait {
 public:
  void Step() {
    if (spins_ < kSpinsBeforeYield) {
      ++spins_;
      CpuRelax();
    } else {
      ThreadYield();
    }
  }

 private:
  static constexpr int kSpinsBeforeYield = 100;
  int spins_ = 0;
};

class ABSL_LOCKABLE SpinLock {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    SpinWait wait;
    for (;;) {
      // acquire: the critical section sees the previous holder's writes.
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      // relaxed: only a hint of when to retry the exchange.
      while (locked_.load(std::memory_order_relaxed)) wait.Step();
    }
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // release: publishes the critical section to the next holder.
    locked_.store(false, std::memory_order_release);
  }

 private:
  Atomic<bool> locked_{false};
};

class ABSL_SCOPED_LOCKABLE SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) {
    lock_->Lock();
  }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;
  ~SpinLockHolder() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }

 private:
  SpinLock* const lock_;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SPIN_LOCK_H_
