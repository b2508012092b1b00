// Copyright 2026 The coral Authors.
//
// Broadcast: every receiver sees every message in order, lagging receivers skip ahead with the
// count of what they missed, close after drain, cancellation consumes nothing, misuse aborts.

#include "coral/broadcast.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "coral/cancellation.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(BroadcastTest, EveryReceiverSeesEveryMessageInOrder) {
  Runtime runtime({.num_workers = 2});
  auto [tx, first] = Broadcast<int>::Make(4);
  runtime.BlockOn([&]() -> Task<void> {
    std::vector<BroadcastReceiver<int>> receivers;
    receivers.push_back(std::move(first));
    for (int i = 0; i < 3; ++i) receivers.push_back(tx.Subscribe());
    EXPECT_EQ(tx.receiver_count(), 4u);
    std::vector<std::vector<int>> seen(receivers.size());  // Read after the join.
    std::atomic<int> received{0};
    TaskGroup group;
    for (size_t r = 0; r < receivers.size(); ++r) {
      group.Spawn([&, r]() -> Task<void> {
        for (;;) {
          absl::StatusOr<int> got = co_await receivers[r].Recv();
          if (!got.ok()) {
            EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
            co_return;
          }
          seen[r].push_back(*got);
          ++received;
        }
      });
    }
    // Small batches, each received by everyone before the next: the ring (4) never overflows.
    for (int batch = 0; batch < 25; ++batch) {
      for (int i = 0; i < 4; ++i) EXPECT_EQ(tx.Send(batch * 4 + i), 4u);
      while (received.load() < (batch + 1) * 4 * 4) co_await Yield();
    }
    { auto drop = std::move(tx); }  // The last sender closes the channel.
    (void)co_await group.Join();
    std::vector<int> expected;
    for (int i = 0; i < 100; ++i) expected.push_back(i);
    for (const std::vector<int>& s : seen) EXPECT_EQ(s, expected);
  }());
}

TEST(BroadcastTest, LaggingReceiverSkipsToOldestRetained) {
  Runtime runtime({.num_workers = 1});
  auto [tx, rx] = Broadcast<std::string>::Make(3);
  runtime.BlockOn([&]() -> Task<void> {
    for (int i = 0; i < 8; ++i) EXPECT_EQ(tx.Send(std::to_string(i)), 1u);
    // Messages 5, 6, 7 are retained; 0..4 were overwritten.
    absl::StatusOr<std::string> lagged = co_await rx.Recv();
    EXPECT_TRUE(absl::IsDataLoss(lagged.status())) << lagged.status();
    EXPECT_EQ(BroadcastLagged(lagged.status()), 5u);
    EXPECT_EQ(BroadcastLagged(absl::DataLossError("other")), std::nullopt);
    EXPECT_EQ(BroadcastLagged(absl::OkStatus()), std::nullopt);
    EXPECT_EQ(*co_await rx.Recv(), "5");
    EXPECT_EQ(*rx.TryRecv(), "6");
    EXPECT_EQ(*co_await rx.Recv(), "7");
    EXPECT_TRUE(absl::IsUnavailable(rx.TryRecv().status()));
  }());
}

TEST(BroadcastTest, NewReceiverStartsAtNextMessageAndNoReceiverDrops) {
  Runtime runtime({.num_workers = 1});
  auto [tx, rx] = Broadcast<int>::Make(8);
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_EQ(tx.Send(1), 1u);
    BroadcastReceiver<int> late = tx.Subscribe();
    EXPECT_EQ(tx.Send(2), 2u);
    EXPECT_EQ(*co_await late.Recv(), 2);
    EXPECT_EQ(*co_await rx.Recv(), 1);
    EXPECT_EQ(*co_await rx.Recv(), 2);
    { auto drop = std::move(rx); }
    { auto drop = std::move(late); }
    EXPECT_EQ(tx.receiver_count(), 0u);
    EXPECT_EQ(tx.Send(3), 0u);  // Nobody to see it: dropped.
    BroadcastReceiver<int> again = tx.Subscribe();
    EXPECT_TRUE(absl::IsUnavailable(again.TryRecv().status()));
  }());
}

TEST(BroadcastTest, CloseWakesWaitersAfterDrain) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Broadcast<int>::Make(2);
  runtime.BlockOn([&]() -> Task<void> {
    auto copy = tx;
    EXPECT_EQ(copy.Send(9), 1u);
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      EXPECT_EQ(*co_await rx.Recv(), 9);
      // Waits until the senders are gone.
      EXPECT_TRUE(absl::IsOutOfRange((co_await rx.Recv()).status()));
      EXPECT_TRUE(absl::IsOutOfRange((co_await rx.Recv()).status()));
    });
    co_await Yield();
    { auto drop = std::move(copy); }  // One sender remains: still open.
    { auto drop = std::move(tx); }
    (void)co_await group.Join();
  }());
}

TEST(BroadcastTest, CancelledRecvConsumesNothing) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Broadcast<int>::Make(2);
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<int> got = co_await WithCancellation(
          source.token(), [&]() -> Task<absl::StatusOr<int>> { co_return co_await rx.Recv(); }());
      EXPECT_TRUE(absl::IsCancelled(got.status())) << got.status();
    });
    co_await Yield();
    source.Cancel();
    (void)co_await group.Join();
    EXPECT_EQ(tx.Send(4), 1u);
    EXPECT_EQ(*co_await rx.Recv(), 4);
  }());
}

TEST(BroadcastTest, AbortedWaiterLeavesTheReceiverUsable) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Broadcast<int>::Make(2);
  runtime.BlockOn([&]() -> Task<void> {
    JoinHandle<void> waiter =
        Spawn([](BroadcastReceiver<int>* rx) -> Task<void> { (void)co_await rx->Recv(); }, &rx);
    co_await Yield();
    waiter.Abort();
    EXPECT_TRUE(absl::IsCancelled(co_await std::move(waiter)));
    EXPECT_EQ(tx.Send(5), 1u);
    EXPECT_EQ(*co_await rx.Recv(), 5);
  }());
}

void SendOnMovedFrom() {
  std::pair<BroadcastSender<int>, BroadcastReceiver<int>> channel = Broadcast<int>::Make(1);
  BroadcastSender<int> moved = std::move(channel.first);
  (void)channel.first.Send(1);
}

void TryRecvOnMovedFrom() {
  std::pair<BroadcastSender<int>, BroadcastReceiver<int>> channel = Broadcast<int>::Make(1);
  BroadcastReceiver<int> moved = std::move(channel.second);
  (void)channel.second.TryRecv();
}

void TwoTasksInRecv() {
  Runtime runtime({.num_workers = 1});
  std::pair<BroadcastSender<int>, BroadcastReceiver<int>> channel = Broadcast<int>::Make(1);
  runtime.BlockOn([&]() -> Task<void> {
    Spawn([](BroadcastReceiver<int>* rx) -> Task<void> { (void)co_await rx->Recv(); },
          &channel.second)
        .Detach();
    co_await Yield();
    (void)co_await channel.second.Recv();
  }());
}

TEST(BroadcastDeathTest, MisuseAbortsWithAMessage) {
  EXPECT_DEATH(SendOnMovedFrom(), "Send on a moved-from coral::BroadcastSender");
  EXPECT_DEATH(TryRecvOnMovedFrom(), "TryRecv on a moved-from coral::BroadcastReceiver");
  EXPECT_DEATH((void)Broadcast<int>::Make(0), "capacity of at least 1");
  EXPECT_DEATH(TwoTasksInRecv(), "two tasks await Recv on one coral::BroadcastReceiver");
}

}  // namespace
}  // namespace coral
