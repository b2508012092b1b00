// Copyright 2026 The coral Authors.
//
// coral::OnceCell<T>: a value initialized once, asynchronously, by whichever task needs it first
// (a lazily opened connection pool, a configuration fetched on first use).
//
//   coral::OnceCell<Pool> pool;
//   absl::StatusOr<const Pool*> p = co_await pool.GetOrInit(
//       []() -> coral::Task<absl::StatusOr<Pool>> { co_return co_await Pool::Connect(kAddress); });
//   if (!p.ok()) co_return p.status();
//
// Initialization. GetOrInit(init) returns the value if it is set. Otherwise exactly one task runs
// init() (in place, as part of its own co_await), and every other task calling GetOrInit meanwhile
// waits for it; when it succeeds they all get the value, and their own init is never called.
// init returns Task<T> or Task<absl::StatusOr<T>>. If it fails (returns an error, throws, or its
// task is cancelled or torn down), the cell stays empty: the error (or exception) goes to the
// initializer's caller only, and the longest-waiting task takes over and runs its own init. Later
// calls try again the same way. Set(value) initializes without waiting, if nobody has.
//
// Fairness: waiting tasks are served in arrival order, and the turn to initialize passes to the
// longest waiter directly, so a newly arriving task cannot overtake the tasks already waiting.
//
// Thread-safety: any task or thread may call Get and Set; GetOrInit must be awaited inside a coral
// task. Once set, the value never changes and Get() is a single atomic load; the value is
// destroyed with the cell.
//
// Misuse: destroying the cell while a task initializes it or waits in GetOrInit aborts with a
// message (a task inside co_await GetOrInit counts from the start, also while it yields its
// worker for the cooperative budget).

#ifndef CORAL_ONCE_CELL_H_
#define CORAL_ONCE_CELL_H_

#include <optional>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/internal/once_cell_core.h"
#include "coral/task.h"

namespace coral {

namespace internal {
absl::Status OnceCellAlreadySet();
absl::Status OnceCellCancelled();
}  // namespace internal

template <typename T>
class OnceCell {
 public:
  OnceCell() = default;
  OnceCell(const OnceCell&) = delete;
  OnceCell& operator=(const OnceCell&) = delete;
  ~OnceCell() = default;  // Aborts while a task initializes or waits (the core checks).

  // The value, or nullptr if it is not set yet.
  const T* Get() const noexcept { return core_.IsSet() ? &*value_ : nullptr; }

  // Sets the value if the cell is empty and nobody is initializing it; otherwise
  // absl::AlreadyExistsError (and `value` is dropped).
  absl::Status Set(T value) {
    if (!core_.TryBeginInitialize()) return internal::OnceCellAlreadySet();
    value_.emplace(std::move(value));
    core_.Release(/*success=*/true);
    return absl::OkStatus();
  }

  // co_await GetOrInit(init): absl::StatusOr<const T*>, the value (see the header comment); the
  // failure of this task's own init; or absl::CancelledError.
  //
  // Cancellation: a task whose token is cancelled while it waits for another's init returns
  // absl::CancelledError and does not initialize; if the turn to initialize was handed to it at
  // the same moment, it takes the turn and runs init (which observes the cancellation itself). An
  // init cancelled while running fails like any other (the next waiter takes over). A task torn
  // down while it waits or initializes passes its turn on.
  template <typename F>
  [[nodiscard]] Task<absl::StatusOr<const T*>> GetOrInit(F init) {
    using Produced = typename std::invoke_result_t<F&>::value_type;
    static_assert(std::is_same_v<Produced, T> || std::is_same_v<Produced, absl::StatusOr<T>>,
                  "coral::OnceCell<T>::GetOrInit: init must return Task<T> or "
                  "Task<absl::StatusOr<T>>");
    if (const T* value = Get()) co_return value;
    switch (co_await core_.Acquire()) {
      case internal::OnceTurn::kSet:
        co_return Get();
      case internal::OnceTurn::kCancelled:
        co_return internal::OnceCellCancelled();
      case internal::OnceTurn::kInitialize:
        break;
    }
    Turn turn(&core_);  // Passes the turn on unless the value gets set.
    Produced produced = co_await init();
    if constexpr (std::is_same_v<Produced, T>) {
      value_.emplace(std::move(produced));
    } else {
      if (!produced.ok()) co_return produced.status();
      value_.emplace(*std::move(produced));
    }
    turn.Succeed();
    co_return &*value_;
  }

 private:
  // The initializer's turn: released with failure when destroyed, unless Succeed() was called.
  class Turn {
   public:
    explicit Turn(internal::OnceCellCore* core) : core_(core) {}
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn() {
      if (core_ != nullptr) core_->Release(/*success=*/false);
    }
    void Succeed() { std::exchange(core_, nullptr)->Release(/*success=*/true); }

   private:
    internal::OnceCellCore* core_;
  };

  // Written once by the initializer before the core publishes it; read only once published.
  std::optional<T> value_;
  // Declared last, destroyed first: its misuse check runs before value_ goes.
  internal::OnceCellCore core_;
};

}  // namespace coral

#endif  // CORAL_ONCE_CELL_H_
