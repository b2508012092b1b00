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

#include <cstdio>
#include <new>

#include "coral/internal/task_header.h"

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
  void* block = AllocateFrameMemory(sizeof(TaskHeader) + frame_size);
  TaskHeader* header = new (block) TaskHeader();
  header->frame_size_ = frame_size;
  return reinterpret_cast<char*>(header) + sizeof(TaskHeader);
}

void TaskHeader::ReleaseFrameStorage(void* frame, std::size_t frame_size) noexcept {
  TaskHeader* header = FromFrame(frame);
  // relaxed: either the caller dropped the last reference (it alone touches the task now), or it
  // holds one (the task is being torn down early and the storage must survive); both are facts
  // about this thread's own history.
  if (RefCount(header->state_.load(std::memory_order_relaxed)) == 0) {
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
  uint64_t next;
  do {
    next = (state & ~(kRunning | kScheduled)) | kComplete | (frame_destroyed ? kFrameDestroyed : 0);
    next -= kRefOne;  // The running reference, dropped in the same step.
  } while (!state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
  if (state & kJoinWaiter) {
    // kJoinWaiter was set and we set kComplete: join_waiter_ and its reference are ours. The
    // header is still alive although we dropped our reference: the JoinHandle's owner is the
    // waiter, suspended until we schedule it.
    Wake(std::exchange(join_waiter_, nullptr));
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
  // A handle awaited by a second task while the first still waits: the second registration would
  // overwrite the first, which would never be woken. Checked before join_waiter_ is written, and
  // again by every CAS below (a registration that raced past this load makes our CAS fail).
  // relaxed: as the loads that seed every CAS loop here; kJoinWaiter is set by the handle's side.
  uint64_t state = state_.load(std::memory_order_relaxed);
  CORAL_CHECK((state & kComplete) || !(state & kJoinWaiter), kTwoJoinersMessage);
  waiter->AddReference();
  join_waiter_ = waiter;  // kJoinWaiter is clear: the field is the JoinHandle owner's.
  for (;;) {
    if (state & kComplete) {
      join_waiter_ = nullptr;
      waiter->DropReference();
      return false;
    }
    CORAL_CHECK(!(state & kJoinWaiter), kTwoJoinersMessage);
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
      return std::exchange(join_waiter_, nullptr);
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
  if (!(cancellation_ & kBorrowedToken) && cancellation() != nullptr) {
    cancellation()->DropReference();
  }
  // relaxed: we dropped the last reference; the acq_rel RMW that did so ordered everything.
  if (state_.load(std::memory_order_relaxed) & kFrameDestroyed) {
    FreeFrameMemory(this, sizeof(TaskHeader) + frame_size_);
  } else {
    root().destroy();  // Its operator delete frees the block (refcount is zero).
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
