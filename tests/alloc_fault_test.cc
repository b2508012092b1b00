// Copyright 2026 The coral Authors.
//
// Allocation failure injection (coral/internal/fault_injection.h): in each scenario, the i-th
// allocation of a coroutine frame, a channel node or a timer entry fails, for every i until the
// scenario completes without reaching it. Each failure must surface at the caller as its API
// documents (std::bad_alloc from a call or a co_await, absl::ResourceExhaustedError from an
// awaitable that returns a status), nothing may leak (LeakSanitizer under --config=asan) and
// nothing may crash. Each run uses a fresh one-worker runtime, so the sequence of allocations is
// the same from one index to the next.

#include <atomic>
#include <cstdio>
#include <new>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/interval.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/fault_injector.h"

namespace coral {
namespace {

using internal::AllocationSite;
using testing::AllocationFault;

constexpr int kMaxIndex = 1000;

// Runs `scenario` with allocation number `index` at `site` failing, for index = 0, 1, ... until a
// run completes without reaching it. `scenario` runs on a fresh runtime, checks its own outcome,
// and returns whether it saw a failure reported; that must be exactly when the fault was hit.
// Returns how many indices were covered (each of them failed once).
template <typename Scenario>
int ForEveryAllocation(const char* name, AllocationSite site, Scenario scenario) {
  for (int index = 0; index < kMaxIndex; ++index) {
    AllocationFault fault(site, index);
    const bool reported = scenario();
    EXPECT_EQ(reported, fault.hit()) << name << ", allocation " << index;
    if (!fault.hit() || ::testing::Test::HasFailure()) {
      std::printf("%s: %d allocation indices failed in turn\n", name, index);
      return index;
    }
  }
  ADD_FAILURE() << name << ": more than " << kMaxIndex << " allocations";
  return kMaxIndex;
}

// Suspends once, so that its task goes through the registry of suspended tasks and a wake-up.
Task<int> Leaf(int x) {
  co_await Yield();
  co_return x;
}

// One frame more: a failure to allocate Leaf's surfaces here, in the awaiting coroutine.
Task<int> Nested(int x) { co_return co_await Leaf(x) + 1; }

// --- Spawn -------------------------------------------------------------------------------------

Task<int> SpawnScenario(JoinHandle<int> outside) {
  // A plain function whose frame becomes the task's root, and a callable that needs a wrapper.
  JoinHandle<int> direct = Spawn(&Nested, 1);
  JoinHandle<int> wrapped = Spawn([](int x) -> Task<int> { co_return co_await Nested(x); }, 2);
  // A task's failure is an exception: the handle rethrows it (so the results are never errors).
  absl::StatusOr<int> a = co_await std::move(direct);
  absl::StatusOr<int> b = co_await std::move(wrapped);
  absl::StatusOr<int> c = co_await std::move(outside);
  co_return *a + *b + *c;
}

TEST(AllocFaultTest, SpawnThrowsBadAllocAtTheCallerOrThroughTheHandle) {
  const int covered = ForEveryAllocation("spawn", AllocationSite::kFrame, [] {
    Runtime runtime({.num_workers = 1});
    try {
      // Spawn from outside the runtime, then BlockOn: both throw if their frame fails.
      JoinHandle<int> outside = runtime.Spawn(&Nested, 10);
      EXPECT_EQ(runtime.BlockOn(SpawnScenario(std::move(outside))), 2 + 3 + 11);
      return false;
    } catch (const std::bad_alloc&) {
      return true;
    }
  });
  EXPECT_GE(covered, 10);
}

// --- TaskGroup ---------------------------------------------------------------------------------

Task<int> GroupScenario() {
  std::atomic<int> sum{0};
  TaskGroup group;
  for (int i = 0; i < 3; ++i) {
    group.Spawn(
        [&sum](int x) -> Task<void> {
          // Spawned under the group's token: the reference it takes is dropped if it fails.
          JoinHandle<int> inner = Spawn(&Nested, x);
          const int mine = co_await Nested(x);
          // Cancelled when a sibling failed (the group's first failure cancels the others).
          const absl::StatusOr<int> theirs = co_await std::move(inner);
          if (theirs.ok()) sum += mine + *theirs;
        },
        i);
  }
  // A child that failed, or could not be created, is the group's failure: Join rethrows it.
  const absl::Status joined = co_await group.Join();
  EXPECT_TRUE(joined.ok()) << joined;
  auto [a, b] = co_await WhenAll(Nested(1), Nested(2));
  co_return sum.load() + *a + *b;
}

TEST(AllocFaultTest, GroupChildFailuresAreRethrownByJoin) {
  const int covered = ForEveryAllocation("task group", AllocationSite::kFrame, [] {
    Runtime runtime({.num_workers = 1});
    try {
      EXPECT_EQ(runtime.BlockOn(GroupScenario()), (2 + 4 + 6) + (2 + 3));
      return false;
    } catch (const std::bad_alloc&) {
      return true;
    }
  });
  EXPECT_GE(covered, 10);
}

// --- Channels ----------------------------------------------------------------------------------

// Returns whether a send reported running out of memory.
Task<bool> ChannelScenario() {
  // Making a channel throws std::bad_alloc if its state cannot be allocated.
  auto [tx, rx] = Channel<int>::Unbounded();
  auto [bounded_tx, bounded_rx] = Channel<int>::Bounded(2);
  bool reported = false;
  std::vector<int> sent;
  for (int v = 0; v < 8; ++v) {
    SendResult<int> result;
    if (v % 2 == 0) {
      result = co_await tx.Send(v);
    } else {
      result = tx.TrySend(v);
    }
    if (result.ok()) {
      sent.push_back(v);
    } else {
      // The value comes back: nothing is lost.
      EXPECT_TRUE(absl::IsResourceExhausted(result.status)) << result.status;
      EXPECT_EQ(result.unsent, v);
      reported = true;
    }
  }
  const SendResult<int> bounded_sent = co_await bounded_tx.Send(100);
  EXPECT_TRUE(bounded_sent.ok());  // A bounded channel allocates nothing.
  tx.Close();
  std::vector<int> received;
  for (;;) {
    absl::StatusOr<int> value = co_await rx.Recv();
    if (!value.ok()) break;
    received.push_back(*value);
  }
  EXPECT_EQ(received, sent);
  const absl::StatusOr<int> bounded_received = co_await bounded_rx.Recv();
  EXPECT_EQ(bounded_received.value_or(-1), 100);
  co_return reported;
}

TEST(AllocFaultTest, ChannelFailuresReturnTheValue) {
  const int covered = ForEveryAllocation("channel", AllocationSite::kChannelNode, [] {
    Runtime runtime({.num_workers = 1});
    try {
      return runtime.BlockOn(ChannelScenario());
    } catch (const std::bad_alloc&) {
      return true;
    }
  });
  EXPECT_GE(covered, 10);
}

// --- Timers ------------------------------------------------------------------------------------

Task<absl::StatusOr<int>> SleepThen(int x) {
  const absl::Status slept = co_await SleepFor(absl::Milliseconds(5));
  if (!slept.ok()) co_return slept;
  co_return x;
}

// Returns how many operations reported running out of memory.
Task<int> TimerScenario() {
  int reported = 0;
  auto check = [&reported](const absl::Status& status, bool may_be_cancelled = false) {
    if (absl::IsResourceExhausted(status)) {
      ++reported;
    } else if (!(may_be_cancelled && absl::IsCancelled(status))) {
      EXPECT_TRUE(status.ok()) << status;
    }
  };
  // Sleeps return ResourceExhaustedError.
  check(co_await SleepFor(absl::Milliseconds(1)));
  check((co_await SleepThen(1)).status());
  // Timeout throws std::bad_alloc if its deadline's timer fails; its task's own sleep returns the
  // error, which Timeout passes on.
  try {
    absl::StatusOr<int> result = co_await Timeout(absl::Seconds(1), SleepThen(2));
    check(result.status());
  } catch (const std::bad_alloc&) {
    ++reported;
  }
  // So does CancellationSource::WithDeadline; the deadline then cuts the 5 ms sleep short.
  try {
    CancellationSource source = CancellationSource::WithDeadline(Now() + absl::Milliseconds(3));
    absl::StatusOr<int> result = co_await WithCancellation(source.token(), SleepThen(3));
    check(result.status(), /*may_be_cancelled=*/true);
    EXPECT_FALSE(result.ok());
  } catch (const std::bad_alloc&) {
    ++reported;
  }
  // An Interval's tick is a sleep.
  Interval ticker(absl::Milliseconds(2));
  for (int i = 0; i < 3; ++i) check(co_await ticker.Tick());
  co_return reported;
}

TEST(AllocFaultTest, TimerFailuresAreReportedByTheAwaitable) {
  const int covered = ForEveryAllocation("timer", AllocationSite::kTimerEntry, [] {
    // Paused time: the sleeps take no real time.
    Runtime runtime({.num_workers = 1, .start_paused = true});
    const int reported = runtime.BlockOn(TimerScenario());
    EXPECT_LE(reported, 1);
    return reported == 1;
  });
  EXPECT_GE(covered, 6);
}

}  // namespace
}  // namespace coral
