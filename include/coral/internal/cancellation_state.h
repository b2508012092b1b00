// Copyright 2026 The coral Authors.
//
// The shared state behind CancellationSource and CancellationToken, and the callback node that
// awaitables embed to be woken by a cancellation. Private to coral; the public API is
// coral/cancellation.h, the protocol is described in runtime/cancellation.cc.

#ifndef CORAL_INTERNAL_CANCELLATION_STATE_H_
#define CORAL_INTERNAL_CANCELLATION_STATE_H_

#include <atomic>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "coral/internal/spin_lock.h"

namespace coral::internal {

class TaskHeader;

// One registered callback, in its registrant's memory. The registrant owns the node; the state
// links it while registered and, once cancelled, unlinks it before running it.
// Every pending wait carries one, so the flags share one word (32 bytes).
struct CancellationNode {
  void (*invoke)(CancellationNode* node) = nullptr;
  // The following three are guarded by the state's lock.
  CancellationNode* prev = nullptr;
  CancellationNode* next = nullptr;
  bool linked = false;
  // Set (release) by the canceller once the callback has returned; a deregistration that found
  // the callback running on another thread waits for it (acquire).
  std::atomic<bool> finished{false};
  // The registrant's own flag, in what would be padding; the state never touches it.
  bool registrant_flag = false;
};

class CancellationState {
 public:
  // A new state with one reference, linked under `parent` (null for a root).
  static CancellationState* Create(CancellationState* parent);

  void AddReference() noexcept {
    // relaxed: the caller already owns a reference, so the state is alive (as shared_ptr's copy).
    references_.fetch_add(1, std::memory_order_relaxed);
  }
  void DropReference() noexcept;

  bool IsCancelled() const noexcept {
    // acquire: whoever sees the cancellation also sees what the canceller did before Cancel().
    return cancelled_.load(std::memory_order_acquire);
  }

  // Cancels this state and its descendants, running every registered callback on the calling
  // thread (outside the lock). Idempotent.
  void Cancel();

  // Links `node`; returns false (without running it) if the state is already cancelled.
  bool Register(CancellationNode* node);
  // Unlinks `node`. If its callback is running on another thread, waits until it has returned;
  // from inside the callback itself, returns at once.
  void Deregister(CancellationNode* node);

  // A deadline: `timer` is the task that will cancel this state (the state holds its JoinHandle
  // reference and aborts it once the deadline no longer matters).
  void AdoptDeadlineTimer(TaskHeader* timer);

 private:
  CancellationState() = default;
  ~CancellationState();
  bool TryAddReference() noexcept;
  static void CancelFromParent(CancellationNode* node);

  std::atomic<uint32_t> references_{1};
  std::atomic<bool> cancelled_{false};
  SpinLock lock_;  // Critical sections are a few pointer writes.
  CancellationNode* head_ ABSL_GUARDED_BY(lock_) = nullptr;
  CancellationNode* running_ ABSL_GUARDED_BY(lock_) = nullptr;
  std::thread::id running_thread_ ABSL_GUARDED_BY(lock_);  // Who runs running_.
  // Set by a deregistration of running_ from inside its own callback: the node is gone.
  bool running_deregistered_ ABSL_GUARDED_BY(lock_) = false;
  CancellationState* parent_ = nullptr;     // Owns a reference; immutable after Create.
  CancellationNode parent_node_;            // Registered on parent_: cancels this state.
  std::atomic<TaskHeader*> deadline_timer_{nullptr};

};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_CANCELLATION_STATE_H_
