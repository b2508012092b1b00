// Copyright 2026 The coral Authors.
//
// Channel, Oneshot and Select: order, capacity, close semantics (nothing lost), handle drops,
// cancellation, and Select's losing branches consuming nothing.

#include "coral/channel.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/join_handle.h"
#include "coral/oneshot.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

TEST(ChannelTest, BoundedFifoAndCapacity) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Channel<int>::Bounded(2);
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_TRUE(tx.TrySend(1).ok());
    EXPECT_TRUE((co_await tx.Send(2)).ok());
    SendResult<int> full = tx.TrySend(3);
    EXPECT_TRUE(absl::IsUnavailable(full.status));
    EXPECT_EQ(full.unsent, 3);
    TaskGroup group;
    std::atomic<bool> third_sent{false};
    group.Spawn([&, tx = tx]() mutable -> Task<void> {
      EXPECT_TRUE((co_await tx.Send(3)).ok());  // Waits for room.
      third_sent = true;
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    EXPECT_FALSE(third_sent.load());
    for (int expected = 1; expected <= 3; ++expected) {
      absl::StatusOr<int> got = co_await rx.Recv();
      EXPECT_EQ(*got, expected);
    }
    (void)co_await group.Join();
    EXPECT_TRUE(absl::IsUnavailable(rx.TryRecv().status()));
  }());
}

TEST(ChannelTest, UnboundedNeverWaits) {
  Runtime runtime({.num_workers = 1});
  auto [tx, rx] = Channel<std::string>::Unbounded();
  runtime.BlockOn([&]() -> Task<void> {
    for (int i = 0; i < 10000; ++i) EXPECT_TRUE((co_await tx.Send(std::to_string(i))).ok());
    for (int i = 0; i < 10000; ++i) EXPECT_EQ(*rx.TryRecv(), std::to_string(i));
  }());
}

TEST(ChannelTest, CloseDrainsThenEndsAndReturnsBlockedValues) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Channel<std::unique_ptr<int>>::Bounded(1);
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_TRUE((co_await tx.Send(std::make_unique<int>(1))).ok());
    TaskGroup group;
    group.Spawn([&, tx = tx]() mutable -> Task<void> {
      SendResult<std::unique_ptr<int>> blocked = co_await tx.Send(std::make_unique<int>(2));
      EXPECT_TRUE(absl::IsFailedPrecondition(blocked.status)) << blocked.status;
      EXPECT_TRUE(blocked.unsent.has_value() && **blocked.unsent == 2);  // Given back, not lost.
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    tx.Close();
    (void)co_await group.Join();
    absl::StatusOr<std::unique_ptr<int>> first = co_await rx.Recv();  // Drained after close.
    EXPECT_EQ(**first, 1);
    EXPECT_TRUE(absl::IsOutOfRange((co_await rx.Recv()).status()));
    EXPECT_TRUE(absl::IsFailedPrecondition((co_await tx.Send(nullptr)).status));
  }());
}

TEST(ChannelTest, DroppingEverySenderOrReceiverCloses) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([&]() -> Task<void> {
    auto channel = Channel<int>::Bounded(4);
    auto rx = std::move(channel.second);
    {
      auto tx = std::move(channel.first);
      auto copy = tx;
      EXPECT_TRUE((co_await copy.Send(7)).ok());
    }  // Both senders gone.
    EXPECT_EQ(*(co_await rx.Recv()), 7);
    EXPECT_TRUE(absl::IsOutOfRange((co_await rx.Recv()).status()));

    auto other = Channel<int>::Bounded(1);
    auto tx = std::move(other.first);
    EXPECT_TRUE(tx.TrySend(1).ok());
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      SendResult<int> blocked = co_await tx.Send(2);
      EXPECT_TRUE(absl::IsFailedPrecondition(blocked.status));
      EXPECT_EQ(blocked.unsent, 2);
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    { auto drop = std::move(other.second); }  // The only receiver goes.
    (void)co_await group.Join();
    EXPECT_TRUE(tx.IsClosed());
  }());
}

// Sends racing the close, on plain threads: once the receiver is told OutOfRange, it has received
// exactly the values whose sends succeeded (a send that read the channel open before the close
// could otherwise land after the receiver found it closed and empty).
void CloseRacingSendsLosesNoSentValue(std::pair<Sender<int>, Receiver<int>> channel) {
  auto [tx, rx] = std::move(channel);
  std::atomic<int> sent{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < 2; ++s) {
    senders.emplace_back([&sent, tx = tx]() mutable {
      for (int i = 0;; ++i) {
        SendResult<int> result = tx.TrySend(i);
        if (result.ok()) {
          sent.fetch_add(1, std::memory_order_relaxed);
        } else if (absl::IsFailedPrecondition(result.status)) {
          return;  // Closed.
        }
      }
    });
  }
  std::thread closer([tx = tx]() mutable {
    std::this_thread::yield();
    tx.Close();
  });
  int received = 0;
  for (;;) {
    absl::StatusOr<int> value = rx.TryRecv();
    if (value.ok()) {
      ++received;
    } else if (absl::IsOutOfRange(value.status())) {
      break;
    }
  }
  closer.join();
  for (std::thread& sender : senders) sender.join();
  EXPECT_EQ(received, sent.load());
  EXPECT_TRUE(absl::IsOutOfRange(rx.TryRecv().status()));
}

TEST(ChannelTest, CloseRacingSendsLosesNoSentValue) {
  for (int round = 0; round < 200; ++round) {
    CloseRacingSendsLosesNoSentValue(Channel<int>::Bounded(4));
    CloseRacingSendsLosesNoSentValue(Channel<int>::Unbounded());
  }
}

// The same race with tasks: waiting Sends, a Recv loop and a Select loop, a close from a plain
// thread. Every value whose Send reported OK is received exactly once; none other is.
void CloseRacingTaskSendsLosesNoSentValue(std::pair<Sender<int>, Receiver<int>> channel) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = std::move(channel);
  auto [idle_tx, idle_rx] = Channel<int>::Bounded(1);  // A Select branch that never completes.
  constexpr int kSenders = 2;
  constexpr int kPerSender = 1 << 20;
  std::vector<std::vector<int>> sent(kSenders);
  std::vector<int> received_by_recv, received_by_select;
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int s = 0; s < kSenders; ++s) {
      group.Spawn([&, s]() -> Task<void> {
        for (int i = 0;; ++i) {
          SendResult<int> result = co_await tx.Send(s * kPerSender + i);
          if (!result.ok()) {
            EXPECT_TRUE(absl::IsFailedPrecondition(result.status)) << result.status;
            EXPECT_EQ(result.unsent, s * kPerSender + i);
            co_return;
          }
          sent[s].push_back(s * kPerSender + i);
        }
      });
    }
    group.Spawn([&]() -> Task<void> {
      for (;;) {
        absl::StatusOr<int> value = co_await rx.Recv();
        if (!value.ok()) {
          EXPECT_TRUE(absl::IsOutOfRange(value.status())) << value.status();
          co_return;
        }
        received_by_recv.push_back(*value);
      }
    });
    group.Spawn([&]() -> Task<void> {
      for (;;) {
        auto got = co_await Select(idle_rx, rx);
        EXPECT_TRUE(got.ok());
        EXPECT_EQ(got->index, 1u);
        absl::StatusOr<int>& value = std::get<1>(got->value);
        if (!value.ok()) {
          EXPECT_TRUE(absl::IsOutOfRange(value.status())) << value.status();
          co_return;
        }
        received_by_select.push_back(*value);
      }
    });
    std::thread closer([tx = tx]() mutable {
      for (int i = 0; i < 100; ++i) std::this_thread::yield();
      tx.Close();
    });
    (void)co_await group.Join();
    closer.join();
  }());
  std::vector<int> all_sent, all_received = received_by_recv;
  for (const std::vector<int>& values : sent)
    all_sent.insert(all_sent.end(), values.begin(), values.end());
  all_received.insert(all_received.end(), received_by_select.begin(), received_by_select.end());
  std::sort(all_sent.begin(), all_sent.end());
  std::sort(all_received.begin(), all_received.end());
  EXPECT_EQ(all_received, all_sent);
}

TEST(ChannelTest, CloseRacingTaskSendsLosesNoSentValue) {
  for (int round = 0; round < 10; ++round) {
    CloseRacingTaskSendsLosesNoSentValue(Channel<int>::Bounded(1));
    CloseRacingTaskSendsLosesNoSentValue(Channel<int>::Bounded(3));
    CloseRacingTaskSendsLosesNoSentValue(Channel<int>::Unbounded());
  }
}

TEST(ChannelTest, CancelledSendKeepsItsValueCancelledRecvConsumesNothing) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Channel<int>::Bounded(1);
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_TRUE(tx.TrySend(1).ok());
    CancellationSource source;
    auto send = [&]() -> Task<SendResult<int>> { co_return co_await tx.Send(2); };
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      SendResult<int> result = co_await WithCancellation(source.token(), send());
      EXPECT_TRUE(absl::IsCancelled(result.status));
      EXPECT_EQ(result.unsent, 2);  // Not delivered.
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    source.Cancel();
    (void)co_await group.Join();
    EXPECT_EQ(*rx.TryRecv(), 1);
    EXPECT_TRUE(absl::IsUnavailable(rx.TryRecv().status()));  // 2 was never delivered.

    CancellationSource recv_source;
    auto recv = [&]() -> Task<absl::StatusOr<int>> { co_return co_await rx.Recv(); };
    group.Spawn([&]() -> Task<void> {
      absl::StatusOr<int> got = co_await WithCancellation(recv_source.token(), recv());
      EXPECT_TRUE(absl::IsCancelled(got.status()));
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    recv_source.Cancel();
    (void)co_await SleepFor(absl::Milliseconds(3));
    EXPECT_TRUE(tx.TrySend(3).ok());
    (void)co_await group.Join();
    EXPECT_EQ(*rx.TryRecv(), 3);  // The cancelled receive took nothing.
  }());
}

TEST(ChannelTest, AbortedReceiverPutsTheValueBack) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Channel<int>::Bounded(1);
  runtime.BlockOn([&]() -> Task<void> {
    JoinHandle<void> doomed = Spawn([rx = rx]() mutable -> Task<void> {
      absl::StatusOr<int> got = co_await rx.Recv();
      (void)co_await SleepFor(absl::Hours(1));
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    doomed.Abort();  // Either before or after the value is handed to it.
    EXPECT_TRUE(tx.TrySend(5).ok());
    EXPECT_TRUE(absl::IsCancelled(co_await doomed));
    absl::StatusOr<int> got = co_await rx.Recv();
    // Delivered to `doomed` before the abort took effect, then given back; or never delivered.
    EXPECT_EQ(*got, 5);
  }());
}

TEST(OneshotTest, SendOnceAndDroppedSender) {
  Runtime runtime({.num_workers = 2});
  runtime.BlockOn([&]() -> Task<void> {
    auto [tx, rx] = Oneshot<std::string>::Make();
    Spawn(
        [](OneshotSender<std::string> tx) -> Task<void> {
          EXPECT_TRUE(tx.Send("hello").ok());
          EXPECT_TRUE(absl::IsFailedPrecondition(tx.Send("again").status));
          co_return;
        },
        std::move(tx))
        .Detach();
    EXPECT_EQ(*(co_await rx.Recv()), "hello");

    auto [tx2, rx2] = Oneshot<int>::Make();
    { auto drop = std::move(tx2); }
    EXPECT_TRUE(absl::IsOutOfRange((co_await rx2.Recv()).status()));
  }());
}

TEST(SelectTest, FirstReadyWinsLoserConsumesNothing) {
  Runtime runtime({.num_workers = 2});
  auto [a_tx, a_rx] = Channel<int>::Bounded(4);
  auto [b_tx, b_rx] = Channel<std::string>::Bounded(4);
  runtime.BlockOn([&]() -> Task<void> {
    EXPECT_TRUE(b_tx.TrySend("b").ok());
    auto got = co_await Select(a_rx, b_rx);
    EXPECT_EQ(got->index, 1u);
    EXPECT_EQ(*std::get<1>(got->value), "b");

    // Both ready: the earlier argument wins, the other keeps its message.
    EXPECT_TRUE(a_tx.TrySend(1).ok());
    EXPECT_TRUE(b_tx.TrySend("kept").ok());
    got = co_await Select(a_rx, b_rx);
    EXPECT_EQ(got->index, 0u);
    EXPECT_EQ(*b_rx.TryRecv(), "kept");

    // Waiting on both; one send wakes it; a later send to the other stays in its channel.
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      (void)co_await SleepFor(absl::Milliseconds(3));
      EXPECT_TRUE((co_await b_tx.Send("woke")).ok());
      EXPECT_TRUE((co_await a_tx.Send(2)).ok());
    });
    got = co_await Select(a_rx, b_rx);
    EXPECT_EQ(got->index, 1u);
    (void)co_await group.Join();
    EXPECT_EQ(*a_rx.TryRecv(), 2);
  }());
}

TEST(SelectTest, ClosedBranchAndCancellation) {
  Runtime runtime({.num_workers = 2});
  auto [a_tx, a_rx] = Channel<int>::Bounded(1);
  auto [b_tx, b_rx] = Channel<int>::Bounded(1);
  runtime.BlockOn([&]() -> Task<void> {
    CancellationSource source;
    auto select = [&]() -> Task<absl::Status> {
      auto got = co_await Select(a_rx, b_rx);
      co_return got.status();
    };
    TaskGroup group;
    group.Spawn([&]() -> Task<void> {
      absl::Status status = co_await WithCancellation(source.token(), select());
      EXPECT_TRUE(absl::IsCancelled(status));
    });
    (void)co_await SleepFor(absl::Milliseconds(3));
    source.Cancel();
    (void)co_await group.Join();
    EXPECT_TRUE(a_tx.TrySend(1).ok());  // The cancelled select left nothing behind.
    EXPECT_EQ(*a_rx.TryRecv(), 1);

    b_tx.Close();
    auto got = co_await Select(a_rx, b_rx);
    EXPECT_EQ(got->index, 1u);
    EXPECT_TRUE(absl::IsOutOfRange(std::get<1>(got->value).status()));
  }());
}

}  // namespace
}  // namespace coral
