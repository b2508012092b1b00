// Copyright 2026 The coral Authors.
//
// CancellableWait: ties one suspension of the current task to the task's cancellation token.
// Private to coral; every awaitable that suspends derives from one (privately: the callback gets
// its awaitable back with a static_cast, so the wait stores no context pointer).
//
// Protocol. await_suspend registers the waker (timer, readiness list, join slot, lock queue) and
// then Arm()s the wait with a callback (which runs at once if the token is already cancelled).
// Whoever first takes the waker's registration back owns the task's waker reference: the normal
// completion path, or the callback, which takes it back, calls MarkCancelled() and wakes the task.
// After resuming (or in its destructor, when the task is torn down) the awaitable calls Disarm(),
// which returns only once the callback is not running.

#ifndef CORAL_INTERNAL_CANCELLABLE_WAIT_H_
#define CORAL_INTERNAL_CANCELLABLE_WAIT_H_

#include "coral/internal/cancellation_state.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

class CancellableWait {
 public:
  // Receives the node of the wait that armed it; FromNode gives the wait back.
  using OnCancel = void (*)(CancellationNode* node);

  CancellableWait() = default;
  CancellableWait(const CancellableWait&) = delete;
  CancellableWait& operator=(const CancellableWait&) = delete;
  ~CancellableWait() { Disarm(); }

  // True if `task`'s token is already cancelled: the awaitable should not suspend (the refusal
  // counts as observing the cancellation: CancellationState::MarkObserved).
  static bool AlreadyCancelled(const TaskHeader* task) noexcept {
    CancellationState* state = task->cancellation();
    if (state == nullptr || !state->IsCancelled()) return false;
    state->MarkObserved(task);
    return true;
  }

  // Registers `on_cancel` to run when `task`'s token is cancelled; if it already is, runs it now,
  // on this thread. A task without a token registers nothing.
  void Arm(TaskHeader* task, OnCancel on_cancel);
  // Deregisters; returns once the callback is not running. Idempotent.
  void Disarm() {
    if (state_ != nullptr) DisarmSlow();
  }

  // Called by the callback, before it wakes `task`, the waiting task; read by the task after it
  // resumes (the wake-up orders the two). The wait observed its token's cancellation.
  void MarkCancelled(const TaskHeader* task) noexcept {
    node_.registrant_flag = true;
    if (state_ != nullptr) state_->MarkObserved(task);
  }
  // The same for a wait refused before it was armed (AlreadyCancelled has marked the state).
  void MarkCancelled() noexcept { node_.registrant_flag = true; }
  bool cancelled() const noexcept { return node_.registrant_flag; }
  // After Disarm: readies the wait for another Arm.
  void Reset() noexcept { node_.registrant_flag = false; }

  // In an OnCancel: the wait whose node was invoked (the derived awaitable static_casts it).
  static CancellableWait* FromNode(CancellationNode* node) noexcept {
    return reinterpret_cast<CancellableWait*>(node);  // The first member of a standard layout.
  }

 private:
  void DisarmSlow();

  CancellationNode node_;  // First member: see FromNode.
  CancellationState* state_ = nullptr;
};
static_assert(kModelCheck || sizeof(CancellableWait) == 40,
              "every pending wait embeds one: keep it packed");

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_CANCELLABLE_WAIT_H_
