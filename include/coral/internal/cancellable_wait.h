// Copyright 2026 The coral Authors.
//
// CancellableWait: ties one suspension of the current task to the task's cancellation token.
// Private to coral; every awaitable that suspends embeds one.
//
// Protocol. await_suspend registers the waker (timer, readiness list, join slot, lock queue) and
// then Arm()s the wait with a callback. Whoever first takes the waker's registration back owns the
// task's waker reference: the normal completion path, or the callback, which takes it back,
// calls MarkCancelled() and wakes the task. After resuming (or in its destructor, when the task is
// torn down) the awaitable calls Disarm(), which returns only once the callback is not running.

#ifndef CORAL_INTERNAL_CANCELLABLE_WAIT_H_
#define CORAL_INTERNAL_CANCELLABLE_WAIT_H_

#include "coral/internal/cancellation_state.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

class CancellableWait {
 public:
  using OnCancel = void (*)(void* context);

  CancellableWait() = default;
  CancellableWait(const CancellableWait&) = delete;
  CancellableWait& operator=(const CancellableWait&) = delete;
  ~CancellableWait() { Disarm(); }

  // True if `task`'s token is already cancelled: the awaitable should not suspend.
  static bool AlreadyCancelled(const TaskHeader* task) noexcept {
    const CancellationState* state = task->cancellation();
    return state != nullptr && state->IsCancelled();
  }

  // Registers `on_cancel(context)` to run when `task`'s token is cancelled. Returns false, without
  // registering, if it already is (the caller then takes its registration back itself).
  bool Arm(TaskHeader* task, OnCancel on_cancel, void* context);
  // Deregisters; returns once the callback is not running. Idempotent.
  void Disarm() {
    if (state_ != nullptr) DisarmSlow();
  }

  // Called by the callback, before it wakes the task; read by the task after it resumes (the
  // wake-up orders the two).
  void MarkCancelled() noexcept { node_.registrant_flag = true; }
  bool cancelled() const noexcept { return node_.registrant_flag; }
  // After Disarm: readies the wait for another Arm.
  void Reset() noexcept { node_.registrant_flag = false; }

 private:
  static void Invoke(CancellationNode* node);
  void DisarmSlow();

  CancellationNode node_;  // First member: Invoke finds the wait from its node.
  CancellationState* state_ = nullptr;
  OnCancel on_cancel_ = nullptr;
  void* context_ = nullptr;
};
static_assert(sizeof(CancellableWait) == 64, "every pending wait embeds one: keep it packed");

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_CANCELLABLE_WAIT_H_
