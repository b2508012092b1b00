// Copyright 2026 The coral Authors.
//
// The waiting protocol of the synchronization primitives.
//
// Every primitive keeps its waiters in a FIFO under one spin lock (critical sections are a few
// pointer writes). A waiter is linked with a waker reference to its task. Exactly one of two
// things takes it out of the queue, both under the lock: the primitive granting it (the lock, the
// permits, a message), or its cancellation callback removing it. Whoever takes it out owns the
// waker reference and wakes the task after releasing the lock. So a cancelled waiter is never
// granted, and a granted waiter is never lost to its cancellation: a grant that wins the race
// stands, and the operation reports success (its token is observed by the next wait).
//
// A task torn down (JoinHandle::Abort) while waiting destroys its awaitable: AbandonWait removes
// a still-linked waiter, or reports that it was granted, so the awaitable gives back what it was
// handed (an AsyncMutex passes the lock on, a Semaphore returns the permits).

#include "coral/internal/wait_queue.h"

#include "absl/base/thread_annotations.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"

namespace coral::internal {

TaskHeader* QueuedWait::CurrentTaskChecked(const char* operation) {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, operation);
  return task;
}

// No thread-safety analysis: it releases site.lock, taken by the caller (see the callers).
ABSL_NO_THREAD_SAFETY_ANALYSIS void QueuedWait::SuspendLocked(const WaitSite& site,
                                                              TaskHeader* task,
                                                              std::coroutine_handle<> self) {
  site_ = site;
  task->set_resume_point(self);
  task->AddReference();  // The waker reference: the granter's, or the cancellation's.
  waiter_.task = task;
  site.queue->PushBack(&waiter_);
  suspended_ = true;
  site.lock->Unlock();
  Arm(task, &OnCancel);
}

void WakeAll(const WakeList& tasks) {
  for (TaskHeader* task : tasks) Wake(task);
}

void QueuedWait::OnCancel(CancellationNode* node) {
  auto* self = static_cast<QueuedWait*>(FromNode(node));
  const WaitSite& site = self->site_;
  TaskHeader* task = nullptr;
  WakeList granted;
  site.lock->Lock();
  if (self->waiter_.linked) {
    site.queue->Remove(&self->waiter_);
    task = self->waiter_.task;
    self->MarkCancelled(task);
    if (site.after_removal != nullptr) site.after_removal(site.primitive, &granted);
  }
  site.lock->Unlock();
  WakeAll(granted);
  if (task != nullptr) Wake(task);
}

bool QueuedWait::AbandonSuspendedWait(const WaitSite& site) {
  Disarm();  // The callback is not running after this.
  suspended_ = false;
  WakeList granted;
  bool was_granted;
  {
    SpinLockHolder hold(site.lock);
    was_granted = waiter_.granted;
    if (waiter_.linked) {
      site.queue->Remove(&waiter_);
      if (site.after_removal != nullptr) site.after_removal(site.primitive, &granted);
      waiter_.task->DropReference();
    }
  }
  WakeAll(granted);
  return was_granted;
}

}  // namespace coral::internal
