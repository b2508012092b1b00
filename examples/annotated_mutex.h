// Copyright 2026 The coral Authors.
//
// A std::mutex with Abseil's thread-safety annotations, for the examples' short critical sections
// (a map lookup, a pointer swap: never held across co_await), so that clang's -Wthread-safety
// (.ci/thread_safety_check.sh) checks the ABSL_GUARDED_BY fields it guards. coral's own such
// wrapper is an internal of its runtime; the examples use the public API only.
//
// std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread mutexes, while Debian's
// prebuilt Abseil is not instrumented, so absl::Mutex would look like no lock at all.
//
//   coral::examples::Mutex mu;
//   int hits ABSL_GUARDED_BY(mu) = 0;
//   { coral::examples::MutexLock lock(&mu); ++hits; }

#ifndef CORAL_EXAMPLES_ANNOTATED_MUTEX_H_
#define CORAL_EXAMPLES_ANNOTATED_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace coral::examples {

class ABSL_LOCKABLE Mutex {
 public:
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mutex_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mutex_.unlock(); }

 private:
  std::mutex mutex_;
};

// Holds `mutex` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mutex) ABSL_EXCLUSIVE_LOCK_FUNCTION(mutex) : mutex_(mutex) {
    mutex_->Lock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mutex_->Unlock(); }

 private:
  Mutex* const mutex_;
};

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_ANNOTATED_MUTEX_H_
