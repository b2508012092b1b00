// Copyright 2026 The coral Authors.
//
// coral::JoinHandle<T>: the owner's view of a spawned task.
//
//   coral::JoinHandle<int> h = runtime.Spawn([]() -> coral::Task<int> { co_return 7; });
//   absl::StatusOr<int> r = co_await std::move(h);   // 7
//
// Awaiting a handle (from inside a coral task) waits for the task to finish and yields its
// output as a JoinResult<T> (below): absl::StatusOr<T>; absl::Status for T = void; the task's own
// absl::Status or absl::StatusOr<U> as it is. If the task was aborted, or torn down by runtime
// shutdown before it finished, the result is absl::CancelledError. If the task threw, the
// exception is rethrown from the `co_await`.
//
// Dropping or detaching a handle lets the task run on; its output is then discarded (an exception
// it throws is reported on stderr, never silently swallowed). Abort() asks the task to stop: a task
// that has not started never runs; a suspended task is destroyed at its suspension point (the
// destructors of its locals run, on a worker thread) without resuming.
//
// A handle may be moved between threads; awaiting it is valid once. Two tasks awaiting one handle
// at the same time (through a reference) abort with a message: a task has one joiner. A task
// awaiting a handle keeps the joined task's output alive: the handle may be dropped meanwhile. Any
// use of an empty handle (default-constructed, moved from or detached) but valid() and assigning
// to it aborts with a message.
//
// Cancellation: if the awaiting task's token is cancelled (coral/cancellation.h) while it waits
// here, the await completes with absl::CancelledError and the handle stays valid (it may be awaited
// again); if the awaiting task is aborted, it stops waiting. The joined task is not affected
// either way (it usually inherited the same token, and is being cancelled too).

#ifndef CORAL_JOIN_HANDLE_H_
#define CORAL_JOIN_HANDLE_H_

#include <coroutine>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/budget.h"
#include "coral/internal/cancellable_wait.h"
#include "coral/internal/check.h"
#include "coral/internal/task_header.h"
#include "coral/task.h"

namespace coral {

namespace internal {
// absl::Status and absl::StatusOr<U>: values that carry their own failure.
template <typename T>
struct IsStatusLike : std::false_type {};
template <>
struct IsStatusLike<absl::Status> : std::true_type {};
template <typename T>
struct IsStatusLike<absl::StatusOr<T>> : std::true_type {};
}  // namespace internal

// What awaiting a task's outcome yields (a JoinHandle, Timeout, WhenAll, WhenAny, SpawnBlocking):
// absl::Status for T = void; T itself for an absl::Status or absl::StatusOr<U> task, whose own
// failure and the join's (a cancelled or timed-out wait, an aborted task) share one status;
// absl::StatusOr<T> otherwise. (Nesting would be worse than verbose for absl::Status:
// absl::StatusOr<absl::Status> takes an error assigned to it as its value, so ok() would say true
// for a task that never ran.)
template <typename T>
using JoinResult =
    std::conditional_t<std::is_void_v<T>, absl::Status,
                       std::conditional_t<internal::IsStatusLike<T>::value, T, absl::StatusOr<T>>>;

namespace internal {

struct JoinHandleFactory;

// The type-independent half of awaiting a JoinHandle (runtime/runtime.cc).
class JoinAwaiterBase : private CancellableWait {
 public:
  explicit JoinAwaiterBase(TaskHeader* joined) : joined_(joined) {
    CORAL_CHECK(joined_ != nullptr,
                "co_await on an empty, moved-from or detached coral::JoinHandle");
  }
  JoinAwaiterBase(const JoinAwaiterBase&) = delete;
  JoinAwaiterBase& operator=(const JoinAwaiterBase&) = delete;
  ~JoinAwaiterBase();

  bool await_ready() const noexcept {
    return SpendBudget() && (joined_->LoadState() & task_state::kComplete);
  }
  bool await_suspend(std::coroutine_handle<> awaiter);

 protected:
  // After resumption: true if the wait was cancelled (the joined task may still run).
  bool WaitCancelled() noexcept;
  // After resumption: the joined task is complete. True if it was torn down without an output.
  bool JoinedWithoutOutput() noexcept;

  TaskHeader* joined_;

 private:
  static void OnCancel(CancellationNode* node);

  bool registered_ = false;
  void HoldJoined();  // Takes referenced_'s reference, once.

  bool referenced_ = false;  // Holds a reference to the joined task (once it waited or yielded).
  BudgetRetry<JoinAwaiterBase> budget_;
};

absl::Status CancelledWaitStatus();

absl::Status CancelledJoinStatus();

template <typename T>
class [[nodiscard]] JoinAwaiter final : public JoinAwaiterBase {
 public:
  using JoinAwaiterBase::JoinAwaiterBase;

  JoinResult<T> await_resume() {
    if (WaitCancelled()) return CancelledWaitStatus();
    if (JoinedWithoutOutput()) return CancelledJoinStatus();
    auto& promise =
        std::coroutine_handle<TaskPromise<T>>::from_address(joined_->root().address()).promise();
    if constexpr (std::is_void_v<T>) {
      promise.TakeResult();
      return absl::OkStatus();
    } else {
      return promise.TakeResult();
    }
  }
};

}  // namespace internal

template <typename T>
class [[nodiscard]] JoinHandle {
 public:
  JoinHandle() = default;
  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      Drop();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  JoinHandle(const JoinHandle&) = delete;
  JoinHandle& operator=(const JoinHandle&) = delete;
  ~JoinHandle() { Drop(); }

  // True while this handle refers to a task (not default-constructed, moved from or detached).
  bool valid() const noexcept { return task_ != nullptr; }

  // True once the task has finished (completed, thrown, or been torn down).
  bool IsFinished() const noexcept {
    CORAL_CHECK(task_ != nullptr,
                "IsFinished on an empty, moved-from or detached coral::JoinHandle");
    return task_->LoadState() & internal::task_state::kComplete;
  }

  // Lets the task run on without an owner. The handle becomes empty.
  void Detach() noexcept {
    CORAL_CHECK(task_ != nullptr, "Detach on an empty, moved-from or detached coral::JoinHandle");
    Drop();
  }

  // Asks the task to stop (see the header comment). Safe from any thread, at any time, repeatedly;
  // awaiting the handle afterwards yields CancelledError unless the task had already finished.
  void Abort();

  internal::JoinAwaiter<T> operator co_await() && noexcept {
    return internal::JoinAwaiter<T>(task_);
  }
  internal::JoinAwaiter<T> operator co_await() & noexcept {
    return internal::JoinAwaiter<T>(task_);
  }

 private:
  friend struct internal::JoinHandleFactory;
  explicit JoinHandle(internal::TaskHeader* task) noexcept : task_(task) {}

  void Drop() noexcept {
    if (task_ != nullptr) std::exchange(task_, nullptr)->DropJoinInterest();
  }

  internal::TaskHeader* task_ = nullptr;
};

namespace internal {

void AbortTask(TaskHeader* task);

// Lets Spawn hand a new task's JoinHandle reference to a JoinHandle, and tests read the task a
// handle refers to.
struct JoinHandleFactory {
  template <typename T>
  static JoinHandle<T> Adopt(TaskHeader* task) noexcept {
    return JoinHandle<T>(task);
  }
  template <typename T>
  static TaskHeader* TaskOf(const JoinHandle<T>& handle) noexcept {
    return handle.task_;
  }
};

}  // namespace internal

template <typename T>
void JoinHandle<T>::Abort() {
  CORAL_CHECK(task_ != nullptr, "Abort on an empty, moved-from or detached coral::JoinHandle");
  internal::AbortTask(task_);
}

}  // namespace coral

#endif  // CORAL_JOIN_HANDLE_H_
