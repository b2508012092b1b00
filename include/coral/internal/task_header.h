// Copyright 2026 The coral Authors.
//
// The header of a spawned task. Private to coral; templates in the public headers need it.
//
// Memory layout. One allocation holds [TaskHeader | coroutine frame]: every coral::Task frame is
// allocated so (TaskPromiseBase's operator new), and a spawned task is the header plus the frame
// of its root Task. The header outlives the frame when a task is aborted while wakers still
// reference it (runtime/scheduler.cc, "Task state").

#ifndef CORAL_INTERNAL_TASK_HEADER_H_
#define CORAL_INTERNAL_TASK_HEADER_H_

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>

#include "coral/internal/cancellation_state.h"
#include "coral/internal/check.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal {

class Scheduler;
class TaskHeader;

// The state word of a spawned task: flag bits in the low byte, reference count above.
// runtime/scheduler.cc documents each bit and who may change it.
namespace task_state {
inline constexpr uint64_t kScheduled = 1 << 0;       // In a run queue; the queue owns a ref.
inline constexpr uint64_t kRunning = 1 << 1;         // A worker is resuming it.
inline constexpr uint64_t kComplete = 1 << 2;        // Finished; never runs again.
inline constexpr uint64_t kCancelled = 1 << 3;       // Abort requested.
inline constexpr uint64_t kJoinInterest = 1 << 4;    // A JoinHandle still wants the output.
inline constexpr uint64_t kJoinWaiter = 1 << 5;      // join_waiter_ holds a registered task.
inline constexpr uint64_t kFrameDestroyed = 1 << 6;  // Frame destroyed before completing.
inline constexpr uint64_t kRegistered = 1 << 7;      // In its scheduler's suspended-task registry.
inline constexpr uint64_t kRefOne = 1 << 8;
inline constexpr uint64_t kFlagMask = kRefOne - 1;
}  // namespace task_state

// What a suspended task resumes into when that is not simply the awaiting coroutine: an awaitable
// that must look at something on the resuming worker first. AsyncFd's I/O awaiter is one: woken
// by readiness that turns out stale (the system call still says EAGAIN), it waits again without
// resuming the coroutine, which would have no way to suspend a second time from await_resume.
// Resume() runs on the worker holding kRunning, exactly where the coroutine would have resumed;
// it either resumes the coroutine it stands for or leaves the task registered with a waker.
class Resumer {
 public:
  virtual void Resume() = 0;

 protected:
  ~Resumer() = default;
};

// Something a task owns whose contents may borrow from the task's frame: a TaskGroup's state
// (runtime/task_group.cc, a layer above the core), whose children may hold references into it.
// The core's one up-call goes through this interface: Scheduler::TearDown asks each scope the
// task owns, before it destroys the frame, whether the scope takes the teardown over; the layer
// above implements it and links its scopes on the task (TaskHeader::scopes), so the core never
// names a TaskGroup.
class OwnedScope {
 public:
  // Called by Scheduler::TearDown on the thread tearing `owner` down (it holds kRunning), before
  // the frame is destroyed. Returns true if the scope still has live children and took the
  // teardown over: it calls Scheduler::TearDown(owner) again once the last one has finished.
  virtual bool DeferOwnerTeardown(TaskHeader* owner) = 0;

  // The next scope of the same owner. Touched only by the owner while it runs, or by its teardown.
  OwnedScope* next_owned = nullptr;

 protected:
  ~OwnedScope() = default;
};

class alignas(16) TaskHeader {
 public:
  // What the worker must do after resuming a task that did not complete.
  enum class AfterRun { kIdle, kReschedule, kCancel };

  TaskHeader() = default;
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;

  // Called once, before the task is first scheduled: `refs` references, `flags` set.
  void Initialize(Scheduler* scheduler, uint64_t flags, uint64_t refs);

  std::coroutine_handle<> root() noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<char*>(this) + sizeof(*this));
  }
  static TaskHeader* FromFrame(void* frame) noexcept {
    return reinterpret_cast<TaskHeader*>(static_cast<char*>(frame) - sizeof(TaskHeader));
  }
  Scheduler* scheduler() const noexcept { return scheduler_; }

  // Where the task resumes next: a coroutine, or a Resumer. Set by whatever awaitable suspends it
  // (only the worker that holds kRunning writes it; the next worker reads it after popping the
  // task from a queue).
  void set_resume_point(std::coroutine_handle<> handle) noexcept {
    resume_point_ = reinterpret_cast<uintptr_t>(handle.address());
  }
  void set_resumer(Resumer* resumer) noexcept {
    resume_point_ = reinterpret_cast<uintptr_t>(resumer) | kResumerTag;
  }
  // The worker holding kRunning: continues the task where it suspended.
  void Resume() {
    if (resume_point_ & kResumerTag) {
      reinterpret_cast<Resumer*>(resume_point_ & ~kResumerTag)->Resume();
    } else {
      std::coroutine_handle<>::from_address(reinterpret_cast<void*>(resume_point_)).resume();
    }
  }

  // The token the task runs under (null: never cancelled). The header owns one reference to the
  // token it was created with, released once its frame is destroyed, unless it borrows it (a
  // TaskGroup child: the group's token outlives the group's children). Only the task itself (its
  // worker, holding kRunning) swaps it, to shield a section or impose a deadline, and restores it.
  CancellationState* cancellation() const noexcept {
    return reinterpret_cast<CancellationState*>(cancellation_ & ~kBorrowedToken);
  }
  void set_cancellation(CancellationState* state) noexcept {
    cancellation_ = reinterpret_cast<uintptr_t>(state) | (cancellation_ & kBorrowedToken);
  }
  // Before the first push: the task's token, adopted (one reference) or borrowed.
  void InitializeCancellation(CancellationState* state, bool borrowed) noexcept {
    cancellation_ = reinterpret_cast<uintptr_t>(state) | (borrowed ? kBorrowedToken : 0);
  }

  // The scopes (TaskGroups) this task created and has not destroyed yet, linked through
  // OwnedScope::next_owned. Touched only by the task while it runs, or by its teardown.
  OwnedScope* scopes() const noexcept { return scopes_; }
  void set_scopes(OwnedScope* scopes) noexcept { scopes_ = scopes; }

  uint64_t LoadState() const noexcept {
    // acquire: a reader that sees kComplete also sees the output the completer wrote.
    return state_.load(std::memory_order_acquire);
  }

  // --- Transitions (runtime/task_header.cc). ---
  // Worker, holding the queue's reference: kScheduled -> kRunning. Returns false if the task was
  // cancelled and must be torn down instead of resumed.
  bool TransitionToRunning();
  // Worker, after a resume that left the task suspended. `yielded`: the task asked to run again.
  AfterRun TransitionToIdle(bool yielded);
  // Worker, holding kRunning: the task finished (frame_destroyed: it was torn down instead).
  // Wakes the join waiter and drops the running reference.
  void Complete(bool frame_destroyed);
  // A waker that owns one reference hands it over. Returns true if the caller must push the task
  // on a run queue (the reference now belongs to the queue).
  bool TransitionToScheduled();
  // JoinHandle::Abort, and Shutdown's walk of the suspended tasks. Returns true if the caller must
  // push the task (one new reference); false if it is complete, cancelled, queued, running, or
  // has no reference left (being destroyed by whoever dropped the last).
  bool TransitionToCancelled();
  // JoinHandle: registers `waiter` (which must be running) to be scheduled at completion. Returns
  // false if the task already completed (the waiter must not suspend). Aborts if another waiter
  // is registered (one handle awaited by two tasks at once).
  bool RegisterJoinWaiter(TaskHeader* waiter);
  // JoinHandle awaiter giving up before completion (its task was torn down, or its wait was
  // cancelled). Returns the registered waiter, whose reference the caller now owns, or null if
  // the task completed first (the completer wakes the waiter).
  TaskHeader* UnregisterJoinWaiter();
  // JoinHandle destroyed or detached.
  void DropJoinInterest();

  void AddReference();
  void DropReference();

  // The slot of a task in its scheduler's registry of tasks that have suspended (runtime/
  // scheduler.h, SuspendedTasks). Guarded by the registry shard's lock.
  uint32_t registry_slot() const noexcept { return registry_slot_; }
  void set_registry_slot(uint32_t slot) noexcept { registry_slot_ = slot; }

  // The frame's storage: allocated with room for the header in front.
  static void* AllocateFrame(std::size_t frame_size);
  static void ReleaseFrameStorage(void* frame, std::size_t frame_size) noexcept;

  // The task's queue link, used by the global injection queue; owned by the queue reference.
  TaskHeader* queue_next = nullptr;

 private:
  void Deallocate() noexcept;
  // Releases the reference to the task's own token (unless borrowed). Only once the frame is
  // destroyed: its locals may use the token, and a scope's locals put the task's own back.
  void DropOwnToken() noexcept;

  Atomic<uint64_t> state_{0};
  Scheduler* scheduler_ = nullptr;
  // Size of the frame that follows; set once by AllocateFrame.
  uint32_t frame_size_ = 0;
  uint32_t registry_slot_ = 0;
  // A coroutine frame's address, or a Resumer's with kResumerTag set (both at least 8-aligned:
  // frames come from operator new, and a Resumer holds a vtable pointer).
  static constexpr uintptr_t kResumerTag = 1;
  uintptr_t resume_point_ = 0;
  // The task awaiting this one, or null. A waiter claims it by a CAS from null (the detection of
  // a second waiter); the completer takes it after it observed kJoinWaiter, ordered by the
  // acq_rel CASes on state_ that flip those bits (runtime/task_header.cc, RegisterJoinWaiter).
  Atomic<TaskHeader*> join_waiter_{nullptr};
  static constexpr uintptr_t kBorrowedToken = 1;  // Low bit of cancellation_.
  uintptr_t cancellation_ = 0;
  OwnedScope* scopes_ = nullptr;
};

static_assert(sizeof(TaskHeader) % alignof(std::max_align_t) == 0,
              "the coroutine frame that follows the header must stay max-aligned");

// Reports an exception that escaped a task whose output nobody will read.
void ReportUnobservedException(const std::exception_ptr& exception) noexcept;

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_TASK_HEADER_H_
