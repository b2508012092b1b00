// Copyright 2026 The coral Authors.
//
// The rendezvous between Runtime::BlockOn's calling thread and the task it runs. Private to coral.

#ifndef CORAL_INTERNAL_BLOCK_ON_H_
#define CORAL_INTERNAL_BLOCK_ON_H_

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "coral/internal/check.h"
#include "coral/join_handle.h"
#include "coral/task.h"

namespace coral::internal {

// Filled by the task on a worker, read by the blocked thread. std::mutex (not absl::Mutex): the
// prebuilt Abseil is not TSan-instrumented, libstdc++'s pthread calls are intercepted.
template <typename T>
class BlockingResult {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, bool, T>;

  void SetValue(Stored value) { value_.emplace(std::move(value)); }
  void SetException(std::exception_ptr e) { exception_ = std::move(e); }

  // Called exactly once, when the task's frame is destroyed (finished or torn down, started or
  // not).
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    cv_.notify_one();
  }

  T Wait() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return finished_; });
    }
    if (exception_) std::rethrow_exception(exception_);
    if (!value_.has_value()) {
      // Torn down by the runtime's shutdown before it finished.
      if constexpr (IsStatusLike<T>::value) {
        return absl::CancelledError(
            "coral::Runtime::BlockOn: the runtime shut down before the task finished");
      } else {
        FatalMisuse(
            "coral::Runtime::BlockOn: the runtime shut down before the task finished, and its "
            "result type cannot carry the cancellation (return absl::Status or absl::StatusOr "
            "to receive CancelledError instead)",
            __FILE__, __LINE__);
      }
    }
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;  // Guarded by mu_.
  // Written by the task before Finish, read by Wait after it: ordered by mu_.
  std::optional<Stored> value_;
  std::exception_ptr exception_;
};

// Finishes the result when destroyed. A parameter of the task's root frame, not a local: a task
// torn down before it started (spawned just before or after shutdown) destroys its parameters but
// never constructed its locals. Move-only; a moved-from one does nothing.
template <typename T>
class FinishOnDestroy {
 public:
  explicit FinishOnDestroy(BlockingResult<T>* result) : result_(result) {}
  FinishOnDestroy(FinishOnDestroy&& other) noexcept
      : result_(std::exchange(other.result_, nullptr)) {}
  FinishOnDestroy& operator=(FinishOnDestroy&&) = delete;
  ~FinishOnDestroy() {
    if (result_ != nullptr) result_->Finish();
  }

  BlockingResult<T>* result() const { return result_; }

 private:
  BlockingResult<T>* result_;
};

template <typename T>
Task<void> RunToBlockingResult(Task<T> task, FinishOnDestroy<T> finish) {
  BlockingResult<T>* result = finish.result();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(task);
      result->SetValue(true);
    } else {
      result->SetValue(co_await std::move(task));
    }
  } catch (...) {
    result->SetException(std::current_exception());
  }
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_BLOCK_ON_H_
