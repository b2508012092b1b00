// Copyright 2026 The coral Authors.
//
// The coordination types under load, on 4 workers (bounded: each test a few thousand operations):
//   - Broadcast: 2 senders x 5,000 messages into capacity 32, 12 receivers of which 4 yield
//     after every message: each receiver gets each sender's messages in order, and what it
//     received plus what BroadcastLagged reported skipped equals exactly what was sent;
//   - Watch: 10,000 values to 8 receivers: each sees increasing values and ends on the last;
//   - JoinSet: 100 sets of 40 tasks, some finishing, some stuck, half the sets dropped early:
//     every joined result is right and every task frame is destroyed;
//   - OnceCell: 200 cells, 8 racing initializers each, the first attempts failing: one init
//     succeeds per cell and every caller that got a value got that one;
//   - Barrier: 6 tasks x 300 generations: one leader per generation;
//   - SelectAny: 8 producers x 2,000 values over 8 channels, closed as they finish: the consumer
//     receives every value exactly once.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/coral.h"
#include "gtest/gtest.h"
#include "stress/stress_util.h"

namespace coral::stress {
namespace {

TEST(CoordinationStressTest, BroadcastEveryMessageOrCountedAsSkipped) {
  static constexpr int kSenders = 2;
  static constexpr int kPerSender = 5000;
  static constexpr int kReceivers = 12;
  Runtime runtime({.num_workers = 4});
  runtime.BlockOn([]() -> Task<void> {
    auto [tx, first] = Broadcast<std::pair<int, int>>::Make(32);
    std::vector<BroadcastReceiver<std::pair<int, int>>> receivers;
    receivers.push_back(std::move(first));
    while (receivers.size() < kReceivers) receivers.push_back(tx.Subscribe());
    TaskGroup group;
    for (int r = 0; r < kReceivers; ++r) {
      group.Spawn([&receivers, r]() -> Task<void> {
        const bool slow = r % 3 == 0;
        int64_t received = 0;
        int64_t skipped = 0;
        std::vector<int> last(kSenders, -1);
        for (;;) {
          absl::StatusOr<std::pair<int, int>> got = co_await receivers[r].Recv();
          if (absl::IsOutOfRange(got.status())) break;
          if (std::optional<uint64_t> lag = BroadcastLagged(got.status())) {
            skipped += static_cast<int64_t>(*lag);
            continue;
          }
          EXPECT_TRUE(got.ok()) << got.status();
          auto [sender, seq] = *got;
          EXPECT_GT(seq, last[sender]);  // Per sender, in order (gaps only through lag).
          last[sender] = seq;
          ++received;
          if (slow) co_await Yield();
        }
        EXPECT_EQ(received + skipped, kSenders * kPerSender) << "receiver " << r;
      });
    }
    {
      TaskGroup senders;
      for (int s = 0; s < kSenders; ++s) {
        senders.Spawn(
            [s](BroadcastSender<std::pair<int, int>> mine) -> Task<void> {
              for (int i = 0; i < kPerSender; ++i) {
                EXPECT_EQ(mine.Send({s, i}), static_cast<size_t>(kReceivers));
                if (i % 64 == 0) co_await Yield();
              }
            },
            tx);
      }
      (void)co_await senders.Join();
    }
    { auto drop = std::move(tx); }  // The last sender: receivers drain, then end.
    (void)co_await group.Join();
  }());
}

TEST(CoordinationStressTest, WatchReceiversEndOnTheLastValue) {
  static constexpr int kValues = 10000;
  Runtime runtime({.num_workers = 4});
  runtime.BlockOn([]() -> Task<void> {
    auto [tx, rx] = Watch<int>::Make(0);
    TaskGroup group;
    for (int r = 0; r < 8; ++r) {
      group.Spawn(
          [](WatchReceiver<int> mine) -> Task<void> {
            int last = 0;
            while ((co_await mine.Changed()).ok()) {
              const int value = *mine.BorrowAndUpdate();
              EXPECT_GT(value, last);
              last = value;
            }
            EXPECT_EQ(last, kValues);
          },
          rx);
    }
    for (int v = 1; v <= kValues; ++v) {
      tx.Send(v);
      if (v % 16 == 0) co_await Yield();
    }
    { auto drop = std::move(tx); }
    (void)co_await group.Join();
  }());
}

TEST(CoordinationStressTest, JoinSetChurnDestroysEveryTask) {
  static constexpr int kSets = 100;
  static constexpr int kTasks = 40;
  std::atomic<int64_t> drops{0};
  Event never;
  Runtime runtime({.num_workers = 4});
  runtime.BlockOn([&]() -> Task<void> {
    Rng rng(17);
    for (int round = 0; round < kSets; ++round) {
      JoinSet<int> set;
      int finishing = 0;
      for (int i = 0; i < kTasks; ++i) {
        const bool stuck = rng.Next() % 4 == 0;
        finishing += stuck ? 0 : 1;
        set.Spawn(
            [](int i, bool stuck, Event* never, DropCounter) -> Task<int> {
              if (stuck) (void)co_await never->Wait();
              for (int y = i % 3; y > 0; --y) co_await Yield();
              co_return i;
            },
            i, stuck, &never, DropCounter(&drops));
      }
      // Join the finishing ones (half the rounds stop early), then drop the set.
      const int to_join = round % 2 == 0 ? finishing : finishing / 2;
      for (int j = 0; j < to_join; ++j) {
        std::optional<absl::StatusOr<int>> next = co_await set.JoinNext();
        EXPECT_TRUE(next.has_value() && next->ok());
        EXPECT_GE(**next, 0);
        EXPECT_LT(**next, kTasks);
      }
    }
    while (drops.load() < kSets * kTasks) co_await Yield();
  }());
  EXPECT_EQ(drops.load(), kSets * kTasks);
}

TEST(CoordinationStressTest, OnceCellOneSuccessfulInitPerCell) {
  static constexpr int kCells = 200;
  static constexpr int kCallers = 8;
  Runtime runtime({.num_workers = 4});
  runtime.BlockOn([]() -> Task<void> {
    for (int c = 0; c < kCells; ++c) {
      OnceCell<int> cell;
      std::atomic<int> attempts{0};
      std::atomic<int> successes{0};
      const int failures = c % 4;  // The first attempts of this cell fail.
      TaskGroup group(TaskGroup::OnFailure::kKeepGoing);
      for (int k = 0; k < kCallers; ++k) {
        group.Spawn([&, k]() -> Task<void> {
          absl::StatusOr<const int*> value =
              co_await cell.GetOrInit([&, k]() -> Task<absl::StatusOr<int>> {
                co_await Yield();
                if (attempts.fetch_add(1) < failures) co_return absl::UnavailableError("flaky");
                ++successes;
                co_return k;
              });
          if (value.ok()) {
            EXPECT_EQ(*value, cell.Get());
          }
        });
      }
      (void)co_await group.Join();
      EXPECT_EQ(successes.load(), 1);
      EXPECT_NE(cell.Get(), nullptr);
    }
  }());
}

TEST(CoordinationStressTest, BarrierOneLeaderPerGeneration) {
  static constexpr int kTasks = 6;
  static constexpr int kGenerations = 300;
  Runtime runtime({.num_workers = 4});
  Barrier barrier(kTasks);
  std::atomic<int> leaders{0};
  runtime.BlockOn([&]() -> Task<void> {
    TaskGroup group;
    for (int t = 0; t < kTasks; ++t) {
      group.Spawn([&, t]() -> Task<void> {
        for (int g = 0; g < kGenerations; ++g) {
          if ((g + t) % 7 == 0) co_await Yield();
          absl::StatusOr<BarrierWaitResult> met = co_await barrier.Wait();
          EXPECT_TRUE(met.ok());
          if (met->is_leader) ++leaders;
        }
      });
    }
    (void)co_await group.Join();
  }());
  EXPECT_EQ(leaders.load(), kGenerations);
  EXPECT_EQ(barrier.generation(), static_cast<uint64_t>(kGenerations));
}

TEST(CoordinationStressTest, SelectAnyReceivesEveryValueOnce) {
  static constexpr int kChannels = 8;
  static constexpr int kPerProducer = 2000;
  Runtime runtime({.num_workers = 4});
  runtime.BlockOn([]() -> Task<void> {
    std::vector<Receiver<int>> receivers;
    TaskGroup producers;
    for (int c = 0; c < kChannels; ++c) {
      auto [tx, rx] = Channel<int>::Bounded(4);
      receivers.push_back(std::move(rx));
      producers.Spawn(
          [c](Sender<int> tx) -> Task<void> {
            for (int i = 0; i < kPerProducer; ++i) {
              EXPECT_TRUE((co_await tx.Send(c * kPerProducer + i)).ok());
            }
          },
          std::move(tx));  // The producer's end drops its sender: the channel closes.
    }
    std::vector<int> seen(kChannels * kPerProducer, 0);
    while (!receivers.empty()) {
      absl::StatusOr<SelectAnyResult<int>> got = co_await SelectAny(receivers);
      EXPECT_TRUE(got.ok());
      if (absl::IsOutOfRange(got->value.status())) {
        receivers.erase(receivers.begin() + static_cast<std::ptrdiff_t>(got->index));
        continue;
      }
      ++seen[*got->value];
    }
    (void)co_await producers.Join();
    for (int count : seen) EXPECT_EQ(count, 1);
  }());
}

}  // namespace
}  // namespace coral::stress
