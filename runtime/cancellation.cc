// Copyright 2026 The coral Authors.
//
// Cancellation state and callbacks: the scheduler core's half of cancellation (a task holds a
// token; a deadline is a timer). coral/cancellation.h's API and the cancellable-wait protocol
// are in cancellation_token.cc.
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
// A deadline is a timer entry in the state's own block (DeadlineState), with no task. The armed
// entry owns one reference to the state; firing cancels the state and drops it. The entry is taken
// back (TimerQueue::Remove, under the state's lock, which the firing callback also takes before it
// forgets the queue, so the queue outlives every Remove) when the state is cancelled otherwise, or
// when the only reference left would be the entry's own: nobody can observe the deadline any more,
// and a million short-lived deadlines must not pin a million states until they expire. A state
// with a deadline therefore drops references with a compare-and-swap loop: whoever would take the
// count from 2 to 1 first tries to take the entry back, while still holding its own reference.
//
// Observation. A wait that a cancellation cut short or refused marks its state observed, and every
// ancestor whose cancellation that state inherited (MarkObserved), but only the states whose
// observer is the waiting task: a Timeout's state names the task the Timeout runs in. Timeout
// reads it: a deadline that fired while its task finished without any of its own waits noticing
// leaves the task's result standing, whatever the deadline did to tasks spawned under it (they
// inherit the state, not the observation).

#include <utility>

#include "coral/internal/cancellation_state.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/timer_entry.h"
#include "runtime/scheduler.h"
#include "runtime/timer_queue.h"

namespace coral {
namespace internal {

// A state whose deadline is a timer entry (see the file comment).
struct DeadlineState : CancellationState {
  // Fires on the worker that polls the queue, owning the entry's reference.
  static void OnDeadline(void* target);
  // Arms the entry (its deadline set) on the calling worker's queue, unless the state is already
  // cancelled.
  void Arm();
  // Takes the entry back if it has not fired; returns whether it did (its reference is then the
  // caller's).
  bool TakeBackTimer();

  TimerEntry entry;
  TimerQueue* queue = nullptr;  // Guarded by lock_: where the entry is armed; null once not.
};

void CancellationState::LinkUnder(CancellationState* parent) {
  if (parent == nullptr) return;
  parent_node_.invoke = &CancelFromParent;
  if (parent->Register(&parent_node_)) {
    parent->AddReference();
    parent_ = parent;
  } else {
    Cancel(/*from_parent=*/true);
  }
}

CancellationState* CancellationState::Create(CancellationState* parent,
                                             const TaskHeader* observer) {
  auto* state = new CancellationState();
  state->observer_ = observer;
  state->LinkUnder(parent);
  return state;
}

CancellationState* CancellationState::CreateWithDeadline(CancellationState* parent,
                                                         Instant deadline,
                                                         const TaskHeader* observer) {
  // Room for the entry first, so that Arm cannot fail once the state is linked and referenced.
  CurrentTimers().Reserve();
  auto* state = new DeadlineState();
  state->has_deadline_ = true;
  state->observer_ = observer;
  state->entry.deadline = deadline;
  state->LinkUnder(parent);
  state->Arm();
  return state;
}

CancellationState* CancellationState::CreateWithTimeout(CancellationState* parent,
                                                        absl::Duration timeout,
                                                        const TaskHeader* observer) {
  return CreateWithDeadline(parent, Now() + timeout, observer);
}

void DeadlineState::Arm() {
  TimerQueue& timers = CurrentTimers();
  entry.callback = &OnDeadline;
  entry.target = this;
  SpinLockHolder hold(&lock_);
  if (cancelled_.load(std::memory_order_relaxed)) return;  // relaxed: under the lock.
  AddReference();                                          // The entry's.
  queue = &timers;
  timers.Insert(&entry);
}

void DeadlineState::OnDeadline(void* target) {
  auto* state = static_cast<DeadlineState*>(target);
  {
    SpinLockHolder hold(&state->lock_);
    state->queue = nullptr;  // Fired: nobody may touch the queue for it any more.
  }
  state->Cancel();
  state->DropReference();  // The entry's.
}

bool DeadlineState::TakeBackTimer() {
  SpinLockHolder hold(&lock_);
  TimerQueue* armed = std::exchange(queue, nullptr);
  return armed != nullptr && armed->Remove(&entry);
}

CancellationState::~CancellationState() {
  if (parent_ != nullptr) {
    parent_->Deregister(&parent_node_);
    parent_->DropReference();
  }
}

void CancellationState::Destroy() noexcept {
  if (has_deadline_) {
    delete static_cast<DeadlineState*>(this);
  } else {
    delete this;
  }
}

void CancellationState::DropReference() noexcept {
  if (has_deadline_) {
    DropReferenceWithDeadline();
    return;
  }
  // acq_rel: every owner's use of the state happens before its destruction by the last one.
  if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) Destroy();
}

void CancellationState::DropReferenceWithDeadline() noexcept {
  auto* self = static_cast<DeadlineState*>(this);
  // relaxed: a first guess for the CAS, which orders.
  uint32_t count = references_.load(std::memory_order_relaxed);
  for (;;) {
    // With the entry armed, a count of 2 is ours and the entry's: take the entry back while ours
    // still keeps the state alive, and drop both.
    if (count == 2 && self->TakeBackTimer()) {
      // acq_rel: as in DropReference.
      if (references_.fetch_sub(2, std::memory_order_acq_rel) == 2) Destroy();
      return;
    }
    // acq_rel on success: as in DropReference; relaxed on failure: we retry with the new count.
    if (references_.compare_exchange_weak(count, count - 1, std::memory_order_acq_rel,
                                          std::memory_order_relaxed)) {
      if (count == 1) Destroy();
      return;
    }
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

void CancellationState::MarkObserved(const TaskHeader* task) noexcept {
  for (CancellationState* state = this; state != nullptr; state = state->parent_) {
    // relaxed: see Observed(). Already set: the ancestors were marked by whoever set it (the
    // same task, on the same walk from here up).
    if (state->observer_ == task && state->observed_.exchange(true, std::memory_order_relaxed)) {
      return;
    }
    if (!state->cancelled_by_parent_) return;
  }
}

bool CancellationState::ObservedBy(const TaskHeader* task) const noexcept {
  for (const CancellationState* state = this; state != nullptr; state = state->parent_) {
    if (state->observer_ == task) return true;
  }
  return false;
}

void CancellationState::CancelFromParent(CancellationNode* node) {
  auto* state = reinterpret_cast<CancellationState*>(reinterpret_cast<char*>(node) -
                                                     offsetof(CancellationState, parent_node_));
  if (state->TryAddReference()) {
    state->Cancel(/*from_parent=*/true);
    state->DropReference();
  } else {
    state->Cancel(/*from_parent=*/true);  // Its destructor waits in Deregister(parent_node_).
  }
}

void CancellationState::Cancel(bool from_parent) {
  {
    SpinLockHolder hold(&lock_);
    if (cancelled_.load(std::memory_order_relaxed)) return;  // relaxed: under the lock.
    cancelled_by_parent_ = from_parent;
    cancelled_.store(true, std::memory_order_release);  // release: see IsCancelled.
    while (CancellationNode* node = nodes_.PopFront()) {
      running_ = node;
      running_thread_ = ThisThreadId();
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
  }
  // The deadline no longer matters. Every caller holds a reference besides the entry's (a state
  // cancelled from its parent while being destroyed has none, but then no entry either).
  if (has_deadline_ && static_cast<DeadlineState*>(this)->TakeBackTimer()) {
    // acq_rel: as in DropReference; the count stays above zero.
    references_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

bool CancellationState::Register(CancellationNode* node) {
  SpinLockHolder hold(&lock_);
  if (cancelled_.load(std::memory_order_relaxed)) return false;  // relaxed: under the lock.
  // relaxed: the node is not shared yet; the lock publishes it.
  node->finished.store(false, std::memory_order_relaxed);
  nodes_.PushFront(node);
  return true;
}

void CancellationState::Deregister(CancellationNode* node) {
  {
    SpinLockHolder hold(&lock_);
    if (node->linked) {
      nodes_.Remove(node);
      return;
    }
    if (running_ == node && running_thread_ == ThisThreadId()) {
      running_deregistered_ = true;
      return;
    }
  }
  // Unlinked by a cancellation: it has run, or is running on another thread.
  // acquire: pairs with the release in Cancel; the callback's effects are visible after.
  while (!node->finished.load(std::memory_order_acquire)) CpuRelax();
}

CancellationState* InheritedCancellation() {
  TaskHeader* task = CurrentTask();
  CancellationState* state = task != nullptr ? task->cancellation() : nullptr;
  if (state != nullptr) state->AddReference();
  return state;
}

}  // namespace internal

}  // namespace coral
