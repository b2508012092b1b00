// Copyright 2026 The coral Authors.
//
// The machinery of coral::JoinSet (coral/join_set.h). Private to coral.
//
// Each task of a set runs RunJoinSetChild, whose JoinSetSlot parameter reports the task's outcome
// to the set's shared state exactly once: the result (or exception) when the body finishes, or
// absl::CancelledError when the frame is destroyed without finishing (aborted, or torn down by a
// runtime shutdown, started or not). The report is queued under the state's lock and then
// announced through a Notify, which JoinNext awaits; JoinNext reads the queue before every wait,
// and the Notify keeps one notification for a wait that starts after it, so no report is missed.
// The state is shared (std::shared_ptr) by the set and its tasks: a task aborted by the set's
// destructor still reports into it, and the last of them frees it.

#ifndef CORAL_INTERNAL_JOIN_SET_STATE_H_
#define CORAL_INTERNAL_JOIN_SET_STATE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coral/internal/check.h"
#include "coral/internal/spin_lock.h"
#include "coral/join_handle.h"
#include "coral/notify.h"
#include "coral/task.h"

namespace coral::internal {

[[noreturn]] void JoinSetMovedFrom(const char* operation);
// Aborts, naming `what` (destroyed, moved), if a task is inside co_await JoinNext().
void CheckNotJoining(const std::atomic<bool>& joining, const char* what);
// Aborts if another task is inside co_await JoinNext(); the scope marks this one as inside.
class JoiningScope {
 public:
  explicit JoiningScope(std::atomic<bool>* joining);
  JoiningScope(const JoiningScope&) = delete;
  JoiningScope& operator=(const JoiningScope&) = delete;
  ~JoiningScope();

 private:
  std::atomic<bool>* joining_;
};

template <typename T>
struct JoinSetCompletion {
  uint64_t id = 0;
  JoinResult<T> result;          // Unused if the task threw.
  std::exception_ptr exception;  // Set if the task threw.
};

template <typename T>
class JoinSetState {
 public:
  void Push(JoinSetCompletion<T> completion) {
    {
      SpinLockHolder hold(&lock_);
      done_.push_back(std::move(completion));
    }
    finished.NotifyOne();
  }
  // Moves the oldest completion into *out; false if there is none.
  bool Pop(JoinSetCompletion<T>* out) {
    SpinLockHolder hold(&lock_);
    if (done_.empty()) return false;
    *out = std::move(done_.front());
    done_.pop_front();
    return true;
  }

  Notify finished;  // Notified once per completion queued.
  // A task is inside co_await JoinNext(). relaxed everywhere: a misuse detector; the owner's own
  // program order (one task at a time uses the set) orders its reads and writes.
  std::atomic<bool> joining{false};

 private:
  SpinLock lock_;
  std::deque<JoinSetCompletion<T>> done_ ABSL_GUARDED_BY(lock_);
};

// A task's place in its set: reports the outcome once (see the file comment). Move-only.
template <typename T>
class JoinSetSlot {
 public:
  JoinSetSlot(std::shared_ptr<JoinSetState<T>> state, uint64_t id)
      : state_(std::move(state)), id_(id) {}
  JoinSetSlot(JoinSetSlot&&) noexcept = default;
  JoinSetSlot& operator=(JoinSetSlot&&) = delete;
  ~JoinSetSlot() {
    if (state_ != nullptr) {
      Report(JoinSetCompletion<T>{id_, CancelledJoinStatus(), nullptr});
    }
  }

  void Report(JoinSetCompletion<T> completion) {
    std::exchange(state_, nullptr)->Push(std::move(completion));
  }
  uint64_t id() const { return id_; }

 private:
  std::shared_ptr<JoinSetState<T>> state_;
  uint64_t id_;
};

// The root of a JoinSet's task. The callable and its arguments move into a local, which dies with
// the body, before the slot reports: the joiner never sees a result while the task still owns
// what it was given.
template <typename T, typename Fn, typename... Args>
Task<void> RunJoinSetChild(JoinSetSlot<T> slot, Fn fn, Args... args) {
  JoinResult<T> result = CancelledJoinStatus();  // Replaced unless the body throws.
  std::exception_ptr exception;
  {
    auto call = [fn = std::move(fn), ... args = std::move(args)]() mutable {
      return std::invoke(fn, std::move(args)...);
    };
    try {
      if constexpr (std::is_void_v<T>) {
        co_await call();
        result = absl::OkStatus();
      } else {
        result = co_await call();
      }
    } catch (...) {
      exception = std::current_exception();
    }
  }
  slot.Report(JoinSetCompletion<T>{slot.id(), std::move(result), std::move(exception)});
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_JOIN_SET_STATE_H_
