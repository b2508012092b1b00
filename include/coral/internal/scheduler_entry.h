// Copyright 2026 The coral Authors.
//
// The scheduler core's entry points for the layers above it (tasks, awaitables, primitives, I/O).
// Private to coral. Every function is defined out of line in the core (runtime/scheduler.cc,
// runtime/cancellation.cc), so a coroutine that migrates between threads never reuses a
// thread-local address computed on the thread it left.

#ifndef CORAL_INTERNAL_SCHEDULER_ENTRY_H_
#define CORAL_INTERNAL_SCHEDULER_ENTRY_H_

#include "coral/internal/cancellation_state.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

// The scheduler of the worker thread calling, or null on any other thread.
Scheduler* CurrentScheduler() noexcept;
// The spawned task the calling worker is running, or null.
TaskHeader* CurrentTask() noexcept;
// True on a thread that is tearing a task down (destroying its frame without resuming it).
bool InTeardown();
// True on a thread running a runtime's Shutdown, while it tears the tasks down.
bool ShutdownOnThisThread();
// During Shutdown, on its thread: tears down every task it has not torn down yet, but those this
// thread is tearing down already. Elsewhere does nothing.
void TearDownRemainingAtShutdown();

// For the destructor of an object that tasks may borrow (a primitive in a task's frame, lent to a
// task it spawned): Shutdown tears tasks down in no particular order, and may reach the owner
// before the borrower, which still waits on the object (or holds it, or is in a budget yield in
// an await on it). If `in_use()` holds during a teardown by Shutdown, the remaining tasks are torn
// down first, the borrower among them, and it lets go of the object. The destructor then checks
// as always, and aborts if the object is still in use: outside Shutdown that is misuse.
template <typename InUse>
void LetBorrowersGoAtShutdown(InUse in_use) {
  if (ShutdownOnThisThread() && in_use()) TearDownRemainingAtShutdown();
}
// Hands a waker's reference on `task` to the scheduler: queues the task if it is idle.
void Wake(TaskHeader* task);
// The current task's token with a new reference for a task it spawns, or null outside a task.
CancellationState* InheritedCancellation();
// Pushes a newly spawned task (holding one queue reference): on the calling worker's queues if it
// belongs to `scheduler`, else on the global injection queue. After shutdown the task is torn down
// at once, and its JoinHandle reports cancellation.
void SubmitNewTask(Scheduler* scheduler, TaskHeader* task);

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULER_ENTRY_H_
