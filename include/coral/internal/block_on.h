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

#include "coral/internal/check.h"
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

  // Called exactly once, when the task's frame is destroyed (finished or torn down).
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
    CORAL_CHECK(value_.has_value(),
                "coral::Runtime was shut down while another thread was blocked in BlockOn");
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

template <typename T>
struct FinishOnDestroy {
  BlockingResult<T>* result;
  ~FinishOnDestroy() { result->Finish(); }
};

template <typename T>
Task<void> RunToBlockingResult(Task<T> task, BlockingResult<T>* result) {
  FinishOnDestroy<T> finish{result};
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
