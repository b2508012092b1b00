// Copyright 2026 The coral Authors.
//
// SelectAny over a runtime-sized set of receivers: a ready branch wins and the others consume
// nothing, a waiting SelectAny is woken by a send, a closed and drained branch does not win every
// round, cancellation, and misuse.

#include <array>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(SelectAnyTest, ReadyBranchWinsOthersConsumeNothing) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> {
    std::vector<Sender<int>> senders;
    std::vector<Receiver<int>> receivers;
    for (int i = 0; i < 5; ++i) {
      auto [tx, rx] = Channel<int>::Bounded(4);
      senders.push_back(std::move(tx));
      receivers.push_back(std::move(rx));
    }
    EXPECT_TRUE(senders[3].TrySend(30).ok());
    absl::StatusOr<SelectAnyResult<int>> got = co_await SelectAny(receivers);
    EXPECT_EQ(got->index, 3u);
    EXPECT_EQ(*got->value, 30);

    EXPECT_TRUE(senders[1].TrySend(10).ok());
    EXPECT_TRUE(senders[4].TrySend(40).ok());
    got = co_await SelectAny(receivers);
    // The loser still has its value.
    const size_t loser = got->index == 1 ? 4 : 1;
    EXPECT_EQ(*got->value, static_cast<int>(got->index) * 10);
    EXPECT_EQ(*receivers[loser].TryRecv(), static_cast<int>(loser) * 10);
  }());
}

TEST(SelectAnyTest, WaitsUntilASendThenWakes) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> {
    std::vector<Sender<int>> senders;
    std::vector<Receiver<int>> receivers;
    for (int i = 0; i < 8; ++i) {
      auto [tx, rx] = Channel<int>::Unbounded();
      senders.push_back(std::move(tx));
      receivers.push_back(std::move(rx));
    }
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      co_await Yield();
      (void)co_await senders[6].Send(66);
    });
    absl::StatusOr<SelectAnyResult<int>> got = co_await SelectAny(receivers);
    EXPECT_EQ(got->index, 6u);
    EXPECT_EQ(*got->value, 66);
    (void)co_await group.Join();
    for (Receiver<int>& rx : receivers) EXPECT_TRUE(absl::IsUnavailable(rx.TryRecv().status()));
  }());
}

TEST(SelectAnyTest, ClosedDrainedBranchDoesNotWinEveryRound) {
  constexpr int kRounds = 200;
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([]() -> Task<void> {
    auto [closed_tx, closed_rx] = Channel<int>::Bounded(1);
    closed_tx.Close();
    auto [busy_tx, busy_rx] = Channel<int>::Unbounded();
    for (int i = 0; i < kRounds; ++i) EXPECT_TRUE(busy_tx.TrySend(i).ok());
    std::array<Receiver<int>, 2> receivers = {closed_rx, busy_rx};
    std::array<int, 2> wins = {0, 0};
    int next_value = 0;
    for (int round = 0; round < kRounds; ++round) {
      absl::StatusOr<SelectAnyResult<int>> got =
          co_await SelectAny(std::span<Receiver<int>>(receivers));
      ++wins[got->index];
      if (got->index == 0) {
        EXPECT_TRUE(absl::IsOutOfRange(got->value.status()));
      } else {
        EXPECT_EQ(*got->value, next_value++);  // In order, none lost to the closed branch.
      }
    }
    // Each wins about half the rounds (the chance that either wins none is 2^-199).
    EXPECT_GT(wins[0], 0);
    EXPECT_GT(wins[1], 0);
  }());
}

TEST(SelectAnyTest, CancelledSelectConsumesNothing) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([]() -> Task<void> {
    auto [tx, rx] = Channel<int>::Bounded(1);
    std::vector<Receiver<int>> receivers = {rx, rx};
    CancellationSource source;
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<SelectAnyResult<int>> got = co_await WithCancellation(
          source.token(), [&]() -> Task<absl::StatusOr<SelectAnyResult<int>>> {
            co_return co_await SelectAny(receivers);
          }());
      EXPECT_TRUE(absl::IsCancelled(got.status())) << got.status();
    });
    co_await Yield();
    source.Cancel();
    (void)co_await group.Join();
    EXPECT_TRUE(tx.TrySend(1).ok());
    EXPECT_EQ(*rx.TryRecv(), 1);
  }());
}

void SelectOverNothing() {
  std::vector<Receiver<int>> none;
  (void)SelectAny(none);
}

TEST(SelectAnyDeathTest, EmptySetAborts) {
  EXPECT_DEATH(SelectOverNothing(), "SelectAny over no receivers");
}

}  // namespace
}  // namespace coral
