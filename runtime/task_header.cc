// Copyright 2026 The coral Authors.
//
// Task state transitions. The table of bits and owners is in scheduler.cc, "Task state".
//
// Memory order: every read-modify-write of state_ is acq_rel. The state word is where a task's
// frame passes from thread to thread (a worker releases it when the task goes idle; the waker that
// schedules it, and then the next worker, acquire it), and on x86 each locked RMW is a full
// barrier anyway, so a weaker order per transition would save nothing and cost a proof each.
// The loads that seed each CAS loop, and the CAS failure orders, are relaxed: a stale value only
// makes the CAS fail and retry, and the successful CAS is what orders.

#include "coral/internal/task_header.h"

#include <cstdio>
#include <new>

#include "runtime/frame_allocator.h"
#include "runtime/scheduler.h"

namespace coral::internal {

using namespace task_state;  // NOLINT: the bit names are the vocabulary of this file.

namespace {
constexpr uint64_t RefCount(uint64_t state) { return state / kRefOne; }
constexpr char kTwoJoinersMessage[] =
    "a coral::JoinHandle was awaited by two tasks at once (a task has one joiner)";
}  // namespace

void* TaskHeader::AllocateFrame(std::size_t frame_size) {
  CORAL_CHECK(frame_size <= UINT32_MAX, "a coroutine frame of 4 GiB or more");
  void* block = AllocateFrameMemory(sizeof(TaskHeader) + frame_size);
  TaskHeader* header = new (block) TaskHeader();
  header->frame_size_ = static_cast<uint32_t>(frame_size);
  return reinterpret_cast<char*>(header) + sizeof(TaskHeader);
}

void TaskHeader::ReleaseFrameStorage(void* frame, std::size_t frame_size) noexcept {
  TaskHeader* header = FromFrame(frame);
  // relaxed: either the caller dropped the last reference (it alone touches the task now), or it
  // holds one (the task is being torn down early and the storage must survive); both are facts
  // about this thread's own history.
  const uint64_t state = header->state_.load(std::memory_order_relaxed);
  if (RefCount(state) == 0) {
    // The last reference is gone (Deallocate destroying the frame; or a frame that is not a
    // task's root, whose header is unused). The token goes only now that the frame's locals,
    // which may still use it, are destroyed, and the scopes among them put back the task's own.
    header->DropOwnToken();
    // An unfinished task that nobody can wake any more (Deallocate): it leaves the registry only
    // now that its locals are destroyed, so a Shutdown waiting for the registry to empty does not
    // free the scheduler while they run.
    if (state & kRegistered) header->scheduler_->UnregisterSuspended(header);
    FreeFrameMemory(header, sizeof(TaskHeader) + frame_size);
  }
}

void TaskHeader::Initialize(Scheduler* scheduler, uint64_t flags, uint64_t refs) {
  scheduler_ = scheduler;
  set_resume_point(root());
  // relaxed: the task reaches other threads only through a queue push, which releases.
  state_.store(flags | refs * kRefOne, std::memory_order_relaxed);
}

bool TaskHeader::TransitionToRunning() {
  // kScheduled is set and kRunning clear (the caller popped the task from a queue), so one add
  // swaps them without a CAS loop.
  const uint64_t previous = state_.fetch_add(kRunning - kScheduled, std::memory_order_acq_rel);
  return (previous & kCancelled) == 0;
}

TaskHeader::AfterRun TaskHeader::TransitionToIdle(bool yielded) {
  uint64_t state = state_.load(std::memory_order_relaxed);
  if (!yielded && !(state & kRegistered)) {
    // Its first suspension: from now on its wakers may be all that can find it, and they may live
    // outside the runtime, so the scheduler must know it to tear it down at shutdown. Registered
    // while still kRunning: no shutdown can miss it in between. relaxed: the bit is read by the
    // holder of kRunning or by whoever drops the last reference, both ordered after this by the
    // acq_rel RMWs on state_ that follow.
    scheduler_->RegisterSuspended(this);
    state = state_.fetch_or(kRegistered, std::memory_order_relaxed) | kRegistered;
  }
  for (;;) {
    if (state & kCancelled) return AfterRun::kCancel;  // Stays kRunning for the teardown.
    uint64_t next = state & ~kRunning;
    AfterRun after;
    if (yielded || (state & kScheduled)) {
      next |= kScheduled;  // The running reference becomes the queue's.
      after = AfterRun::kReschedule;
    } else {
      next -= kRefOne;  // Wakers and the JoinHandle hold the task now.
      after = AfterRun::kIdle;
    }
    if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      // Nobody can ever wake the task: no waker, no handle. Destroy it.
      if (after == AfterRun::kIdle && RefCount(next) == 0) Deallocate();
      return after;
    }
  }
}

void TaskHeader::Complete(bool frame_destroyed) {
  uint64_t state = state_.load(std::memory_order_relaxed);
  // kRegistered is ours to clear (we hold kRunning). Leaving the registry is the last touch of the
  // scheduler on this task's behalf (a join waiter woken below is registered itself): a Shutdown
  // that sees the registry empty may free the scheduler.
  if (state & kRegistered) scheduler_->UnregisterSuspended(this);
  uint64_t next;
  do {
    next = (state & ~(kRunning | kScheduled | kRegistered)) | kComplete |
           (frame_destroyed ? kFrameDestroyed : 0);
    // The running reference, dropped in the same step; with a join waiter, kept until the
    // waiter is woken: the waiter may be aborted and torn down meanwhile, dropping the handle
    // and its own reference, and this header must outlive our read of join_waiter_.
    if (!(state & kJoinWaiter)) next -= kRefOne;
  } while (!state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
  if (state & kJoinWaiter) {
    // kJoinWaiter was set and we set kComplete: join_waiter_ and its reference are ours.
    // relaxed: the CAS read the registrant's kJoinWaiter, which ordered its store of the slot.
    Wake(join_waiter_.exchange(nullptr, std::memory_order_relaxed));
    DropReference();
  } else if (RefCount(next) == 0) {
    Deallocate();
  }
}

bool TaskHeader::TransitionToScheduled() {
  uint64_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next;
    bool push = false;
    if (state & kComplete) {
      next = state - kRefOne;
    } else if (state & (kRunning | kScheduled)) {
      // Queued, or running: the worker requeues it when it suspends. Our reference is not needed.
      next = (state | kScheduled) - kRefOne;
    } else {
      next = state | kScheduled;  // Our reference becomes the queue's.
      push = true;
    }
    if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      if (RefCount(next) == 0) Deallocate();
      return push;
    }
  }
}

bool TaskHeader::TransitionToCancelled() {
  uint64_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (state & (kComplete | kCancelled)) return false;
    // No reference left: whoever dropped the last one is destroying the task (only Shutdown's
    // walk of the registry, which holds none of its own, can see that; an Abort holds the
    // handle's reference).
    if (RefCount(state) == 0) return false;
    uint64_t next = state | kCancelled;
    const bool push = (state & (kRunning | kScheduled)) == 0;
    if (push) next = (next | kScheduled) + kRefOne;  // Queue it so a worker tears it down.
    if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      return push;
    }
  }
}

bool TaskHeader::RegisterJoinWaiter(TaskHeader* waiter) {
  // The claim is one step: a compare-and-swap of join_waiter_ from null. Of two tasks awaiting
  // the handle at once, in any interleaving, exactly one swap succeeds and the other finds the
  // first waiter there and aborts (a check of kJoinWaiter followed by a store of the field would
  // let both pass, and the second overwrite the first). The slot becomes null again only once its
  // waiter no longer needs it: the completer or the unregistration empties it (exchange) before
  // waking the waiter, and a registration that finds the task complete empties it before
  // returning. So a waiter that awaits the handle after another one's co_await returned finds it
  // null, and a non-null slot means a task inside its co_await of this handle.
  // relaxed: a read-modify-write always reads the latest value in the slot's modification order,
  // which is all the detection needs (and a later registrant, ordered after the earlier waiter's
  // wake-up, sees the emptying by coherence); the waiter is published to the completer and to
  // UnregisterJoinWaiter by the acq_rel CAS that sets kJoinWaiter below, which they read.
  TaskHeader* registered = nullptr;
  const bool claimed =
      join_waiter_.compare_exchange_strong(registered, waiter, std::memory_order_relaxed);
  CORAL_CHECK(claimed, kTwoJoinersMessage);
  waiter->AddReference();
  uint64_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (state & kComplete) {
      // relaxed: kJoinWaiter is clear, so the slot is ours alone until it is null again.
      join_waiter_.store(nullptr, std::memory_order_relaxed);
      waiter->DropReference();
      return false;
    }
    // kJoinWaiter is clear: only the slot's owner sets it, and its unregistration clears it
    // before emptying the slot.
    if (state_.compare_exchange_weak(state, state | kJoinWaiter, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
}

TaskHeader* TaskHeader::UnregisterJoinWaiter() {
  uint64_t state = state_.load(std::memory_order_relaxed);
  for (;;) {
    // Complete, or already unregistered: the completer (or the earlier caller) owns join_waiter_.
    if (state & kComplete || !(state & kJoinWaiter)) return nullptr;
    if (state_.compare_exchange_weak(state, state & ~kJoinWaiter, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
      // relaxed: the CAS read the registrant's kJoinWaiter, which ordered its store of the slot.
      return join_waiter_.exchange(nullptr, std::memory_order_relaxed);
    }
  }
}

void TaskHeader::DropJoinInterest() {
  const uint64_t previous = state_.fetch_sub(kJoinInterest + kRefOne, std::memory_order_acq_rel);
  if (RefCount(previous) == 1) Deallocate();
}

void TaskHeader::AddReference() {
  // relaxed: the caller already owns a reference, so the task is alive; like shared_ptr's copy.
  state_.fetch_add(kRefOne, std::memory_order_relaxed);
}

void TaskHeader::DropReference() {
  // acq_rel: every owner's use of the task happens before the deallocation by the last one.
  if (RefCount(state_.fetch_sub(kRefOne, std::memory_order_acq_rel)) == 1) Deallocate();
}

void TaskHeader::Deallocate() noexcept {
  // relaxed: we dropped the last reference; the acq_rel RMW that did so ordered everything.
  if (state_.load(std::memory_order_relaxed) & kFrameDestroyed) {
    DropOwnToken();  // After the teardown that destroyed the frame.
    FreeFrameMemory(this, sizeof(TaskHeader) + frame_size_);
  } else {
    // Its operator delete drops the token and frees the block (refcount is zero), once the
    // locals are destroyed: until then a suspended frame's token may be a scope's, not ours.
    root().destroy();
  }
}

void TaskHeader::DropOwnToken() noexcept {
  if (!(cancellation_ & kBorrowedToken) && cancellation() != nullptr) {
    cancellation()->DropReference();
  }
}

void ReportUnobservedException(const std::exception_ptr& exception) noexcept {
  try {
    std::rethrow_exception(exception);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coral: a task whose JoinHandle was dropped or detached threw: %s\n",
                 e.what());
  } catch (...) {
    std::fprintf(stderr,
                 "coral: a task whose JoinHandle was dropped or detached threw a non-std "
                 "exception\n");
  }
}

}  // namespace coral::internal
