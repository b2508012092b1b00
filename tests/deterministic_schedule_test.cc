// Copyright 2026 The coral Authors.
//
// The deterministic mode (runtime.h, "Seeded schedules"): one worker, a paused clock, and a seed
// that picks which ready task runs next.
//
// The replay tests record an event trace of a primitive under contention (mutex hand-off with
// cancellations, a channel closed under its senders and receivers, a task group whose child
// fails) and check three things for every seed: the primitive's own invariants, that a second run
// with the seed records the same trace, and that the seeds between them produce several
// different interleavings (a mode that ignored its seed would pass the first two).
//
// The matrices: the task group lifecycle matrix (tests/task_group_matrix.h, the scenario that
// task_group_matrix_test runs on real threads) and an abort lifecycle matrix (the deterministic
// counterpart of stress/lifecycle_stress_test.cc's random aborts). In the mode, cancellations come
// from tasks of the runtime at chosen points and deadlines from the virtual clock, instead of
// outside threads and real time; each combination runs under every seed and checks its exact
// outcome.
//
// Seeds: 1..kDefaultSeeds, or CORAL_SCHEDULE_SEED and the CORAL_DETERMINISTIC_SEEDS seeds after it
// (docs/reliability.md: how to run many seeds).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "coral/async_mutex.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/internal/schedule_seed.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/task_group_matrix.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::DropCounter;
using ::coral::testing::Moment;
using ::coral::testing::Probe;

constexpr uint64_t kDefaultSeeds = 100;

// The seeds every test here runs under.
std::vector<uint64_t> Seeds() {
  uint64_t first = internal::ProcessScheduleSeed().value_or(1);
  uint64_t count = kDefaultSeeds;
  if (const char* text = std::getenv("CORAL_DETERMINISTIC_SEEDS")) {
    if (!absl::SimpleAtoi(text, &count) || count == 0) {
      ADD_FAILURE() << "CORAL_DETERMINISTIC_SEEDS must be a positive number, not " << text;
      count = kDefaultSeeds;
    }
  }
  std::vector<uint64_t> seeds;
  for (uint64_t i = 0; i < count; ++i) seeds.push_back(first + i);
  return seeds;
}

Runtime::Options Deterministic(uint64_t seed) {
  return {.num_workers = 1, .start_paused = true, .schedule_seed = seed, .deterministic = true};
}

std::string SeedTrace(uint64_t seed) { return absl::StrCat(internal::kScheduleSeedEnv, "=", seed); }

// A trace of events, each stamped with the virtual time since the scenario began.
class Trace {
 public:
  Trace() : start_(Now()) {}
  template <typename... Parts>
  void Record(const Parts&... parts) {
    events_.push_back(absl::StrCat(absl::ToInt64Milliseconds(Now() - start_), "ms ", parts...));
  }
  const std::vector<std::string>& events() const { return events_; }

 private:
  Instant start_;
  std::vector<std::string> events_;
};

// Runs `scenario(&trace)` in a fresh deterministic runtime and returns the trace.
template <typename Scenario>
std::vector<std::string> Replay(uint64_t seed, Scenario scenario) {
  Runtime runtime(Deterministic(seed));
  return runtime.BlockOn([](Scenario scenario) -> Task<std::vector<std::string>> {
    Trace trace;
    co_await scenario(&trace);
    co_return trace.events();
  }(scenario));
}

// Every seed replays its trace, and the seeds give at least `min_distinct` interleavings.
template <typename Scenario>
void ExpectReplaysFromSeed(Scenario scenario, size_t min_distinct) {
  std::set<std::vector<std::string>> distinct;
  for (uint64_t seed : Seeds()) {
    SCOPED_TRACE(SeedTrace(seed));
    const std::vector<std::string> first = Replay(seed, scenario);
    const std::vector<std::string> second = Replay(seed, scenario);
    EXPECT_EQ(first, second) << "first run:\n" << absl::StrJoin(first, "\n");
    distinct.insert(first);
  }
  EXPECT_GE(distinct.size(), std::min(min_distinct, Seeds().size()));
  ::testing::Test::RecordProperty("distinct_interleavings", static_cast<int>(distinct.size()));
}

// --- Mutex hand-off with cancellations ----------------------------------------------------------

// Takes the mutex three times, holding it across a yield and a sleep; stops at a cancelled Lock.
Task<void> Contender(int id, AsyncMutex* mutex, int* holders, Trace* trace) {
  for (int round = 0; round < 3; ++round) {
    auto guard = co_await mutex->Lock();
    if (!guard.ok()) {
      EXPECT_TRUE(absl::IsCancelled(guard.status())) << guard.status();
      trace->Record("contender ", id, " cancelled in round ", round);
      co_return;
    }
    EXPECT_EQ(++*holders, 1) << "two holders of the mutex";
    trace->Record("contender ", id, " locked");
    co_await Yield();
    (void)co_await SleepFor(absl::Milliseconds(1 + id % 2));
    --*holders;
    trace->Record("contender ", id, " unlocks");
  }
}

Task<void> MutexScenario(Trace* trace) {
  constexpr int kContenders = 5;
  AsyncMutex mutex;
  int holders = 0;
  std::vector<CancellationSource> sources(kContenders);
  TaskGroup group;
  for (int id = 0; id < kContenders; ++id) {
    group.Spawn(
        [](CancellationToken token, int id, AsyncMutex* mutex, int* holders,
           Trace* trace) -> Task<void> {
          co_await WithCancellation(std::move(token), Contender(id, mutex, holders, trace));
        },
        sources[id].token(), id, &mutex, &holders, trace);
  }
  // Cancels two contenders at points of the interleaving: whoever is queued for the mutex then
  // must leave the queue without the lock, and a grant racing the cancellation is not lost.
  group.Spawn([&sources, trace]() -> Task<void> {
    for (int i = 0; i < 3; ++i) co_await Yield();
    trace->Record("cancel 1");
    sources[1].Cancel();
    (void)co_await SleepFor(absl::Milliseconds(2));
    trace->Record("cancel 3");
    sources[3].Cancel();
  });
  EXPECT_TRUE((co_await group.Join()).ok());
  EXPECT_EQ(holders, 0);
  // Nothing granted was lost: the mutex is free.
  EXPECT_TRUE(mutex.TryLock().has_value());
}

TEST(DeterministicSchedule, MutexHandOffWithCancellationsReplays) {
  ExpectReplaysFromSeed([](Trace* trace) { return MutexScenario(trace); }, 4);
}

// --- Channel close ------------------------------------------------------------------------------

Task<void> ChannelScenario(Trace* trace) {
  constexpr int kProducers = 3;
  constexpr int kValuesEach = 4;
  auto [tx, rx] = Channel<int>::Bounded(2);
  int received = 0;
  int unsent = 0;
  TaskGroup group;
  for (int p = 0; p < kProducers; ++p) {
    group.Spawn(
        [](Sender<int> tx, int p, int* unsent, Trace* trace) -> Task<void> {
          for (int k = 0; k < kValuesEach; ++k) {
            SendResult<int> sent = co_await tx.Send(p * 10 + k);
            if (sent.ok()) {
              trace->Record("sent ", p * 10 + k);
            } else {
              EXPECT_TRUE(absl::IsFailedPrecondition(sent.status)) << sent.status;
              EXPECT_EQ(sent.unsent, p * 10 + k);
              trace->Record("refused ", p * 10 + k);
              ++*unsent;
            }
          }
        },
        tx, p, &unsent, trace);
  }
  for (int c = 0; c < 2; ++c) {
    group.Spawn(
        [](Receiver<int> rx, int c, int* received, Trace* trace) -> Task<void> {
          for (;;) {
            absl::StatusOr<int> value = co_await rx.Recv();
            if (!value.ok()) {
              EXPECT_TRUE(absl::IsOutOfRange(value.status())) << value.status();
              trace->Record("receiver ", c, " sees the close");
              co_return;
            }
            trace->Record("receiver ", c, " got ", *value);
            ++*received;
            if (*value % 3 == 0) co_await Yield();
          }
        },
        rx, c, &received, trace);
  }
  // Closes the sending side after a few turns, with values buffered and senders waiting.
  group.Spawn([tx, trace]() mutable -> Task<void> {
    for (int i = 0; i < 4; ++i) co_await Yield();
    trace->Record("close");
    tx.Close();
  });
  EXPECT_TRUE((co_await group.Join()).ok());
  // Every value was either received or handed back to its sender.
  EXPECT_EQ(received + unsent, kProducers * kValuesEach);
}

TEST(DeterministicSchedule, ChannelCloseReplays) {
  ExpectReplaysFromSeed([](Trace* trace) { return ChannelScenario(trace); }, 4);
}

// --- Task group failure -------------------------------------------------------------------------

Task<void> GroupFailureScenario(Trace* trace) {
  TaskGroup group;
  for (int id = 0; id < 5; ++id) {
    group.Spawn(
        [](int id, Trace* trace) -> Task<absl::Status> {
          for (int step = 0; step < 3; ++step) {
            if (id == 2 && step == 1) {
              trace->Record("child 2 fails");
              co_return absl::InternalError("child 2");
            }
            // Even children sleep; odd ones wait for the cancellation the failure brings.
            if (id % 2 == 0) {
              (void)co_await SleepFor(absl::Milliseconds(1));
            } else {
              (void)co_await CurrentCancellationToken().Cancelled();
            }
            if (CurrentCancellationToken().IsCancelled()) {
              trace->Record("child ", id, " cancelled at step ", step);
              co_return absl::OkStatus();
            }
            co_await Yield();
          }
          trace->Record("child ", id, " done");
          co_return absl::OkStatus();
        },
        id, trace);
  }
  const absl::Status joined = co_await group.Join();
  EXPECT_EQ(joined, absl::InternalError("child 2"));
  trace->Record("joined: ", joined.ToString());
}

TEST(DeterministicSchedule, GroupFailureReplays) {
  ExpectReplaysFromSeed([](Trace* trace) { return GroupFailureScenario(trace); }, 3);
}

// A seed is more than a label: two seeds whose first choice differs run the first two ready tasks
// in different orders.
TEST(DeterministicSchedule, SeedsOrderReadyTasks) {
  std::set<std::vector<std::string>> orders;
  for (uint64_t seed : Seeds()) {
    orders.insert(Replay(seed, [](Trace* trace) -> Task<void> {
      TaskGroup group;
      for (int id = 0; id < 4; ++id) {
        group.Spawn(
            [](int id, Trace* trace) -> Task<void> {
              trace->Record("task ", id);
              co_return;
            },
            id, trace);
      }
      (void)co_await group.Join();
    }));
  }
  // 4! orders: the seeds reach well beyond one.
  EXPECT_GE(orders.size(), std::min<size_t>(6, Seeds().size()));
  ::testing::Test::RecordProperty("distinct_orders", static_cast<int>(orders.size()));
}

// --- The task group lifecycle matrix, deterministic ----------------------------------------------

// The matrix of tests/task_group_matrix.h with a sibling task cancelling at the moment and
// deadlines on the virtual clock.
class DeterministicGroupMatrix : public ::testing::TestWithParam<testing::Combination> {};

TEST_P(DeterministicGroupMatrix, ExactOutcomeUnderEverySeed) {
  const testing::Combination& combination = GetParam();
  for (uint64_t seed : Seeds()) {
    SCOPED_TRACE(SeedTrace(seed));
    Probe probe;
    const testing::Observed observed = RunCombination(
        {.options = Deterministic(seed), .canceller = testing::MatrixMode::Canceller::kSiblingTask},
        combination, &probe);
    ExpectExactOutcome(combination, probe, observed);
  }
}

INSTANTIATE_TEST_SUITE_P(TaskGroupLifecycle, DeterministicGroupMatrix,
                         ::testing::ValuesIn(testing::AllCombinations()),
                         [](const ::testing::TestParamInfo<testing::Combination>& info) {
                           return testing::CombinationName(info.param);
                         });

// --- The abort lifecycle matrix, deterministic ---------------------------------------------------

enum class Fate { kJoined, kDropped };

class DeterministicAbortMatrix : public ::testing::TestWithParam<std::tuple<Moment, Fate>> {};

TEST_P(DeterministicAbortMatrix, OneOutcomeAndOneDestructionUnderEverySeed) {
  const auto [moment, fate] = GetParam();
  for (uint64_t seed : Seeds()) {
    SCOPED_TRACE(SeedTrace(seed));
    Runtime runtime(Deterministic(seed));
    Probe probe;
    std::atomic<int> drops{0};
    std::optional<absl::StatusOr<int>> joined;
    runtime.BlockOn([&]() -> Task<void> {
      JoinHandle<int> handle = Spawn(
          [](DropCounter guard, Moment moment, Probe* probe) -> Task<int> {
            DropCounter local(std::move(guard));
            probe->started = true;
            if (moment == Moment::kWhileSuspended) {
              (void)co_await SleepFor(absl::Seconds(30));
            } else if (moment == Moment::kWhileRunning) {
              for (int i = 0; i < 100'000; ++i) co_await Yield();
            }
            probe->finished = true;
            co_return 7;
          },
          DropCounter(&drops), moment, &probe);
      // The abort lands at the moment, whichever of the ready tasks the seed runs meanwhile.
      if (moment == Moment::kAfterCompletion) {
        while (!probe.finished.load()) co_await Yield();
      } else if (moment != Moment::kBeforeStart) {
        while (!probe.started.load()) co_await Yield();
        co_await Yield();
      }
      handle.Abort();
      if (fate == Fate::kJoined) {
        joined = co_await std::move(handle);
      } else {
        handle = JoinHandle<int>();
        // The torn-down or finished frame goes at the task's next turn.
        for (int i = 0; i < 1000 && drops.load() == 0; ++i) co_await Yield();
      }
    }());
    EXPECT_EQ(drops.load(), 1);
    EXPECT_EQ(probe.finished.load(), moment == Moment::kAfterCompletion);
    EXPECT_EQ(probe.started.load(), moment != Moment::kBeforeStart);
    if (fate == Fate::kJoined) {
      ASSERT_TRUE(joined.has_value());
      if (moment == Moment::kAfterCompletion) {
        ASSERT_TRUE(joined->ok()) << joined->status();
        EXPECT_EQ(**joined, 7);
      } else {
        EXPECT_TRUE(absl::IsCancelled(joined->status())) << joined->status();
      }
    }
  }
}

std::string AbortName(const ::testing::TestParamInfo<DeterministicAbortMatrix::ParamType>& info) {
  const auto [moment, fate] = info.param;
  return absl::StrCat(testing::MomentName(moment), "_",
                      fate == Fate::kJoined ? "Joined" : "Dropped");
}

INSTANTIATE_TEST_SUITE_P(
    Lifecycle, DeterministicAbortMatrix,
    ::testing::Combine(::testing::Values(Moment::kBeforeStart, Moment::kWhileSuspended,
                                         Moment::kWhileRunning, Moment::kAfterCompletion),
                       ::testing::Values(Fate::kJoined, Fate::kDropped)),
    AbortName);

// The mode's preconditions are checked.
TEST(DeterministicScheduleDeathTest, NeedsOneWorkerAndPausedClock) {
  EXPECT_DEATH(Runtime({.num_workers = 2, .start_paused = true, .deterministic = true}),
               "deterministic needs num_workers = 1 and start_paused");
  EXPECT_DEATH(Runtime({.num_workers = 1, .deterministic = true}),
               "deterministic needs num_workers = 1 and start_paused");
}

}  // namespace
}  // namespace coral
