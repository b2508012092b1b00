// Copyright 2026 The coral Authors.
//
// coral::SpawnBlocking: runs a blocking call on the runtime's blocking pool (threads outside the
// workers, created on demand, up to 512) and awaits its result without blocking a worker.
//
//   absl::StatusOr<std::string> text = co_await coral::SpawnBlocking([&] { return Read(path); });
//
// The callable runs on a pool thread; it must not touch the awaiting task's locals unless they
// outlive it (capture by value). The result is a JoinResult<R> (join_handle.h:
// absl::StatusOr<R>; absl::Status for void; R itself when R is absl::Status or absl::StatusOr<U>):
// absl::CancelledError if the runtime is shutting down and the call never ran; an exception the
// callable throws is rethrown at the co_await. Runtime shutdown waits for running calls.
//
// Which callables compile. gcc 12 copies a lambda temporary written inside a co_await expression
// into the coroutine frame bitwise and then destroys both copies: a capture such as a
// std::string or a std::unique_ptr is freed twice, or a short string's buffer pointer is freed
// (heap corruption). That happens in the awaiting coroutine, whatever the awaited function does
// with the lambda, so SpawnBlocking refuses the form instead: a callable passed as an rvalue must
// be trivially copyable (a lambda capturing by reference, or only pointers and numbers), for
// which the copy is harmless. Any other callable is passed named, as an lvalue, and copied into
// the call:
//
//   auto job = [path] { return ReadWholeFile(path); };       // captures a std::string
//   auto text = co_await coral::SpawnBlocking(job);          // copies `job`
//
// State that cannot be copied goes in a std::shared_ptr. `co_await SpawnBlocking(std::move(job))`
// does not compile either: the library cannot tell it from a lambda temporary.
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
  explicit BlockingAwaiter(F&& fn) : state_(std::make_shared<State>()), job_(std::forward<F>(fn)) {}
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

namespace internal {
// True if SpawnBlocking accepts a callable given as an expression of type F&& (see the header
// comment): a named callable (copied), or a trivially copyable one.
template <typename F>
inline constexpr bool kBlockingCallableAccepted =
    std::is_lvalue_reference_v<F> || std::is_trivially_copyable_v<std::remove_cvref_t<F>>;
}  // namespace internal

template <typename F>
auto SpawnBlocking(F&& fn) {
  static_assert(internal::kBlockingCallableAccepted<F&&>,
                "coral::SpawnBlocking: a callable with captures that are not trivially copyable "
                "must be passed named (an lvalue, which is copied), not as an rvalue: gcc 12 "
                "double-destroys a lambda temporary written inside co_await (spawn_blocking.h)");
  static_assert(std::is_copy_constructible_v<std::remove_cvref_t<F>>,
                "coral::SpawnBlocking copies a named callable: hold move-only state in a "
                "std::shared_ptr");
  using R = std::invoke_result_t<std::decay_t<F>&>;
  return internal::BlockingAwaiter<R>(std::forward<F>(fn));
}

}  // namespace coral

#endif  // CORAL_SPAWN_BLOCKING_H_
