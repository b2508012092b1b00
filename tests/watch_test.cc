// Copyright 2026 The coral Authors.
//
// Watch: receivers see the latest value, Changed() wakes on Send and reports the close after the
// last value, versions per receiver, cancellation marks nothing seen, misuse aborts.

#include "coral/watch.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "coral/cancellation.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(WatchTest, BorrowSeesLatestAndChangedTracksVersions) {
  Runtime runtime({.num_workers = 1});
  auto [tx, rx] = Watch<std::string>::Make("a");
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_EQ(*rx.Borrow(), "a");
    EXPECT_FALSE(rx.HasChanged());
    std::shared_ptr<const std::string> old = rx.Borrow();
    tx.Send("b");
    tx.Send("c");
    EXPECT_EQ(*old, "a");  // A borrowed value stays as it was.
    EXPECT_TRUE(rx.HasChanged());
    EXPECT_EQ(*rx.Borrow(), "c");
    EXPECT_TRUE(rx.HasChanged());               // Borrow does not mark it seen.
    EXPECT_TRUE((co_await rx.Changed()).ok());  // Ready: "b" and "c" came since.
    EXPECT_FALSE(rx.HasChanged());
    WatchReceiver<std::string> late = tx.Subscribe();
    EXPECT_FALSE(late.HasChanged());
    WatchReceiver<std::string> copy = rx;
    tx.Send("d");
    EXPECT_EQ(*copy.BorrowAndUpdate(), "d");
    EXPECT_FALSE(copy.HasChanged());
    EXPECT_TRUE(rx.HasChanged());
    EXPECT_EQ(tx.receiver_count(), 3u);
    EXPECT_EQ(*tx.Borrow(), "d");
  }());
}

TEST(WatchTest, SendWakesEveryWaiterAndCloseEndsThem) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Watch<int>::Make(0);
  runtime.BlockOn([&]() -> Task<void> {
    std::atomic<int> woken{0};
    std::atomic<int> closed{0};
    TaskGroup group;
    for (int i = 0; i < 8; ++i) {
      group.Spawn(
          [&](WatchReceiver<int> mine) -> Task<void> {
            int last = 0;
            for (;;) {
              absl::Status status = co_await mine.Changed();
              if (!status.ok()) {
                EXPECT_TRUE(absl::IsOutOfRange(status)) << status;
                EXPECT_EQ(last, 3);  // The last value is seen before the close is reported.
                ++closed;
                co_return;
              }
              int value = *mine.BorrowAndUpdate();
              EXPECT_GT(value, last);  // Values may be skipped, never seen out of order.
              last = value;
              ++woken;
            }
          },
          rx);
    }
    for (int v = 1; v <= 3; ++v) {
      tx.Send(v);
      co_await Yield();
    }
    { auto drop = std::move(tx); }
    (void)co_await group.Join();
    EXPECT_EQ(closed.load(), 8);
    EXPECT_GE(woken.load(), 8);
    EXPECT_EQ(*rx.Borrow(), 3);                 // Still readable after the close.
    EXPECT_TRUE((co_await rx.Changed()).ok());  // rx itself never saw 1..3.
    EXPECT_TRUE(absl::IsOutOfRange(co_await rx.Changed()));
  }());
}

TEST(WatchTest, CancelledChangedMarksNothingSeen) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Watch<int>::Make(0);
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::Status status = co_await WithCancellation(
          source.token(), [&]() -> Task<absl::Status> { co_return co_await rx.Changed(); }());
      EXPECT_TRUE(absl::IsCancelled(status)) << status;
    });
    co_await Yield();
    source.Cancel();
    (void)co_await group.Join();
    tx.Send(1);
    EXPECT_TRUE(rx.HasChanged());
    EXPECT_TRUE((co_await rx.Changed()).ok());
  }());
}

TEST(WatchTest, AbortedWaiterLeavesTheReceiverUsable) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Watch<int>::Make(0);
  runtime.BlockOn([&]() -> Task<void> {
    JoinHandle<void> waiter =
        Spawn([](WatchReceiver<int>* rx) -> Task<void> { (void)co_await rx->Changed(); }, &rx);
    co_await Yield();
    waiter.Abort();
    EXPECT_TRUE(absl::IsCancelled(co_await std::move(waiter)));
    tx.Send(1);
    EXPECT_TRUE((co_await rx.Changed()).ok());
  }());
}

void SendOnMovedFrom() {
  std::pair<WatchSender<int>, WatchReceiver<int>> channel = Watch<int>::Make(0);
  WatchSender<int> moved = std::move(channel.first);
  channel.first.Send(1);
}

void BorrowOnMovedFrom() {
  std::pair<WatchSender<int>, WatchReceiver<int>> channel = Watch<int>::Make(0);
  WatchReceiver<int> moved = std::move(channel.second);
  (void)channel.second.Borrow();
}

void TwoTasksInChanged() {
  Runtime runtime({.num_workers = 1});
  std::pair<WatchSender<int>, WatchReceiver<int>> channel = Watch<int>::Make(0);
  runtime.BlockOn([&]() -> Task<void> {
    Spawn([](WatchReceiver<int>* rx) -> Task<void> { (void)co_await rx->Changed(); },
          &channel.second)
        .Detach();
    co_await Yield();
    (void)co_await channel.second.Changed();
  }());
}

TEST(WatchDeathTest, MisuseAbortsWithAMessage) {
  EXPECT_DEATH(SendOnMovedFrom(), "Send on a moved-from coral::WatchSender");
  EXPECT_DEATH(BorrowOnMovedFrom(), "Borrow on a moved-from coral::WatchReceiver");
  EXPECT_DEATH(TwoTasksInChanged(), "two tasks await Changed\\(\\) on one coral::WatchReceiver");
}

}  // namespace
}  // namespace coral
