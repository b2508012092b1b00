// Copyright 2026 The coral Authors.
//
// Cancellation state, callbacks and the cancellable-wait protocol.
//
// A CancellationState is a flag, a reference count, and an intrusive list of callback nodes under
// a spin lock (critical sections are a few pointer writes; a cancellation runs the callbacks
// outside it). Cancel() sets the flag under the lock, then pops one node at a time, records it as
// running_ (with its thread), unlocks, runs it, relocks and marks it finished. Deregister() unlinks
// a node that is still linked; a node that is running on another thread is waited for (spinning on
// `finished`: callbacks only wake tasks, so the wait is short); a node running on this thread is
// being deregistered from inside its own callback, which is told through
// running_deregistered_ not to touch the node again. This is the shape of std::stop_callback.
//
// A child state registers parent_node_ on its parent. The child's Cancel() is called from the
// parent's callback list, where the child may already be losing its last reference on another
// thread: that thread is then blocked in Deregister(parent_node_) until the callback finishes, so
// the memory is still there, and CancelFromParent pins the state only if it can (TryAddReference).
//
// A deadline is a small task (DeadlineTimer) that sleeps until the deadline and cancels the state.
// The state holds the timer's JoinHandle reference and aborts the timer when the state is
// cancelled, or when the only reference left is the timer's own (nobody can observe the deadline
// any more: a million short-lived deadlines must not pin a million states until they expire).

#include <utility>

#include "coral/cancellation.h"
#include "coral/internal/scheduling.h"
#include "coral/join_handle.h"
#include "coral/sleep.h"
#include "runtime/scheduler.h"

namespace coral {
namespace internal {

CancellationState* CancellationState::Create(CancellationState* parent) {
  auto* state = new CancellationState();
  if (parent != nullptr) {
    state->parent_node_.invoke = &CancelFromParent;
    if (parent->Register(&state->parent_node_)) {
      parent->AddReference();
      state->parent_ = parent;
    } else {
      state->Cancel();
    }
  }
  return state;
}

CancellationState::~CancellationState() {
  if (parent_ != nullptr) {
    parent_->Deregister(&parent_node_);
    parent_->DropReference();
  }
  // relaxed: we hold the last reference; the acq_rel decrement ordered every other use.
  if (TaskHeader* timer = deadline_timer_.load(std::memory_order_relaxed)) {
    timer->DropJoinInterest();
  }
}

void CancellationState::DropReference() noexcept {
  // A deadline timer whose reference may be the only one left once ours is gone: then nobody can
  // observe the deadline, and the timer is aborted. Pin its header first (the state, which holds
  // the header's JoinHandle reference, may be destroyed by the timer itself once we let go).
  // acquire: pairs with AdoptDeadlineTimer's release.
  TaskHeader* timer = deadline_timer_.load(std::memory_order_acquire);
  if (timer != nullptr && !IsCancelled()) {
    timer->AddReference();
  } else {
    timer = nullptr;
  }
  // acq_rel: every owner's use of the state happens before its destruction by the last one.
  const uint32_t previous = references_.fetch_sub(1, std::memory_order_acq_rel);
  if (previous == 1) delete this;
  if (timer != nullptr) {
    // If the reference left is someone else's, the timer has finished and the abort is a no-op.
    if (previous == 2) AbortTask(timer);
    timer->DropReference();
  }
}

bool CancellationState::TryAddReference() noexcept {
  // relaxed: like AddReference, and a failed attempt touches nothing.
  uint32_t count = references_.load(std::memory_order_relaxed);
  while (count != 0) {
    if (references_.compare_exchange_weak(count, count + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void CancellationState::CancelFromParent(CancellationNode* node) {
  auto* state = reinterpret_cast<CancellationState*>(reinterpret_cast<char*>(node) -
                                                     offsetof(CancellationState, parent_node_));
  if (state->TryAddReference()) {
    state->Cancel();
    state->DropReference();
  } else {
    state->Cancel();  // Its destructor waits in Deregister(parent_node_) until we return.
  }
}

void CancellationState::Cancel() {
  SpinLockHolder hold(&lock_);
  if (cancelled_.load(std::memory_order_relaxed)) return;  // relaxed: under the lock.
  cancelled_.store(true, std::memory_order_release);       // release: see IsCancelled.
  while (CancellationNode* node = head_) {
    head_ = node->next;
    if (head_ != nullptr) head_->prev = nullptr;
    node->linked = false;
    running_ = node;
    running_thread_ = std::this_thread::get_id();
    running_deregistered_ = false;
    lock_.Unlock();  // Not held while the callback runs.
    node->invoke(node);
    lock_.Lock();
    running_ = nullptr;
    if (!running_deregistered_) {
      // release: the callback's effects happen before Deregister's return on another thread.
      node->finished.store(true, std::memory_order_release);
    }
  }
  if (TaskHeader* timer = deadline_timer_.load(std::memory_order_acquire)) AbortTask(timer);
}

bool CancellationState::Register(CancellationNode* node) {
  SpinLockHolder hold(&lock_);
  if (cancelled_.load(std::memory_order_relaxed)) return false;  // relaxed: under the lock.
  // relaxed: the node is not shared yet; the lock publishes it.
  node->finished.store(false, std::memory_order_relaxed);
  node->prev = nullptr;
  node->next = head_;
  if (head_ != nullptr) head_->prev = node;
  head_ = node;
  node->linked = true;
  return true;
}

void CancellationState::Deregister(CancellationNode* node) {
  {
    SpinLockHolder hold(&lock_);
    if (node->linked) {
      if (node->prev != nullptr) node->prev->next = node->next;
      if (node->next != nullptr) node->next->prev = node->prev;
      if (head_ == node) head_ = node->next;
      node->linked = false;
      return;
    }
    if (running_ == node && running_thread_ == std::this_thread::get_id()) {
      running_deregistered_ = true;
      return;
    }
  }
  // Unlinked by a cancellation: it has run, or is running on another thread.
  // acquire: pairs with the release in Cancel; the callback's effects are visible after.
  while (!node->finished.load(std::memory_order_acquire)) __builtin_ia32_pause();
}

void CancellationState::AdoptDeadlineTimer(TaskHeader* timer) {
  // release: DropReference and Cancel on other threads read the timer's header.
  deadline_timer_.store(timer, std::memory_order_release);
  if (IsCancelled()) AbortTask(timer);  // Cancelled before the timer was adopted.
}

// --- CancellableWait ----------------------------------------------------------------------------

void CancellableWait::Arm(TaskHeader* task, OnCancel on_cancel) {
  CancellationState* state = task->cancellation();
  if (state == nullptr) return;
  node_.invoke = on_cancel;
  if (state->Register(&node_)) {
    state_ = state;
  } else {
    on_cancel(&node_);
  }
}

void CancellableWait::DisarmSlow() { std::exchange(state_, nullptr)->Deregister(&node_); }

// --- Deadlines ----------------------------------------------------------------------------------

namespace {

Task<void> DeadlineTimer(CancellationRef state, absl::Time deadline) {
  // The timer task runs under no token, so nothing but the deadline ends this sleep (or an abort).
  (void)co_await SleepUntil(deadline);
  // Moved into a local: locals die before the task completes, while a completed task's frame
  // (and the parameters in it) lives as long as its header, which the state keeps alive.
  CancellationRef pinned = std::move(state);
  pinned.get()->Cancel();
}

}  // namespace

// --- CancelledAwaiter ---------------------------------------------------------------------------

CancelledAwaiter::~CancelledAwaiter() {
  Disarm();  // Before the members the callback reads go.
  if (watching_) watched_.get()->Deregister(&watched_node_);
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
  Arm(task_, &OnOwnTokenCancelled);
  return true;
}

void CancelledAwaiter::OnOwnTokenCancelled(CancellationNode* node) {
  auto* self = static_cast<CancelledAwaiter*>(FromNode(node));
  // relaxed: the exchange only decides who wakes; the wake-up orders the rest.
  if (!self->claimed_.exchange(true, std::memory_order_relaxed)) {
    self->MarkCancelled();
    Wake(self->task_);
  }
}

void CancelledAwaiter::OnWatchedCancelled(CancellationNode* node) {
  CancelledAwaiter* self = static_cast<WatchedNode*>(node)->owner;
  // relaxed: as above.
  if (!self->claimed_.exchange(true, std::memory_order_relaxed)) Wake(self->task_);
}

absl::Status CancelledAwaiter::await_resume() {
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
  CORAL_CHECK(task_ != nullptr, "coral::Shielded / coral::Timeout awaited outside a coral task");
  saved_ = task_->cancellation();
  task_->set_cancellation(replacement);
}

ScopedTaskCancellation::~ScopedTaskCancellation() { task_->set_cancellation(saved_); }

CancellationState* InheritedCancellation() {
  TaskHeader* task = CurrentTask();
  CancellationState* state = task != nullptr ? task->cancellation() : nullptr;
  if (state != nullptr) state->AddReference();
  return state;
}

}  // namespace internal

// --- Public API ---------------------------------------------------------------------------------

CancellationSource::CancellationSource()
    : state_(internal::CancellationState::Create(nullptr)) {}

CancellationSource::CancellationSource(const CancellationToken& parent)
    : state_(internal::CancellationState::Create(internal::StateOf(parent))) {}

CancellationSource CancellationSource::WithDeadline(absl::Time deadline,
                                                    const CancellationToken& parent) {
  internal::Scheduler* scheduler = internal::CurrentScheduler();
  CORAL_CHECK(scheduler != nullptr,
              "CancellationSource::WithDeadline called outside a coral task: its timer needs the "
              "worker's reactor");
  CancellationSource source(parent);
  internal::TaskHeader* timer = internal::CreateAndSubmit<void>(
      scheduler, {/*cancellation=*/nullptr}, &internal::DeadlineTimer, source.state_, deadline);
  source.state_.get()->AdoptDeadlineTimer(timer);
  return source;
}

void CancellationSource::Cancel() const {
  internal::CancellationRef pin = state_;  // Callbacks may drop every other reference.
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
