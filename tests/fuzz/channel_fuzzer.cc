// Copyright 2026 The coral Authors.
//
// Operation-sequence fuzzer of Channel<T> (coral/channel.h), bounded (capacity 1 to 8) and
// unbounded, through its public API, against a reference model of std::deques. As in
// wait_queue_fuzzer.cc, a driver task on a one-worker runtime runs the input's program and the
// sender and receiver tasks it spawns run only when it yields ("settle"), so every hand-over,
// cancellation and close happens at a known point of the program (a task awaits once in its turn,
// so the cooperative budget never makes it yield instead):
//   send / recv        spawn a task doing co_await Send(next value) / Recv(), with its own
//                      cancellation source; settle
//   try_send / try_recv  TrySend / TryRecv from the driver
//   cancel i           task i's source.Cancel(): a waiting Send returns CancelledError with its
//                      value unsent, a waiting Recv CancelledError; a hand-over already made wins
//   abort i            JoinHandle::Abort(); torn down at the next settle: a waiting sender's value
//                      goes with it, a receiver handed a value it never resumed to see puts it
//                      back at the head of the channel
//   close              Close(): waiting senders get FailedPrecondition and their value back,
//                      waiting receivers OutOfRange; receivers still drain what is buffered
//   settle             the driver yields until every woken task has finished
// The model follows the channel's documented rules: FIFO values and FIFO waiters; a value goes
// straight to a waiting receiver; a full bounded channel's senders wait and are let in once a
// receive leaves the buffer at most half full. Every outcome (status, value received, value
// returned unsent) is checked against the model, and at the end, after a close and a drain, each
// value sent was received exactly once, returned unsent, or went with an aborted sender.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"

namespace coral {
namespace {

using Value = int64_t;

constexpr size_t kMaxTasks = 32;
// Yields a settle may take before a woken task that has not run counts as lost.
constexpr int kMaxSettleYields = 1000;

// What the harness and a sender or receiver task share.
struct Slot {
  bool sender = false;
  CancellationSource source;
  JoinHandle<void> handle;
  Value value = 0;  // A sender's.
  bool started = false;
  bool resumed = false;
  bool finished = false;  // Set by the task's last local's destructor, also on teardown.
  absl::Status status;
  std::optional<Value> received;  // A receiver's value.
  std::optional<Value> unsent;    // A sender's value handed back.
};

// Marks the slot finished when the task's frame goes, however it goes.
struct FinishedMark {
  explicit FinishedMark(Slot* slot) : slot(slot) {}
  ~FinishedMark() { slot->finished = true; }
  Slot* slot;
};

Task<void> SendFrom(Sender<Value> tx, Slot* slot) {
  FinishedMark mark(slot);
  slot->started = true;
  SendResult<Value> result = co_await tx.Send(slot->value);
  slot->resumed = true;
  slot->status = result.status;
  slot->unsent = result.unsent;
}

Task<void> RecvInto(Receiver<Value> rx, Slot* slot) {
  FinishedMark mark(slot);
  slot->started = true;
  absl::StatusOr<Value> value = co_await rx.Recv();
  slot->resumed = true;
  if (value.ok()) {
    slot->received = *value;
  } else {
    slot->status = value.status();
  }
}

enum class State {
  kWaiting,  // Queued in the channel.
  kWoken,    // Its outcome is decided (expected_*); not yet resumed.
  kDone,     // Resumed (or torn down) with its outcome checked.
};

class Harness {
 public:
  // capacity 0: unbounded.
  explicit Harness(size_t capacity)
      : capacity_(capacity),
        channel_(capacity == 0 ? Channel<Value>::Unbounded() : Channel<Value>::Bounded(capacity)) {}

  Task<void> SpawnSender() {
    if (count_ == kMaxTasks) co_return;
    co_await Settle();
    const size_t i = count_++;
    Slot& slot = slots_[i];
    slot.sender = true;
    slot.value = next_value_++;
    slot.handle = Spawn(
        [](Sender<Value> tx, Slot* slot) -> Task<void> {
          co_await WithCancellation(slot->source.token(), SendFrom(std::move(tx), slot));
        },
        channel_.first, &slot);
    ModelSend(i, slot.value);
    co_await Settle();
  }

  Task<void> SpawnReceiver() {
    if (count_ == kMaxTasks) co_return;
    co_await Settle();
    const size_t i = count_++;
    Slot& slot = slots_[i];
    slot.handle = Spawn(
        [](Receiver<Value> rx, Slot* slot) -> Task<void> {
          co_await WithCancellation(slot->source.token(), RecvInto(std::move(rx), slot));
        },
        channel_.second, &slot);
    ModelRecv(i);
    co_await Settle();
  }

  void TrySend() {
    const Value value = next_value_++;
    SendResult<Value> result = channel_.first.TrySend(value);
    std::optional<Value> expected_unsent;
    absl::StatusCode expected = absl::StatusCode::kOk;
    if (closed_) {
      expected = absl::StatusCode::kFailedPrecondition;
    } else if (!receivers_.empty()) {
      GrantReceiver(value);
    } else if (HasRoom()) {
      buffer_.push_back(value);
    } else {
      expected = absl::StatusCode::kUnavailable;
    }
    if (expected != absl::StatusCode::kOk) {
      expected_unsent = value;
      returned_.push_back(value);
    }
    FUZZ_CHECK(result.status.code() == expected, "TrySend's status matches the model");
    FUZZ_CHECK(result.unsent == expected_unsent, "TrySend returns exactly the value not sent");
  }

  void TryRecv() {
    absl::StatusOr<Value> value = channel_.second.TryRecv();
    std::optional<Value> expected = ModelPop();
    if (expected.has_value()) {
      FUZZ_CHECK(value.ok() && *value == *expected, "TryRecv returns the oldest value");
      received_.push_back(*value);
      return;
    }
    FUZZ_CHECK(value.status().code() ==
                   (closed_ ? absl::StatusCode::kOutOfRange : absl::StatusCode::kUnavailable),
               "TryRecv of an empty channel: Unavailable, OutOfRange once closed");
  }

  void Cancel(size_t i) {
    if (i >= count_) return;
    slots_[i].source.Cancel();
    if (state_[i] != State::kWaiting) return;  // A hand-over already made wins.
    RemoveWaiter(i);
    state_[i] = State::kWoken;
    expected_[i] = absl::StatusCode::kCancelled;
    if (slots_[i].sender) expected_value_[i] = slots_[i].value;
  }

  Task<void> Abort(size_t i) {
    if (i >= count_) co_return;
    // One teardown per settle, after every earlier wake-up ran: a torn-down receiver's value is
    // re-offered, and nothing else may race it for the head of the channel.
    co_await Settle();
    slots_[i].handle.Abort();
    if (state_[i] != State::kDone) aborted_ = i;
  }

  Task<void> Close() {
    // Receivers woken by the close look at the buffer once more: not in the same settle as a
    // teardown that re-offers a value.
    if (aborted_.has_value()) co_await Settle();
    channel_.first.Close();
    if (closed_) co_return;
    closed_ = true;
    for (const size_t i : senders_) {
      state_[i] = State::kWoken;
      expected_[i] = absl::StatusCode::kFailedPrecondition;
      expected_value_[i] = slots_[i].value;
    }
    for (const size_t i : receivers_) {
      state_[i] = State::kWoken;
      expected_[i] = absl::StatusCode::kOutOfRange;
    }
    senders_.clear();
    receivers_.clear();
  }

  // Runs the pending teardown and every woken task, then checks their outcomes.
  Task<void> Settle() {
    if (aborted_.has_value()) {
      const size_t i = *std::exchange(aborted_, std::nullopt);
      if (state_[i] == State::kWaiting) {
        RemoveWaiter(i);
        if (slots_[i].sender) lost_.push_back(slots_[i].value);  // Its value goes with it.
      } else if (slots_[i].sender) {
        // Delivered (the send stands), or handed back to a frame that is going.
        if (expected_[i] != absl::StatusCode::kOk) lost_.push_back(slots_[i].value);
      } else if (expected_[i] == absl::StatusCode::kOk) {
        Reoffer(*expected_value_[i]);  // Handed over, never seen: back to the head.
      }
      state_[i] = State::kDone;
      torn_down_[i] = true;
    }
    int yields = 0;
    while (!Settled()) {
      FUZZ_CHECK(++yields <= kMaxSettleYields, "every woken task runs (no lost wake-up)");
      co_await Yield();
    }
    for (size_t i = 0; i < count_; ++i) {
      if (state_[i] == State::kWoken) {
        CheckOutcome(i);
        state_[i] = State::kDone;
      } else if (state_[i] == State::kWaiting) {
        FUZZ_CHECK(!slots_[i].finished, "a task the model has waiting still waits");
      } else if (torn_down_[i]) {
        FUZZ_CHECK(!slots_[i].resumed, "an aborted task is torn down without resuming");
      }
    }
  }

  // Closes, drains, and accounts for every value.
  Task<void> Finish() {
    co_await Settle();
    co_await Close();
    co_await Settle();
    for (;;) {
      absl::StatusOr<Value> value = channel_.second.TryRecv();
      std::optional<Value> expected = ModelPop();
      if (!expected.has_value()) {
        FUZZ_CHECK(absl::IsOutOfRange(value.status()), "a drained closed channel: OutOfRange");
        break;
      }
      FUZZ_CHECK(value.ok() && *value == *expected, "the drain returns the oldest value");
      received_.push_back(*value);
    }
    std::vector<int> seen(next_value_, 0);
    for (const auto* values : {&received_, &returned_, &lost_}) {
      for (const Value value : *values) ++seen[value];
    }
    for (const int times : seen) {
      FUZZ_CHECK(times == 1, "every value is received, returned or aborted exactly once");
    }
  }

 private:
  bool HasRoom() const { return capacity_ == 0 || buffer_.size() < capacity_; }

  // A task's first run: Send(value).
  void ModelSend(size_t i, Value value) {
    expected_value_[i] = std::nullopt;
    if (closed_) {
      Decide(i, absl::StatusCode::kFailedPrecondition, value);
    } else if (!receivers_.empty()) {
      GrantReceiver(value);
      Decide(i, absl::StatusCode::kOk, std::nullopt);
    } else if (HasRoom()) {
      buffer_.push_back(value);
      Decide(i, absl::StatusCode::kOk, std::nullopt);
    } else {
      senders_.push_back(i);
      state_[i] = State::kWaiting;
    }
  }

  // A task's first run: Recv().
  void ModelRecv(size_t i) {
    if (std::optional<Value> value = ModelPop()) {
      Decide(i, absl::StatusCode::kOk, value);
    } else if (closed_) {
      Decide(i, absl::StatusCode::kOutOfRange, std::nullopt);
    } else {
      receivers_.push_back(i);
      state_[i] = State::kWaiting;
    }
  }

  // A task that completes on its first run: checked at the settle that follows.
  void Decide(size_t i, absl::StatusCode code, std::optional<Value> value) {
    state_[i] = State::kWoken;
    expected_[i] = code;
    expected_value_[i] = value;
  }

  void GrantReceiver(Value value) {
    FUZZ_CHECK(buffer_.empty() && spilled_.empty(), "receivers wait only on an empty channel");
    const size_t r = receivers_.front();
    receivers_.pop_front();
    state_[r] = State::kWoken;
    expected_[r] = absl::StatusCode::kOk;
    expected_value_[r] = value;
  }

  // The oldest value (re-offered ones first); a pop that leaves a bounded buffer at most half
  // full lets the waiting senders in, in order, while there is room.
  std::optional<Value> ModelPop() {
    if (!spilled_.empty()) {
      const Value value = spilled_.front();
      spilled_.pop_front();
      return value;
    }
    if (buffer_.empty()) return std::nullopt;
    const Value value = buffer_.front();
    buffer_.pop_front();
    if (!senders_.empty() && buffer_.size() <= capacity_ / 2) {
      while (!senders_.empty() && HasRoom()) {
        const size_t s = senders_.front();
        senders_.pop_front();
        buffer_.push_back(slots_[s].value);
        state_[s] = State::kWoken;
        expected_[s] = absl::StatusCode::kOk;
        expected_value_[s] = std::nullopt;
      }
    }
    return value;
  }

  // A value handed to a receiver torn down before it resumed: to the first waiting receiver,
  // else ahead of the buffer.
  void Reoffer(Value value) {
    if (!receivers_.empty()) {
      GrantReceiver(value);
    } else {
      spilled_.push_back(value);
    }
  }

  void RemoveWaiter(size_t i) {
    std::deque<size_t>& queue = slots_[i].sender ? senders_ : receivers_;
    for (auto it = queue.begin(); it != queue.end(); ++it) {
      if (*it == i) {
        queue.erase(it);
        return;
      }
    }
    FUZZ_CHECK(false, "a waiting task is in the model's queue");
  }

  bool Settled() const {
    for (size_t i = 0; i < count_; ++i) {
      if (!slots_[i].started && !torn_down_[i]) return false;
      if (state_[i] != State::kWaiting && !slots_[i].finished) return false;
    }
    return true;
  }

  void CheckOutcome(size_t i) {
    const Slot& slot = slots_[i];
    FUZZ_CHECK(slot.finished && slot.resumed, "a woken task resumes and finishes");
    FUZZ_CHECK(slot.status.code() == expected_[i], "a task's status matches the model");
    if (slot.sender) {
      FUZZ_CHECK(slot.unsent == expected_value_[i], "a sender gets back exactly what was unsent");
      if (slot.unsent.has_value()) returned_.push_back(*slot.unsent);
    } else {
      FUZZ_CHECK(slot.received == expected_value_[i], "a receiver gets the model's value");
      if (slot.received.has_value()) received_.push_back(*slot.received);
    }
  }

  const size_t capacity_;
  std::pair<Sender<Value>, Receiver<Value>> channel_;
  std::array<Slot, kMaxTasks> slots_;
  size_t count_ = 0;
  Value next_value_ = 0;
  // Where each value ended up, as observed.
  std::vector<Value> received_;
  std::vector<Value> returned_;
  std::vector<Value> lost_;  // With an aborted sender.
  // The model.
  bool closed_ = false;
  std::deque<Value> buffer_;
  std::deque<Value> spilled_;
  std::deque<size_t> senders_;
  std::deque<size_t> receivers_;
  std::array<State, kMaxTasks> state_{};
  std::array<absl::StatusCode, kMaxTasks> expected_{};
  std::array<std::optional<Value>, kMaxTasks> expected_value_{};
  std::optional<size_t> aborted_;  // Abort() called, teardown not yet modelled.
  std::array<bool, kMaxTasks> torn_down_{};
};

Task<void> Drive(const uint8_t* data, size_t size) {
  fuzz::FuzzInput input(data, size);
  Harness harness(input.Below(9));
  while (!input.done()) {
    const uint32_t op = input.Below(16);
    if (op < 3) {
      co_await harness.SpawnSender();
    } else if (op < 6) {
      co_await harness.SpawnReceiver();
    } else if (op < 8) {
      harness.TrySend();
    } else if (op < 10) {
      harness.TryRecv();
    } else if (op < 12) {
      harness.Cancel(input.Below(kMaxTasks));
    } else if (op < 13) {
      co_await harness.Abort(input.Below(kMaxTasks));
    } else if (op < 14) {
      co_await harness.Close();
    } else {
      co_await harness.Settle();
    }
  }
  co_await harness.Finish();
}

}  // namespace
}  // namespace coral

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One worker, so tasks run only when the driver yields. Made once: a runtime per input would
  // dominate the run time; every input leaves it with no task.
  static coral::Runtime* runtime = new coral::Runtime({.num_workers = 1});
  runtime->BlockOn(coral::Drive(data, size));
  return 0;
}
