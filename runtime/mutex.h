// Copyright 2026 The coral Authors.
//
// coral::internal::Mutex: std::mutex with Abseil's thread-safety annotations, so ABSL_GUARDED_BY
// documents (and clang checks) coral's locking. Used instead of absl::Mutex because Debian's
// prebuilt Abseil is not TSan-instrumented, whereas TSan intercepts the pthread calls under
// std::mutex. The mutex comes through internal/sync_primitives.h, so that parking (Idle) runs under
// the model checker.

#ifndef CORAL_RUNTIME_MUTEX_H_
#define CORAL_RUNTIME_MUTEX_H_

#include "absl/base/thread_annotations.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal {

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  SystemMutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  Mutex* const mu_;
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_MUTEX_H_
