// Copyright 2026 The coral Authors.
//
// Operation-sequence fuzzer of the wait-queue protocol (coral/internal/wait_queue.h,
// sync/wait_queue.cc) through two of its users: Semaphore (weighted FIFO grants) and AsyncMutex
// (a direct hand-off, modelled as one permit). It exercises cancellation of a waiter
// (QueuedWait::OnCancel), abort of a waiting or granted task (AbandonWait; the mutex passes a lock
// handed to an aborted waiter on) and the re-grant after a removal (WaitSite::after_removal). The
// input's first byte picks the primitive (and the semaphore's permits). A driver task on a
// one-worker runtime runs
// the input's program; waiter tasks run only when the driver yields ("settle"), so every grant
// and cancellation happens at a known point of the program and a reference model can follow it
// (a waiter awaits once in its turn, so the cooperative budget never makes it yield instead):
//   acquire n      spawn waiter i (own cancellation source) doing Acquire(n) or Lock(); settle
//   release n      Semaphore::Release(n) (nothing for the mutex)
//   cancel i       waiter i's source.Cancel(): removes it if still queued; a grant already made
//                  wins and the waiter gets its permits
//   abort i        JoinHandle::Abort(): at the next settle the task is torn down; queued, it
//                  leaves the queue; granted but not yet resumed, it gives the permits back
//   return i       drops the permit (or the lock's guard) waiter i obtained
//   try n          TryAcquire(n) or TryLock(): succeeds only with nobody queued and n permits
//                  free
//   settle         the driver yields until every waiter the model says was woken has finished
// Checked against the model: the free permits after every operation; at each settle, each waiter's
// outcome (still waiting, holding exactly its permits, CancelledError, or torn down without
// resuming); a woken waiter that never runs is a lost wake-up. At the end every waiter is
// cancelled and every permit returned: available() must be the initial permits plus all
// released, and no waiter may remain.

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/async_mutex.h"
#include "coral/cancellation.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/semaphore.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"

namespace coral {
namespace {

constexpr size_t kMaxWaiters = 24;
// Yields a settle may take before a woken waiter that has not run counts as lost.
constexpr int kMaxSettleYields = 1000;

enum class State {
  kWaiting,    // Queued.
  kGranted,    // Granted, not yet resumed.
  kCancelled,  // Removed by its cancellation, not yet resumed.
  kHolding,    // Resumed with its permits (in Slot::permit).
  kDone,       // Resumed with CancelledError, torn down, or its permits returned.
};

// The primitive under test, as permits: a Semaphore, or an AsyncMutex (one permit, every request
// for one).
class SemaphoreUnderTest {
 public:
  using Held = Semaphore::Permit;
  static constexpr bool kWeighted = true;

  explicit SemaphoreUnderTest(int64_t permits) : semaphore_(permits) {}

  auto Acquire(int64_t n) { return semaphore_.Acquire(n); }
  std::optional<Held> TryAcquire(int64_t n) { return semaphore_.TryAcquire(n); }
  void Release(int64_t n) { semaphore_.Release(n); }
  int64_t available() const { return semaphore_.available(); }
  static int64_t Count(const Held& held) { return held.count(); }

 private:
  Semaphore semaphore_;
};

class MutexUnderTest {
 public:
  using Held = AsyncMutex::Guard;
  static constexpr bool kWeighted = false;

  explicit MutexUnderTest(int64_t /*permits: always 1*/) {}

  auto Acquire(int64_t /*n: always 1*/) { return mutex_.Lock(); }
  std::optional<Held> TryAcquire(int64_t /*n*/) { return mutex_.TryLock(); }
  void Release(int64_t /*n*/) {}  // Only the holder releases a mutex.
  // Free if TryLock succeeds; the guard unlocks at once, which hands nothing over: TryLock fails
  // while anyone waits.
  int64_t available() { return mutex_.TryLock().has_value() ? 1 : 0; }
  static int64_t Count(const Held& held) { return held.owns_lock() ? 1 : 0; }

 private:
  AsyncMutex mutex_;
};

// What the harness and a waiter task share.
template <typename Primitive>
struct Slot {
  CancellationSource source;
  JoinHandle<void> handle;
  int64_t weight = 0;
  bool started = false;
  bool resumed = false;
  bool finished = false;  // Set by the task's last local's destructor, also on teardown.
  std::optional<typename Primitive::Held> permit;
  absl::Status status;
};

// Marks the slot finished when the waiter's frame goes, however it goes.
struct FinishedMark {
  explicit FinishedMark(bool* finished) : finished(finished) {}
  ~FinishedMark() { *finished = true; }
  bool* finished;
};

template <typename Primitive>
Task<void> AcquireInto(Primitive* primitive, Slot<Primitive>* slot) {
  FinishedMark mark(&slot->finished);
  slot->started = true;
  absl::StatusOr<typename Primitive::Held> permit = co_await primitive->Acquire(slot->weight);
  slot->resumed = true;
  if (permit.ok()) {
    slot->permit.emplace(std::move(*permit));
  } else {
    slot->status = permit.status();
  }
}

template <typename Primitive>
class Harness {
 public:
  explicit Harness(int64_t permits)
      : primitive_(permits), initial_(permits), model_permits_(permits) {}

  // The primitive may go only once no waiter and no permit is left (it aborts otherwise).
  ~Harness() {
    for (size_t i = 0; i < count_; ++i) slots_[i].permit.reset();
  }

  Task<void> Acquire(int64_t weight) {
    if (count_ == kMaxWaiters) co_return;
    co_await Settle();
    const size_t i = count_++;
    Slot<Primitive>& slot = slots_[i];
    slot.weight = Primitive::kWeighted ? weight : 1;
    slot.handle = Spawn(
        [](Primitive* primitive, Slot<Primitive>* slot) -> Task<void> {
          co_await WithCancellation(slot->source.token(), AcquireInto(primitive, slot));
        },
        &primitive_, &slot);
    aborted_[i] = false;
    if (model_queue_.empty() && model_permits_ >= slot.weight) {
      model_permits_ -= slot.weight;
      state_[i] = State::kHolding;
    } else {
      model_queue_.push_back(i);
      state_[i] = State::kWaiting;
    }
    co_await Settle();
  }

  void Release(int64_t n) {
    if (!Primitive::kWeighted) return;
    primitive_.Release(n);
    released_ += n;
    model_permits_ += n;
    ModelGrant();
  }

  void Cancel(size_t i) {
    if (i >= count_) return;
    slots_[i].source.Cancel();
    if (state_[i] == State::kWaiting) {
      RemoveFromModelQueue(i);
      state_[i] = State::kCancelled;
      ModelGrant();
    }
  }

  void Abort(size_t i) {
    if (i >= count_) return;
    slots_[i].handle.Abort();
    if (state_[i] == State::kWaiting || state_[i] == State::kGranted ||
        state_[i] == State::kCancelled) {
      aborted_[i] = true;
    }
  }

  void Return(size_t i) {
    if (i >= count_ || state_[i] != State::kHolding) return;
    slots_[i].permit.reset();
    model_permits_ += slots_[i].weight;
    state_[i] = State::kDone;
    ModelGrant();
  }

  void Try(int64_t n) {
    if (!Primitive::kWeighted) n = 1;
    std::optional<typename Primitive::Held> permit = primitive_.TryAcquire(n);
    const bool expected = model_queue_.empty() && model_permits_ >= n;
    FUZZ_CHECK(permit.has_value() == expected,
               "TryAcquire succeeds exactly when nobody waits and the permits are free");
    if (permit.has_value()) {
      FUZZ_CHECK(Primitive::Count(*permit) == n, "TryAcquire takes what it asked");
    }
    // The permit returns here; with nobody queued that grants nothing.
  }

  // Lets every waiter woken so far run (and every aborted one be torn down), then checks each
  // waiter's outcome against the model.
  Task<void> Settle() {
    // The teardowns of aborted tasks, in any order: removals and returned permits commute
    // (a grant needs only that the permits added so far cover the queue's head).
    for (size_t i = 0; i < count_; ++i) {
      if (!aborted_[i]) continue;
      aborted_[i] = false;
      if (state_[i] == State::kWaiting) RemoveFromModelQueue(i);
      if (state_[i] == State::kGranted) model_permits_ += slots_[i].weight;
      state_[i] = State::kDone;
      torn_down_[i] = true;
      ModelGrant();
    }
    for (size_t i = 0; i < count_; ++i) {
      if (state_[i] == State::kGranted) state_[i] = State::kHolding;
      if (state_[i] == State::kCancelled) state_[i] = State::kDone;
    }
    int yields = 0;
    while (!Settled()) {
      FUZZ_CHECK(++yields <= kMaxSettleYields, "every woken waiter runs (no lost wake-up)");
      co_await Yield();
    }
    for (size_t i = 0; i < count_; ++i) CheckOutcome(i);
    CheckPermits();
  }

  void CheckPermits() {
    FUZZ_CHECK(primitive_.available() == model_permits_, "the free permits match the model");
  }

  // Cancels every waiter, returns every permit: nothing may be left over.
  Task<void> Finish() {
    for (size_t i = 0; i < count_; ++i) Cancel(i);
    co_await Settle();
    for (size_t i = 0; i < count_; ++i) {
      FUZZ_CHECK(state_[i] == State::kHolding || state_[i] == State::kDone,
                 "a cancelled waiter leaves the queue");
      Return(i);
    }
    FUZZ_CHECK(model_permits_ == initial_ + released_, "the model conserves permits");
    CheckPermits();
  }

 private:
  bool Settled() const {
    for (size_t i = 0; i < count_; ++i) {
      if (!slots_[i].started && !torn_down_[i]) return false;
      if (state_[i] != State::kWaiting && !slots_[i].finished) return false;
    }
    return true;
  }

  void CheckOutcome(size_t i) {
    const Slot<Primitive>& slot = slots_[i];
    switch (state_[i]) {
      case State::kWaiting:
        FUZZ_CHECK(!slot.finished, "a queued waiter waits");
        break;
      case State::kHolding:
        FUZZ_CHECK(slot.permit.has_value() && Primitive::Count(*slot.permit) == slot.weight,
                   "a granted waiter holds exactly its permits");
        break;
      case State::kDone:
        FUZZ_CHECK(slot.finished, "a finished waiter's task is gone");
        if (torn_down_[i]) {
          FUZZ_CHECK(!slot.resumed, "an aborted waiter is torn down without resuming");
        } else if (slot.resumed && !slot.status.ok()) {
          FUZZ_CHECK(absl::IsCancelled(slot.status), "a cancelled waiter gets CancelledError");
        }
        FUZZ_CHECK(!slot.permit.has_value(), "a finished waiter holds no permit");
        break;
      case State::kGranted:
      case State::kCancelled:
        FUZZ_CHECK(false, "settled");
    }
  }

  // Grants the model's queue from its head while the free permits cover the head (FIFO, no
  // barging).
  void ModelGrant() {
    while (!model_queue_.empty() && slots_[model_queue_.front()].weight <= model_permits_) {
      const size_t i = model_queue_.front();
      model_queue_.pop_front();
      model_permits_ -= slots_[i].weight;
      state_[i] = State::kGranted;
    }
  }

  void RemoveFromModelQueue(size_t i) {
    for (auto it = model_queue_.begin(); it != model_queue_.end(); ++it) {
      if (*it == i) {
        model_queue_.erase(it);
        return;
      }
    }
    FUZZ_CHECK(false, "a waiting waiter is in the model's queue");
  }

  Primitive primitive_;
  std::array<Slot<Primitive>, kMaxWaiters> slots_;
  size_t count_ = 0;
  int64_t initial_ = 0;
  int64_t released_ = 0;
  // The model.
  int64_t model_permits_;
  std::deque<size_t> model_queue_;
  std::array<State, kMaxWaiters> state_{};
  std::array<bool, kMaxWaiters> aborted_{};    // Abort() called, teardown not yet modelled.
  std::array<bool, kMaxWaiters> torn_down_{};  // Aborted before it resumed.
};

template <typename Primitive>
Task<void> Run(fuzz::FuzzInput& input, int64_t permits) {
  Harness<Primitive> harness(permits);
  while (!input.done()) {
    switch (input.Below(7)) {
      case 0:
        co_await harness.Acquire(1 + input.Below(4));
        break;
      case 1:
        harness.Release(1 + input.Below(4));
        break;
      case 2:
        harness.Cancel(input.Below(kMaxWaiters));
        break;
      case 3:
        harness.Abort(input.Below(kMaxWaiters));
        break;
      case 4:
        harness.Return(input.Below(kMaxWaiters));
        break;
      case 5:
        harness.Try(1 + input.Below(4));
        break;
      case 6:
        co_await harness.Settle();
        break;
    }
    harness.CheckPermits();
  }
  co_await harness.Finish();
}

Task<void> Drive(const uint8_t* data, size_t size) {
  fuzz::FuzzInput input(data, size);
  const uint8_t primitive = input.Byte();
  if (primitive & 4) {
    co_await Run<MutexUnderTest>(input, 1);
  } else {
    co_await Run<SemaphoreUnderTest>(input, primitive % 4);
  }
}

}  // namespace
}  // namespace coral

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One worker, so waiters run only when the driver yields. Made once: a runtime per input
  // would dominate the run time; every input leaves it with no task.
  static coral::Runtime* runtime = new coral::Runtime({.num_workers = 1});
  runtime->BlockOn(coral::Drive(data, size));
  return 0;
}
