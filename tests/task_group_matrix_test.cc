// Copyright 2026 The coral Authors.
//
// The TaskGroup lifecycle matrix, in the manner of tokio's task_combinations: workers {1, 2, 4} x
// child outcome {ok, throws, returns an error} x cancellation moment {before start, while
// suspended, while running, after completion} x source {the group, the parent, a deadline}. Every
// combination checks what the child observed and exactly what Join() reports.

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

enum class Outcome { kOk, kThrows, kError };
enum class Moment { kBeforeStart, kWhileSuspended, kWhileRunning, kAfterCompletion };
enum class Source { kGroup, kParent, kDeadline };

struct Probe {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> observed_cancellation{false};
};

Task<absl::Status> Child(Outcome outcome, Moment moment, Probe* probe) {
  probe->started = true;
  if (moment == Moment::kBeforeStart || moment == Moment::kWhileSuspended) {
    absl::Status slept = co_await SleepFor(absl::Seconds(30));
    probe->observed_cancellation = absl::IsCancelled(slept);
  } else if (moment == Moment::kWhileRunning) {
    // Runs (yielding, never waiting on a cancellable operation) until it sees the cancellation.
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (!CurrentCancellationToken().IsCancelled() && absl::Now() < give_up) co_await Yield();
    probe->observed_cancellation = CurrentCancellationToken().IsCancelled();
  }
  probe->finished = true;
  switch (outcome) {
    case Outcome::kOk:
      co_return absl::OkStatus();
    case Outcome::kError:
      co_return absl::InternalError("child error");
    case Outcome::kThrows:
      throw std::runtime_error("child threw");
  }
  co_return absl::OkStatus();
}

// What the owner saw: Join's status, whether it threw, and the group's errors.
struct Observed {
  absl::Status joined;
  bool threw = false;
  size_t errors = 0;
};

class MatrixTest : public ::testing::TestWithParam<std::tuple<int, Outcome, Moment, Source>> {};

TEST_P(MatrixTest, ExactOutcome) {
  const auto [workers, outcome, moment, source] = GetParam();
  Runtime runtime({.num_workers = workers});
  Probe probe;
  CancellationSource parent;
  std::atomic<TaskGroup*> group_to_cancel{nullptr};
  std::atomic<bool> external_cancel_done{moment == Moment::kBeforeStart ||
                                         source == Source::kDeadline};

  // An outside thread cancels the group or the parent at the chosen moment.
  std::thread canceller;
  if (!external_cancel_done.load()) {
    canceller = std::thread([&, moment = moment, source = source] {
      if (moment == Moment::kAfterCompletion) {
        while (!probe.finished.load()) std::this_thread::yield();
      } else {
        while (!probe.started.load()) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (source == Source::kGroup) {
        while (group_to_cancel.load() == nullptr) std::this_thread::yield();
        group_to_cancel.load()->Cancel();
      } else {
        parent.Cancel();
      }
      external_cancel_done = true;
    });
  }

  auto owner = [&, outcome = outcome, moment = moment, source = source]() -> Task<Observed> {
    Observed observed;
    TaskGroup group;
    group_to_cancel = &group;
    if (moment == Moment::kBeforeStart) {
      if (source == Source::kGroup) group.Cancel();
      if (source == Source::kParent) parent.Cancel();
      if (source == Source::kDeadline) (void)co_await CurrentCancellationToken().Cancelled();
    }
    group.Spawn(Child, outcome, moment, &probe);
    if (source == Source::kDeadline && moment == Moment::kAfterCompletion) {
      while (!probe.finished.load()) co_await Yield();
      (void)co_await CurrentCancellationToken().Cancelled();
    }
    try {
      observed.joined = co_await group.Join();
    } catch (const std::runtime_error& e) {
      observed.threw = std::string(e.what()) == "child threw";
    }
    observed.errors = group.errors().size();
    // The outside canceller may still be about to call group.Cancel().
    while (!external_cancel_done.load()) co_await Yield();
    co_return observed;
  };
  auto run = [&, moment = moment, source = source]() -> Task<Observed> {
    if (source == Source::kParent) co_return co_await WithCancellation(parent.token(), owner());
    if (source == Source::kDeadline) {
      const absl::Duration delay =
          moment == Moment::kBeforeStart ? absl::ZeroDuration() : absl::Milliseconds(15);
      CancellationSource deadline =
          CancellationSource::WithDeadline(absl::Now() + delay, CurrentCancellationToken());
      co_return co_await WithCancellation(deadline.token(), owner());
    }
    co_return co_await owner();
  };

  const absl::Time start = absl::Now();
  const Observed observed = runtime.BlockOn(run());
  if (canceller.joinable()) canceller.join();

  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_TRUE(probe.finished.load());
  EXPECT_EQ(probe.observed_cancellation.load(), moment != Moment::kAfterCompletion);
  switch (outcome) {
    case Outcome::kOk:
      EXPECT_TRUE(observed.joined.ok()) << observed.joined;
      EXPECT_FALSE(observed.threw);
      EXPECT_EQ(observed.errors, 0u);
      break;
    case Outcome::kError:
      EXPECT_EQ(observed.joined, absl::InternalError("child error"));
      EXPECT_FALSE(observed.threw);
      EXPECT_EQ(observed.errors, 1u);
      break;
    case Outcome::kThrows:
      EXPECT_TRUE(observed.threw);
      EXPECT_EQ(observed.errors, 1u);
      break;
  }
}

std::string Name(const ::testing::TestParamInfo<MatrixTest::ParamType>& info) {
  const auto [workers, outcome, moment, source] = info.param;
  static constexpr const char* kOutcomes[] = {"Ok", "Throws", "Error"};
  static constexpr const char* kMoments[] = {"BeforeStart", "WhileSuspended", "WhileRunning",
                                             "AfterCompletion"};
  static constexpr const char* kSources[] = {"Group", "Parent", "Deadline"};
  return absl::StrCat("Workers", workers, "_", kOutcomes[static_cast<int>(outcome)], "_",
                      kMoments[static_cast<int>(moment)], "_", kSources[static_cast<int>(source)]);
}

INSTANTIATE_TEST_SUITE_P(
    TaskGroupLifecycle, MatrixTest,
    ::testing::Combine(::testing::Values(1, 2, 4),
                       ::testing::Values(Outcome::kOk, Outcome::kThrows, Outcome::kError),
                       ::testing::Values(Moment::kBeforeStart, Moment::kWhileSuspended,
                                         Moment::kWhileRunning, Moment::kAfterCompletion),
                       ::testing::Values(Source::kGroup, Source::kParent, Source::kDeadline)),
    Name);

}  // namespace
}  // namespace coral
