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
// SelectAny, below, selects over a runtime-sized set of receivers of one type, fairly.
//
// Cancellation: the current task's token is one more branch. If it is cancelled before any
// channel completes, Select returns absl::CancelledError and consumed nothing. A task aborted
// after a branch won puts the value it was handed back into that channel.

#ifndef CORAL_SELECT_H_
#define CORAL_SELECT_H_

#include <cstddef>
#include <span>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "coral/channel.h"
#include "coral/internal/check.h"
#include "coral/internal/select_awaiter.h"
#include "coral/internal/select_many_awaiter.h"

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

// What a SelectAny yields: the receiver that completed (its index in the span) and its result.
template <typename T>
struct SelectAnyResult {
  size_t index;
  absl::StatusOr<T> value;  // absl::OutOfRangeError if that channel is closed and drained.
};

// co_await SelectAny(receivers): absl::StatusOr<SelectAnyResult<T>>. Select over a set of
// receivers of one type whose size is known only at run time (a task per connection, a receiver
// per shard). Exactly one receiver completes, as with Select: the first to have a value or to be
// closed and drained; the others consume nothing; a waiting SelectAny keeps the channels alive.
//
// Fairness: unlike Select's argument order, the receivers ready at once are tried from a start
// chosen at random for each SelectAny, so each wins with equal chance: a closed, drained receiver
// (always ready) does not win every round while others have values. Remove a receiver once it
// reports OutOfRange, or it keeps winning its share of rounds.
//
// Cancellation: as Select's; the current task's token is one more branch. Cancelled before any
// receiver completes: absl::CancelledError, nothing consumed. A task aborted after a branch won
// puts the value back into that channel.
//
// Misuse (aborts with a message): an empty set (it could never complete), a moved-from receiver.
// The receivers are only borrowed for the call: the span may go once the co_await has begun.
template <typename T>
internal::SelectManyAwaiter<T> SelectAny(std::span<Receiver<T>> receivers) {
  CORAL_CHECK(!receivers.empty(), "coral::SelectAny over no receivers would never complete");
  std::vector<internal::ChannelState<T>*> channels;
  channels.reserve(receivers.size());
  for (Receiver<T>& receiver : receivers) {
    channels.push_back(internal::ChannelAccess::SelectState(receiver));
  }
  return internal::SelectManyAwaiter<T>(std::move(channels),
                                        internal::SelectStart(receivers.size()));
}
template <typename T>
internal::SelectManyAwaiter<T> SelectAny(std::vector<Receiver<T>>& receivers) {
  return SelectAny(std::span<Receiver<T>>(receivers));
}

}  // namespace coral

#endif  // CORAL_SELECT_H_
