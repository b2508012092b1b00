// Copyright 2026 The coral Authors.
//
// coral::SpawnBlocking: runs a blocking call on the runtime's blocking pool (threads outside the
// workers, created on demand, up to 512) and awaits its result without blocking a worker.
//
//   auto job = [path] { return ReadWholeFile(path); };
//   absl::StatusOr<std::string> text = co_await coral::SpawnBlocking(std::move(job));
//
// The callable (which may be move-only) is moved to the pool thread; it must not touch the
// awaiting task's locals unless they outlive it (capture by value). The result is a JoinResult<R>
// (join_handle.h: absl::StatusOr<R>; absl::Status for void; R itself when R is absl::Status or
// absl::StatusOr<U>): absl::CancelledError if the runtime is shutting down and the call never ran;
// an exception the callable throws is rethrown at the co_await. Runtime shutdown waits for
// running calls.
//
// gcc 12 pitfall: a lambda temporary written inside the co_await expression is copied into the
// coroutine frame bitwise, which corrupts captures such as a short std::string. Name the callable
// first and move it in:
//
//   auto job = [path] { return ReadWholeFile(path); };
//   auto text = co_await coral::SpawnBlocking(std::move(job));
//
// Cancellation: the await does not observe the task's token: a blocking call cannot be
// interrupted, so a cancelled task still receives its result. A task aborted while awaiting stops
// waiting at once; the call runs to completion on its thread and its result is dropped.

#ifndef CORAL_SPAWN_BLOCKING_H_
#define CORAL_SPAWN_BLOCKING_H_

#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/task_header.h"
#include "coral/join_handle.h"

namespace coral {
namespace internal {

// What the pool thread and the awaiting task share.
class BlockingCallState {
 public:
  // The awaiting task registers itself (holding a waker reference) before the job is submitted.
  void SetWaiter(TaskHeader* task);
  // Pool thread, after storing the result: wakes the waiter, if it still waits.
  void Complete();
  // The awaiter is destroyed before completion: returns its waker reference.
  void Abandon();

  std::exception_ptr exception;

 private:
  std::mutex mu_;
  TaskHeader* waiter_ = nullptr;  // Guarded by mu_.
};

// Hands `job` to the blocking pool of the calling worker's runtime; false after shutdown.
bool SubmitBlocking(absl::AnyInvocable<void() &&> job);
// The current task, after checking that there is one.
TaskHeader* CurrentTaskForBlocking();

template <typename R>
class [[nodiscard]] BlockingAwaiter {
 public:
  using Stored = std::conditional_t<std::is_void_v<R>, bool, R>;
  struct State : BlockingCallState {
    std::optional<Stored> value;
  };

  template <typename F>
  explicit BlockingAwaiter(F&& fn)
      : state_(std::make_shared<State>()), job_(std::forward<F>(fn)) {}
  BlockingAwaiter(const BlockingAwaiter&) = delete;
  BlockingAwaiter& operator=(const BlockingAwaiter&) = delete;
  ~BlockingAwaiter() {
    if (waiting_) state_->Abandon();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) {
    TaskHeader* task = CurrentTaskForBlocking();
    task->set_resume_point(self);
    state_->SetWaiter(task);
    waiting_ = true;
    std::shared_ptr<State> state = state_;
    submitted_ = SubmitBlocking([state, job = std::move(job_)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          std::move(job)();
          state->value.emplace(true);
        } else {
          state->value.emplace(std::move(job)());
        }
      } catch (...) {
        state->exception = std::current_exception();
      }
      state->Complete();
    });
    if (!submitted_) {
      waiting_ = false;
      state_->Abandon();
      return false;
    }
    return true;
  }
  JoinResult<R> await_resume() {
    waiting_ = false;
    if (!submitted_) return absl::CancelledError("the coral runtime is shutting down");
    if (state_->exception) std::rethrow_exception(state_->exception);
    if constexpr (std::is_void_v<R>) {
      return absl::OkStatus();
    } else {
      return std::move(*state_->value);
    }
  }

 private:
  std::shared_ptr<State> state_;
  absl::AnyInvocable<R() &&> job_;
  bool waiting_ = false;
  bool submitted_ = false;
};

}  // namespace internal

template <typename F>
auto SpawnBlocking(F&& fn) {
  using R = std::invoke_result_t<std::decay_t<F>&>;
  return internal::BlockingAwaiter<R>(std::forward<F>(fn));
}

}  // namespace coral

#endif  // CORAL_SPAWN_BLOCKING_H_
