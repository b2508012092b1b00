// Copyright 2026 The coral Authors.
//
// coral/cancellation.h (CancellationSource, CancellationToken, CancellationCallback, the Cancelled
// awaiter, WithCancellation and Shielded) and the cancellable-wait protocol every awaitable uses
// (coral/internal/cancellable_wait.h), over the core's CancellationState (runtime/cancellation.cc).

#include <cstddef>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coral/cancellation.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"

namespace coral {
namespace internal {

// --- CancellableWait ----------------------------------------------------------------------------

void CancellableWait::Arm(TaskHeader* task, OnCancel on_cancel) {
  CancellationState* state = task->cancellation();
  if (state == nullptr) return;
  node_.invoke = on_cancel;
  state_ = state;  // Before Register, which publishes it to the callback (MarkCancelled reads it).
  if (!state->Register(&node_)) {
    state_ = nullptr;
    state->MarkObserved(task);
    on_cancel(&node_);
  }
}

void CancellableWait::DisarmSlow() {
  state_->Deregister(&node_);
  state_ = nullptr;  // After Deregister: a callback still running reads it.
}

// --- CancelledAwaiter ---------------------------------------------------------------------------

CancelledAwaiter::~CancelledAwaiter() {
  Disarm();  // Before the members the callback reads go.
  if (watching_) watched_.get()->Deregister(&watched_node_);
  // Torn down while waiting, and neither cancellation claimed the wait (neither runs any more):
  // the waker reference is still ours. relaxed: as in the callbacks.
  if (waiting_ && !claimed_.exchange(true, std::memory_order_relaxed)) task_->DropReference();
}

bool CancelledAwaiter::await_suspend(std::coroutine_handle<> self) {
  if (budget_.YieldIfSpent(this, self)) return true;
  task_ = CurrentTask();
  CORAL_CHECK(task_ != nullptr, "CancellationToken::Cancelled() awaited outside a coral task");
  if (CancellableWait::AlreadyCancelled(task_)) {
    MarkCancelled();
    return false;
  }
  task_->set_resume_point(self);
  task_->AddReference();  // The waker reference; whichever cancellation claims the wait uses it.
  if (watched_.get() != nullptr) {
    watched_node_.invoke = &OnWatchedCancelled;
    watched_node_.owner = this;
    if (!watched_.get()->Register(&watched_node_)) {
      task_->DropReference();
      return false;
    }
    watching_ = true;
  }
  waiting_ = true;
  Arm(task_, &OnOwnTokenCancelled);
  return true;
}

void CancelledAwaiter::OnOwnTokenCancelled(CancellationNode* node) {
  auto* self = static_cast<CancelledAwaiter*>(FromNode(node));
  // relaxed: the exchange only decides who wakes; the wake-up orders the rest.
  if (!self->claimed_.exchange(true, std::memory_order_relaxed)) {
    self->MarkCancelled(self->task_);
    Wake(self->task_);
  }
}

void CancelledAwaiter::OnWatchedCancelled(CancellationNode* node) {
  CancelledAwaiter* self = static_cast<WatchedNode*>(node)->owner;
  // relaxed: as above.
  if (!self->claimed_.exchange(true, std::memory_order_relaxed)) Wake(self->task_);
}

absl::Status CancelledAwaiter::await_resume() {
  waiting_ = false;
  Disarm();
  if (watching_) {
    watching_ = false;
    watched_.get()->Deregister(&watched_node_);
  }
  if (cancelled()) return absl::CancelledError("the awaiting task was cancelled");
  return absl::OkStatus();
}

// --- ScopedTaskCancellation ---------------------------------------------------------------------

ScopedTaskCancellation::ScopedTaskCancellation(CancellationState* replacement)
    : task_(CurrentTask()) {
  CORAL_CHECK(task_ != nullptr,
              "coral::WithCancellation / coral::Shielded awaited outside a coral task");
  saved_ = task_->cancellation();
  task_->set_cancellation(replacement);
}

ScopedTaskCancellation::~ScopedTaskCancellation() { task_->set_cancellation(saved_); }

// --- WorkOnBehalf -------------------------------------------------------------------------------

WorkOnBehalf::WorkOnBehalf(const TaskHeader* awaiter) : awaiter_(awaiter), task_(CurrentTask()) {
  saved_ = task_->cancellation();
  // Only a Timeout of the awaiter's above reads what the scope records.
  if (saved_ == nullptr || !saved_->ObservedBy(awaiter)) return;
  scope_ = CancellationState::Create(saved_, task_);
  task_->set_cancellation(scope_);
}

WorkOnBehalf::~WorkOnBehalf() {
  if (scope_ == nullptr) return;
  task_->set_cancellation(saved_);
  scope_->DropReference();
}

void WorkOnBehalf::Forward() noexcept {
  // The scope is cancelled only through saved_: the walk from saved_ finds the same origin.
  if (scope_ != nullptr && scope_->Observed()) saved_->MarkObserved(awaiter_);
}

void MovedFromToken(const char* operation) {
  const std::string message = absl::StrCat(operation, " a moved-from coral::CancellationToken");
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

void MovedFromSource(const char* operation) {
  const std::string message = absl::StrCat(operation, " a moved-from coral::CancellationSource");
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

}  // namespace internal

// --- Public API ---------------------------------------------------------------------------------

CancellationSource::CancellationSource() : state_(internal::CancellationState::Create(nullptr)) {}

CancellationSource::CancellationSource(const CancellationToken& parent)
    : state_(internal::CancellationState::Create(internal::StateOf(parent))) {}

CancellationSource CancellationSource::WithDeadline(absl::Time deadline,
                                                    const CancellationToken& parent) {
  return WithDeadline(internal::FromWallTime(deadline), parent);
}

CancellationSource CancellationSource::WithDeadline(Instant deadline,
                                                    const CancellationToken& parent) {
  CORAL_CHECK(internal::CurrentScheduler() != nullptr,
              "CancellationSource::WithDeadline called outside a coral task: its timer needs the "
              "worker's reactor");
  return CancellationSource(internal::CancellationRef(
      internal::CancellationState::CreateWithDeadline(internal::StateOf(parent), deadline)));
}

void CancellationSource::Cancel() const {
  internal::CancellationRef pin = Checked("Cancel on");  // Callbacks may drop every other one.
  pin.get()->Cancel();
}

CancellationCallback::CancellationCallback(const CancellationToken& token,
                                           absl::AnyInvocable<void()> callback)
    : callback_(std::move(callback)) {
  internal::CancellationState* state = internal::StateOf(token);
  if (state == nullptr) return;
  node_.invoke = &Invoke;
  if (state->Register(&node_)) {
    state->AddReference();
    state_ = internal::CancellationRef(state);
  } else {
    callback_();
  }
}

CancellationCallback::~CancellationCallback() {
  if (state_.get() != nullptr) state_.get()->Deregister(&node_);
}

void CancellationCallback::Invoke(internal::CancellationNode* node) {
  auto* self = reinterpret_cast<CancellationCallback*>(reinterpret_cast<char*>(node) -
                                                       offsetof(CancellationCallback, node_));
  self->callback_();
}

CancellationToken CurrentCancellationToken() {
  return CancellationToken(internal::CancellationRef(internal::InheritedCancellation()));
}

}  // namespace coral
