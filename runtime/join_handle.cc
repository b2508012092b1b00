// Copyright 2026 The coral Authors.
//
// The out-of-line half of JoinHandle (coral/join_handle.h): awaiting and aborting a task.

#include "coral/join_handle.h"

#include "coral/internal/scheduler_entry.h"
#include "runtime/scheduler.h"

namespace coral::internal {

JoinAwaiterBase::~JoinAwaiterBase() {
  Disarm();
  if (registered_) {
    if (TaskHeader* waiter = joined_->UnregisterJoinWaiter()) waiter->DropReference();
  }
  if (referenced_) joined_->DropReference();
}

bool JoinAwaiterBase::await_suspend(std::coroutine_handle<> awaiter) {
  // A budget yield (budget.h) holds the joined task as a wait does: the join retries next turn.
  if (budget_.YieldIfSpent(this, awaiter)) {
    HoldJoined();
    return true;
  }
  TaskHeader* self = CurrentTask();
  CORAL_CHECK(self != nullptr,
              "a coral::JoinHandle was awaited outside a coral task (use Runtime::BlockOn)");
  if (CancellableWait::AlreadyCancelled(self)) {
    MarkCancelled();
    return false;
  }
  self->set_resume_point(awaiter);
  // Our own reference: the handle we were made from may be dropped while we wait.
  HoldJoined();
  registered_ = joined_->RegisterJoinWaiter(self);
  if (!registered_) return false;
  Arm(self, &OnCancel);
  return true;
}

void JoinAwaiterBase::HoldJoined() {
  if (!referenced_) joined_->AddReference();
  referenced_ = true;
}

void JoinAwaiterBase::OnCancel(CancellationNode* node) {
  auto* self = static_cast<JoinAwaiterBase*>(FromNode(node));
  if (TaskHeader* waiter = self->joined_->UnregisterJoinWaiter()) {
    self->MarkCancelled(waiter);
    Wake(waiter);  // The waiter's reference, taken back from the joined task.
  }
}

bool JoinAwaiterBase::WaitCancelled() noexcept {
  Disarm();
  registered_ = false;  // Resumed: released by the joined task's completion or by the cancellation.
  return cancelled();
}

bool JoinAwaiterBase::JoinedWithoutOutput() noexcept {
  return joined_->LoadState() & task_state::kFrameDestroyed;
}

absl::Status CancelledWaitStatus() {
  return absl::CancelledError("the awaiting task was cancelled");
}

absl::Status CancelledJoinStatus() {
  return absl::CancelledError("task was aborted or its runtime shut down before it finished");
}

void AbortTask(TaskHeader* task) {
  if (task->TransitionToCancelled()) task->scheduler()->SubmitWoken(task);
}

}  // namespace coral::internal
