// Copyright 2026 The coral Authors.
//
// The shared state behind CancellationSource and CancellationToken, and the callback node that
// awaitables embed to be woken by a cancellation. Private to coral; the public API is
// coral/cancellation.h, the protocol is described in runtime/cancellation.cc.

#ifndef CORAL_INTERNAL_CANCELLATION_STATE_H_
#define CORAL_INTERNAL_CANCELLATION_STATE_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "coral/internal/intrusive_list.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"

namespace coral {
class Instant;  // coral/clock.h, which includes this header through task.h.
}  // namespace coral

namespace coral::internal {

class TaskHeader;  // coral/internal/task_header.h, which includes this header.

// One registered callback, in its registrant's memory. The registrant owns the node; the state
// links it while registered and, once cancelled, unlinks it before running it.
// Every pending wait carries one, so the flags share one word (32 bytes).
struct CancellationNode {
  void (*invoke)(CancellationNode* node) = nullptr;
  // The state's list links and `linked` (coral/internal/intrusive_list.h), guarded by its lock.
  CancellationNode* prev = nullptr;
  CancellationNode* next = nullptr;
  bool linked = false;
  // Set (release) by the canceller once the callback has returned; a deregistration that found
  // the callback running on another thread waits for it (acquire).
  Atomic<bool> finished{false};
  // The registrant's own flag, in what would be padding; the state never touches it.
  bool registrant_flag = false;
};
static_assert(kModelCheck || sizeof(CancellationNode) == 32,
              "every pending wait carries one: keep it packed");

class CancellationState {
 public:
  // A new state with one reference, linked under `parent` (null for a root). `observer`: see
  // MarkObserved (null: none).
  static CancellationState* Create(CancellationState* parent, const TaskHeader* observer = nullptr);
  // The same, cancelling itself at `deadline` by a timer on the calling worker's timer queue (no
  // task). Must be called on a coral worker. `observer`: see MarkObserved (null: none). Throws
  // std::bad_alloc, having created nothing, if the timer's slot cannot be allocated.
  static CancellationState* CreateWithDeadline(CancellationState* parent, Instant deadline,
                                               const TaskHeader* observer = nullptr);
  // CreateWithDeadline(parent, now + `timeout`, observer): the one place a Timeout reads the
  // clock. The observer is the task the Timeout runs its task in.
  static CancellationState* CreateWithTimeout(CancellationState* parent, absl::Duration timeout,
                                              const TaskHeader* observer);

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
  void Cancel() { Cancel(/*from_parent=*/false); }

  // Links `node`; returns false (without running it) if the state is already cancelled.
  bool Register(CancellationNode* node);
  // Unlinks `node`. If its callback is running on another thread, waits until it has returned;
  // from inside the callback itself, returns at once.
  void Deregister(CancellationNode* node);

  // A wait of `task` under this (cancelled) state was cut short or refused: records it on this
  // state and on every ancestor whose cancellation this one inherited, but only on those whose
  // observer is `task`. Timeout reads it (Observed()) to tell a deadline that interrupted its own
  // task from one that fired while the task finished on its own: a task spawned under the
  // deadline inherits the state, and its waits are not the Timeout's.
  void MarkObserved(const TaskHeader* task) noexcept;
  // Whether this state or an ancestor has `task` as its observer.
  bool ObservedBy(const TaskHeader* task) const noexcept;
  bool Observed() const noexcept {
    // relaxed: only the observer's own waits set it, and the observer reads it after them
    // (program order, or the wake-up that resumed it).
    return observed_.load(std::memory_order_relaxed);
  }
  // True once cancelled through its parent rather than by Cancel() or its own deadline. Read only
  // after IsCancelled() returned true (whose acquire orders it).
  bool CancelledByParent() const noexcept { return cancelled_by_parent_; }

 private:
  friend struct DeadlineState;
  CancellationState() = default;
  ~CancellationState();
  void Cancel(bool from_parent);
  void LinkUnder(CancellationState* parent);
  void Destroy() noexcept;
  void DropReferenceWithDeadline() noexcept;
  bool TryAddReference() noexcept;
  static void CancelFromParent(CancellationNode* node);

  Atomic<uint32_t> references_{1};
  Atomic<bool> cancelled_{false};
  Atomic<bool> observed_{false};
  bool cancelled_by_parent_ = false;  // Written under lock_ before cancelled_'s release store.
  bool has_deadline_ = false;         // Immutable: this is a DeadlineState (cancellation.cc).
  SpinLock lock_;                     // Critical sections are a few pointer writes.
  // Registered callbacks, most recent first (no tail pointer: the order is not part of the API).
  IntrusiveList<CancellationNode, ListEnds::kFrontOnly> nodes_ ABSL_GUARDED_BY(lock_);
  CancellationNode* running_ ABSL_GUARDED_BY(lock_) = nullptr;
  ThreadId running_thread_ ABSL_GUARDED_BY(lock_);  // Who runs running_.
  // Set by a deregistration of running_ from inside its own callback: the node is gone.
  bool running_deregistered_ ABSL_GUARDED_BY(lock_) = false;
  CancellationState* parent_ = nullptr;   // Owns a reference; immutable after Create.
  const TaskHeader* observer_ = nullptr;  // Whose waits mark observed_; immutable after Create.
  CancellationNode parent_node_;          // Registered on parent_: cancels this state.
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_CANCELLATION_STATE_H_
