// Copyright 2026 The coral Authors.
//
// What a wait keeps alive, it keeps alive across a budget yield too (coral/internal/budget.h):
// a task that spent its budget retries its operation on its next turn, and the channel, the
// joined task or the oneshot flag it retries on must still be there, whatever happened to the
// handle it borrowed meanwhile. The README's "Ownership and misuse" table, for these windows.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/channel.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/oneshot.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// 128 always-ready awaits: the task's budget for this turn is then spent.
Task<void> ExhaustBudget() {
  Event ready;
  ready.Set();
  for (int i = 0; i < 128; ++i) (void)co_await ready.Wait();
}

// README "Ownership and misuse": Sender/Receiver destroyed while awaited -> "works: the wait
// holds the channel". Here the Recv yields for its budget first.
TEST(BudgetLifetimeTest, ChannelHandlesDroppedWhileRecvYieldsForBudget) {
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    auto [tx, rx] = Channel<int>::Bounded(1);
    std::optional<Sender<int>> sender(std::move(tx));
    std::optional<Receiver<int>> receiver(std::move(rx));
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](Receiver<int>* rx) -> Task<absl::StatusOr<int>> {
          co_await ExhaustBudget();
          co_return co_await rx->Recv();  // Yields for the budget, holding nothing.
        },
        &*receiver);
    co_await Yield();  // The waiter runs, spends its budget and yields behind us.
    receiver.reset();
    sender.reset();
    absl::StatusOr<int> got = co_await std::move(waiter);
    EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
  }());
}

// README: JoinHandle destroyed while awaited -> "works: the waiter still gets the output".
TEST(BudgetLifetimeTest, JoinHandleDroppedWhileJoinYieldsForBudget) {
  Runtime runtime({.num_workers = 1});
  absl::StatusOr<int> got = runtime.BlockOn([]() -> Task<absl::StatusOr<int>> {
    std::optional<JoinHandle<int>> handle;
    handle.emplace(Spawn([]() -> Task<int> { co_return 7; }));
    co_await Yield();  // It finishes; only the handle keeps it.
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](JoinHandle<int>* joined) -> Task<absl::StatusOr<int>> {
          co_await ExhaustBudget();
          co_return co_await *joined;  // Yields for the budget, holding no reference.
        },
        &*handle);
    co_await Yield();
    handle.reset();  // Frees the finished task: nothing else references it.
    co_return co_await std::move(waiter);
  }());
  EXPECT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got.value_or(0), 7);
}


// README: OneshotReceiver destroyed while awaited -> "works". On the heap, so that ASan sees a
// write into the dropped receiver.
TEST(BudgetLifetimeTest, OneshotReceiverOnTheHeapDroppedWhileRecvWaits) {
  Runtime runtime({.num_workers = 1});
  absl::StatusOr<int> got = runtime.BlockOn([]() -> Task<absl::StatusOr<int>> {
    auto [tx, rx] = Oneshot<int>::Make();
    auto sender = std::make_unique<OneshotSender<int>>(std::move(tx));
    auto receiver = std::make_unique<OneshotReceiver<int>>(std::move(rx));
    JoinHandle<absl::StatusOr<int>> waiter = Spawn(
        [](OneshotReceiver<int>* rx) -> Task<absl::StatusOr<int>> {
          co_return co_await rx->Recv();
        },
        receiver.get());
    co_await Yield();  // The waiter runs and waits.
    co_await Yield();
    receiver.reset();
    sender.reset();
    co_return co_await std::move(waiter);
  }());
  EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
}

}  // namespace
}  // namespace coral
