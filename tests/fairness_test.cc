// Copyright 2026 The coral Authors.
//
// Fairness between tasks: the cooperative budget (a task whose awaits are always ready still lets
// its worker's other tasks run, and loses nothing by yielding), and a stuck worker's LIFO slot
// (a task spawned just before its worker starts a long computation is run by another worker).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/async_mutex.h"
#include "coral/async_shared_mutex.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/event.h"
#include "coral/join_handle.h"
#include "coral/latch.h"
#include "coral/notify.h"
#include "coral/oneshot.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/semaphore.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

// A task's budget per turn (coral/internal/budget.h): a sibling waits at most this many of a
// flooding task's operations.
constexpr int kBudget = 128;
// Where a flooder without a budget is stopped, so that a failing test ends.
constexpr int kCap = 20000;

// On a runtime with one worker, a task spawns a sibling (queued behind it on that worker) and
// then awaits `op()`, which is then always ready, until the sibling has started (or kCap times).
// Returns how many of its awaits completed before the sibling started.
template <typename Op>
int OpsBeforeSiblingStarts(Op op) {
  Runtime runtime({.num_workers = 1});
  return runtime.BlockOn([&]() -> Task<int> {
    co_await op();  // Once first: an fd's readiness is known only after its first wait.
    std::atomic<bool> started{false};
    JoinHandle<void> sibling = Spawn([&started]() -> Task<void> {
      started.store(true);
      co_return;
    });
    int ops = 0;
    while (ops < kCap) {
      co_await op();
      if (started.load()) break;  // This one completed on the flooder's next turn.
      ++ops;
    }
    absl::Status joined = co_await std::move(sibling);
    EXPECT_TRUE(joined.ok());
    co_return ops;
  }());
}

TEST(BudgetTest, ChannelThatAlwaysHasValuesLetsSiblingRun) {
  auto [tx, rx] = Channel<int>::Unbounded();
  const int ops = OpsBeforeSiblingStarts([&, &tx = tx, &rx = rx]() -> Task<void> {
    EXPECT_TRUE(tx.TrySend(1).ok());
    absl::StatusOr<int> value = co_await rx.Recv();
    EXPECT_EQ(*value, 1);
  });
  EXPECT_LE(ops, kBudget);
}

TEST(BudgetTest, ChannelSendThatNeverWaitsLetsSiblingRun) {
  auto [tx, rx] = Channel<int>::Unbounded();
  const int ops = OpsBeforeSiblingStarts(
      [&, &tx = tx]() -> Task<void> { EXPECT_TRUE((co_await tx.Send(1)).ok()); });
  EXPECT_LE(ops, kBudget);
}

TEST(BudgetTest, SocketThatAlwaysHasDataLetsSiblingRun) {
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok());
  // More bytes than the flooder may read one at a time.
  const std::string data(kCap, 'x');
  ASSERT_EQ(::write(pair->second.fd(), data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  UnixStream& reader = pair->first;
  const int ops = OpsBeforeSiblingStarts([&]() -> Task<void> {
    char byte = 0;
    absl::StatusOr<size_t> n = co_await reader.Read(absl::MakeSpan(&byte, 1));
    EXPECT_EQ(*n, 1u);
  });
  EXPECT_LE(ops, kBudget);
}

TEST(BudgetTest, ReadableSocketLetsSiblingRun) {
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  ASSERT_TRUE(pair.ok());
  ASSERT_EQ(::write(pair->second.fd(), "x", 1), 1);
  UnixStream& reader = pair->first;
  const int ops = OpsBeforeSiblingStarts(
      [&]() -> Task<void> { EXPECT_TRUE((co_await reader.WaitReadable()).ok()); });
  EXPECT_LE(ops, kBudget);
}

TEST(BudgetTest, MutexThatIsAlwaysFreeLetsSiblingRun) {
  AsyncMutex mu;
  const int ops = OpsBeforeSiblingStarts([&]() -> Task<void> {
    absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
    EXPECT_TRUE(guard.ok());
  });
  EXPECT_LE(ops, kBudget);
}

TEST(BudgetTest, OtherReadyPathsLetSiblingRun) {
  {
    AsyncSharedMutex mu;
    EXPECT_LE(OpsBeforeSiblingStarts(
                  [&]() -> Task<void> { EXPECT_TRUE((co_await mu.LockShared()).ok()); }),
              kBudget);
    EXPECT_LE(
        OpsBeforeSiblingStarts([&]() -> Task<void> { EXPECT_TRUE((co_await mu.Lock()).ok()); }),
        kBudget);
  }
  {
    Semaphore semaphore(1);
    EXPECT_LE(OpsBeforeSiblingStarts(
                  [&]() -> Task<void> { EXPECT_TRUE((co_await semaphore.Acquire()).ok()); }),
              kBudget);
  }
  {
    Event event(/*set=*/true);
    EXPECT_LE(
        OpsBeforeSiblingStarts([&]() -> Task<void> { EXPECT_TRUE((co_await event.Wait()).ok()); }),
        kBudget);
  }
  {
    Latch latch(0);
    EXPECT_LE(
        OpsBeforeSiblingStarts([&]() -> Task<void> { EXPECT_TRUE((co_await latch.Wait()).ok()); }),
        kBudget);
  }
  {
    Notify notify;
    EXPECT_LE(OpsBeforeSiblingStarts([&]() -> Task<void> {
                notify.NotifyOne();  // Stores the permit that Notified consumes at once.
                EXPECT_TRUE((co_await notify.Notified()).ok());
              }),
              kBudget);
  }
  {
    EXPECT_LE(OpsBeforeSiblingStarts([&]() -> Task<void> {
                EXPECT_TRUE((co_await SleepFor(absl::ZeroDuration())).ok());
              }),
              kBudget);
  }
  {
    auto [tx, rx] = Channel<int>::Unbounded();
    EXPECT_LE(OpsBeforeSiblingStarts([&, &tx = tx, &rx = rx]() -> Task<void> {
                EXPECT_TRUE(tx.TrySend(1).ok());
                EXPECT_TRUE((co_await Select(rx)).ok());
              }),
              kBudget);
  }
  {
    EXPECT_LE(OpsBeforeSiblingStarts([&]() -> Task<void> {
                auto [tx, rx] = Oneshot<int>::Make();
                EXPECT_TRUE(tx.Send(1).ok());
                EXPECT_EQ(*(co_await rx.Recv()), 1);
              }),
              kBudget);
  }
  {
    CancellationSource source;
    source.Cancel();
    CancellationToken token = source.token();
    EXPECT_LE(OpsBeforeSiblingStarts([&]() -> Task<void> { (void)co_await token.Cancelled(); }),
              kBudget);
  }
}

TEST(BudgetTest, FinishedJoinHandlesLetSiblingRun) {
  constexpr int kHandles = 3 * kBudget;
  Runtime runtime({.num_workers = 1});
  runtime.BlockOn([&]() -> Task<void> {
    std::atomic<int> done{0};
    std::vector<JoinHandle<int>> finished;
    for (int i = 0; i < kHandles; ++i) {
      finished.push_back(Spawn([&done]() -> Task<int> {
        done.fetch_add(1);
        co_return 1;
      }));
    }
    while (done.load() < kHandles) (void)co_await SleepFor(absl::Milliseconds(1));
    std::atomic<bool> started{false};
    JoinHandle<void> sibling = Spawn([&started]() -> Task<void> {
      started.store(true);
      co_return;
    });
    int ops = 0;
    for (JoinHandle<int>& handle : finished) {
      EXPECT_EQ(*(co_await std::move(handle)), 1);
      if (started.load()) break;
      ++ops;
    }
    EXPECT_LE(ops, kBudget);
    EXPECT_TRUE((co_await std::move(sibling)).ok());
  }());
}

TEST(BudgetTest, JoinOfEmptyGroupLetsSiblingRun) {
  const int ops = OpsBeforeSiblingStarts([]() -> Task<void> {
    TaskGroup group;
    EXPECT_TRUE((co_await group.Join()).ok());
  });
  EXPECT_LE(ops, kBudget);
}

// Budget-forced yields between producers and consumers on one worker and on two lose and
// duplicate nothing.
TEST(BudgetTest, YieldsLoseNothing) {
  for (int workers : {1, 2}) {
    constexpr int kProducers = 3;
    constexpr int kPerProducer = 4000;
    constexpr int kConsumers = 3;
    Runtime runtime({.num_workers = workers});
    std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
    runtime.BlockOn([&]() -> Task<void> {
      auto [tx, rx] = Channel<int>::Bounded(16);
      auto [tx2, rx2] = Channel<int>::Unbounded();
      AsyncMutex mu;
      int64_t guarded = 0;
      TaskGroup consumers;
      for (int c = 0; c < kConsumers; ++c) {
        consumers.Spawn([&, rx = rx, rx2 = rx2]() mutable -> Task<void> {
          for (;;) {
            absl::StatusOr<SelectResult<int, int>> got = co_await Select(rx, rx2);
            if (!got.ok()) co_return;
            absl::StatusOr<int>& value =
                got->index == 0 ? std::get<0>(got->value) : std::get<1>(got->value);
            if (!value.ok()) {
              // One channel is closed and drained: drain the other with Recv.
              Receiver<int> other = got->index == 0 ? rx2 : rx;
              for (;;) {
                absl::StatusOr<int> rest = co_await other.Recv();
                if (!rest.ok()) co_return;
                seen[*rest].fetch_add(1);
                absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
                ++guarded;
              }
            }
            seen[*value].fetch_add(1);
            absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
            EXPECT_TRUE(guard.ok());
            ++guarded;
          }
        });
      }
      {
        TaskGroup producers;
        for (int p = 0; p < kProducers; ++p) {
          producers.Spawn([&, p, tx = tx, tx2 = tx2]() mutable -> Task<void> {
            for (int i = 0; i < kPerProducer; ++i) {
              const int value = p * kPerProducer + i;
              if (i % 2 == 0) {
                EXPECT_TRUE((co_await tx.Send(value)).ok());
              } else {
                EXPECT_TRUE((co_await tx2.Send(value)).ok());
              }
            }
          });
        }
        EXPECT_TRUE((co_await producers.Join()).ok());
      }
      tx.Close();
      tx2.Close();
      EXPECT_TRUE((co_await consumers.Join()).ok());
      absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
      EXPECT_EQ(guarded, kProducers * kPerProducer);
    }());
    for (size_t i = 0; i < seen.size(); ++i) {
      ASSERT_EQ(seen[i].load(), 1) << "value " << i << " with " << workers << " workers";
    }
  }
}

// A receiver aborted while it yields for its budget has taken nothing it did not report.
TEST(BudgetTest, AbortDuringBudgetYieldLosesNothing) {
  constexpr int kValues = 2000;
  Runtime runtime({.num_workers = 1});
  auto [tx, rx] = Channel<int>::Unbounded();
  for (int i = 0; i < kValues; ++i) ASSERT_TRUE(tx.TrySend(i).ok());
  tx.Close();
  std::vector<int> taken_by_flooder;
  std::vector<int> drained;
  runtime.BlockOn([&, &rx = rx]() -> Task<void> {
    JoinHandle<void> flooder = Spawn([&]() -> Task<void> {
      for (;;) {
        absl::StatusOr<int> value = co_await rx.Recv();
        if (!value.ok()) co_return;
        taken_by_flooder.push_back(*value);
      }
    });
    // The flooder starts first (we yield to it) and yields for its budget; then we run, abort it
    // before its next turn, and take the rest.
    co_await Yield();
    flooder.Abort();
    (void)co_await std::move(flooder);
    for (;;) {
      absl::StatusOr<int> value = co_await rx.Recv();
      if (!value.ok()) break;
      drained.push_back(*value);
    }
  }());
  EXPECT_GT(taken_by_flooder.size(), 0u);
  EXPECT_LT(taken_by_flooder.size(), static_cast<size_t>(kValues));
  std::vector<int> all = taken_by_flooder;
  all.insert(all.end(), drained.begin(), drained.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kValues));
  for (int i = 0; i < kValues; ++i) EXPECT_EQ(all[i], i);
}

// Outside a task nothing is counted: a loop of ready awaits in BlockOn's task still completes,
// and TrySend/TryRecv are not awaits at all.
TEST(BudgetTest, LongReadyLoopCompletes) {
  Runtime runtime({.num_workers = 2});
  auto [tx, rx] = Channel<int>::Unbounded();
  const int64_t sum = runtime.BlockOn([&, &tx = tx, &rx = rx]() -> Task<int64_t> {
    int64_t total = 0;
    for (int i = 0; i < 10 * kBudget + 3; ++i) {
      EXPECT_TRUE((co_await tx.Send(i)).ok());
      total += *(co_await rx.Recv());
    }
    co_return total;
  }());
  EXPECT_EQ(sum, int64_t{10 * kBudget + 3} * (10 * kBudget + 2) / 2);
}

// A task spawned just before its spawner starts a long computation waits in the spawner's LIFO
// slot; the monitor finds the worker stuck and the other worker, idle, takes it. The computation
// (which never awaits) runs until the task has started, capped at 10 s: the task must start on
// the other worker while the computation still runs, however fast the machine is.
TEST(StuckWorkerTest, LifoSlotIsStolenFromStuckWorker) {
  Runtime runtime({.num_workers = 2});
  struct Outcome {
    bool started_while_computing = false;
    bool on_the_other_worker = false;
  };
  const Outcome outcome = runtime.BlockOn([]() -> Task<Outcome> {
    // Let the other worker go idle (park) first.
    (void)co_await SleepFor(absl::Milliseconds(5));
    std::atomic<bool> started{false};
    std::thread::id child_thread;
    JoinHandle<void> child = Spawn([&started, &child_thread]() -> Task<void> {
      child_thread = std::this_thread::get_id();
      started.store(true, std::memory_order_release);
      co_return;
    });
    Outcome result;
    const auto cap = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < cap) {
      if (started.load(std::memory_order_acquire)) {
        result.started_while_computing = true;
        result.on_the_other_worker = child_thread != std::this_thread::get_id();
        break;
      }
    }
    EXPECT_TRUE((co_await std::move(child)).ok());
    co_return result;
  }());
  EXPECT_TRUE(outcome.started_while_computing) << "the slot's task did not start in 10 s";
  EXPECT_TRUE(outcome.on_the_other_worker);
}

}  // namespace
}  // namespace coral
