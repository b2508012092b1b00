// Copyright 2026 The coral Authors.
//
// coral::Select: waits on several channel receives at once.
//
//   absl::StatusOr<coral::SelectResult<Job, Command>> got = co_await coral::Select(jobs, commands);
//   if (!got.ok()) co_return got.status();               // Cancelled.
//   if (got->index == 0) Handle(*std::get<0>(got->value));  // absl::StatusOr<Job>
//
// Exactly one branch completes: the first receiver to have a value, or to be closed and drained
// (its result is then absl::OutOfRangeError). When several are ready at once, the earliest in the
// argument list wins. The losing branches consume nothing: a value is handed to a Select only
// after the Select has been claimed for that branch, atomically, so a message sent to a losing
// branch stays in its channel for the next receiver.
//
// A waiting Select keeps its channels alive, so the receivers may be dropped meanwhile; a
// moved-from receiver aborts with a message.
//
// Cancellation: the current task's token is one more branch. If it is cancelled before any
// channel completes, Select returns absl::CancelledError and consumed nothing. A task aborted
// after a branch won puts the value it was handed back into that channel.

#ifndef CORAL_SELECT_H_
#define CORAL_SELECT_H_

#include <cstddef>
#include <variant>

#include "absl/status/statusor.h"
#include "coral/channel.h"
#include "coral/internal/select_awaiter.h"

namespace coral {

// What a Select yields: the branch that completed and its receive result.
template <typename... Ts>
struct SelectResult {
  size_t index;                               // The branch that completed.
  std::variant<absl::StatusOr<Ts>...> value;  // Its receive result, at that index.
};

// co_await Select(rx...): absl::StatusOr<SelectResult<Ts...>> (see the header comment).
template <typename... Ts>
internal::SelectAwaiter<Ts...> Select(Receiver<Ts>&... receivers) {
  static_assert(sizeof...(Ts) >= 1, "coral::Select needs at least one receiver");
  return internal::SelectAwaiter<Ts...>(internal::ChannelAccess::SelectState(receivers)...);
}

}  // namespace coral

#endif  // CORAL_SELECT_H_
