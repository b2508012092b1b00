// Copyright 2026 The coral Authors.

#include "tests/task_group_matrix.h"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/cancellation.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/sleep.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/yield.h"
#include "gtest/gtest.h"

namespace coral::testing {
namespace {

constexpr const char* kOutcomeNames[] = {"Ok", "Throws", "Error"};
constexpr const char* kMomentNames[] = {"BeforeStart", "WhileSuspended", "WhileRunning",
                                        "AfterCompletion"};
constexpr const char* kSourceNames[] = {"Group", "Parent", "Deadline"};

Task<absl::Status> Nap() { co_return co_await SleepFor(absl::Milliseconds(1)); }

Task<absl::Status> Child(Outcome outcome, Moment moment, bool nap_while_running, Probe* probe) {
  probe->started = true;
  if (moment == Moment::kBeforeStart || moment == Moment::kWhileSuspended) {
    absl::Status slept = co_await SleepFor(absl::Seconds(30));
    probe->observed_cancellation = absl::IsCancelled(slept);
  } else if (moment == Moment::kWhileRunning) {
    // Runs, never in a cancellable wait, until it sees the cancellation: it yields, and on a
    // paused clock also sleeps shielded, so that virtual time passes for a deadline.
    const Instant give_up = Now() + absl::Seconds(10);
    for (int i = 0; !CurrentCancellationToken().IsCancelled() && Now() < give_up; ++i) {
      if (nap_while_running && i % 2 == 1) {
        (void)co_await Shielded(Nap());
      } else {
        co_await Yield();
      }
    }
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

}  // namespace

std::vector<Combination> AllCombinations() {
  std::vector<Combination> all;
  for (Outcome outcome : {Outcome::kOk, Outcome::kThrows, Outcome::kError}) {
    for (Moment moment : {Moment::kBeforeStart, Moment::kWhileSuspended, Moment::kWhileRunning,
                          Moment::kAfterCompletion}) {
      for (Source source : {Source::kGroup, Source::kParent, Source::kDeadline}) {
        all.push_back({outcome, moment, source});
      }
    }
  }
  return all;
}

std::string MomentName(Moment moment) { return kMomentNames[static_cast<int>(moment)]; }

std::string CombinationName(const Combination& combination) {
  return absl::StrCat(kOutcomeNames[static_cast<int>(combination.outcome)], "_",
                      MomentName(combination.moment), "_",
                      kSourceNames[static_cast<int>(combination.source)]);
}

void PrintTo(const Combination& combination, std::ostream* out) {
  *out << CombinationName(combination);
}

Observed RunCombination(const MatrixMode& mode, const Combination& combination, Probe* probe) {
  const Outcome outcome = combination.outcome;
  const Moment moment = combination.moment;
  const Source source = combination.source;
  Runtime runtime(mode.options);
  CancellationSource parent;
  std::atomic<TaskGroup*> group_to_cancel{nullptr};
  // Whether the canceller has cancelled: the owner keeps the group alive until then.
  std::atomic<bool> cancel_done{moment == Moment::kBeforeStart || source == Source::kDeadline};
  const bool needs_canceller = !cancel_done.load();

  // The owner publishes the group before it spawns the child, so the group is there once the
  // child has started.
  auto cancel = [&] {
    if (source == Source::kGroup) {
      group_to_cancel.load()->Cancel();
    } else {
      parent.Cancel();
    }
    cancel_done = true;
  };
  std::thread outside_canceller;
  if (needs_canceller && mode.canceller == MatrixMode::Canceller::kOutsideThread) {
    outside_canceller = std::thread([&] {
      if (moment == Moment::kAfterCompletion) {
        while (!probe->finished.load()) std::this_thread::yield();
      } else {
        while (!probe->started.load()) std::this_thread::yield();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      cancel();
    });
  }
  auto sibling_canceller = [&]() -> Task<void> {
    if (moment == Moment::kAfterCompletion) {
      while (!probe->finished.load()) co_await Yield();
    } else {
      while (!probe->started.load()) co_await Yield();
      if (moment == Moment::kWhileSuspended) {
        (void)co_await SleepFor(absl::Milliseconds(1));
      } else {
        co_await Yield();
      }
    }
    cancel();
  };

  auto owner = [&]() -> Task<Observed> {
    Observed observed;
    TaskGroup group;
    group_to_cancel = &group;
    if (moment == Moment::kBeforeStart) {
      if (source == Source::kGroup) group.Cancel();
      if (source == Source::kParent) parent.Cancel();
      if (source == Source::kDeadline) (void)co_await CurrentCancellationToken().Cancelled();
    }
    group.Spawn(Child, outcome, moment, mode.options.start_paused, probe);
    if (source == Source::kDeadline && moment == Moment::kAfterCompletion) {
      while (!probe->finished.load()) co_await Yield();
      (void)co_await CurrentCancellationToken().Cancelled();
    }
    try {
      observed.joined = co_await group.Join();
    } catch (const std::runtime_error& e) {
      observed.threw = std::string(e.what()) == "child threw";
    }
    observed.errors = group.errors().size();
    // The canceller may still be about to call group.Cancel().
    while (!cancel_done.load()) co_await Yield();
    group_to_cancel = nullptr;
    co_return observed;
  };
  auto run = [&]() -> Task<Observed> {
    std::optional<JoinHandle<void>> cancelling;
    if (needs_canceller && mode.canceller == MatrixMode::Canceller::kSiblingTask) {
      cancelling.emplace(Spawn(sibling_canceller));
    }
    Observed observed;
    if (source == Source::kParent) {
      observed = co_await WithCancellation(parent.token(), owner());
    } else if (source == Source::kDeadline) {
      const absl::Duration delay =
          moment == Moment::kBeforeStart ? absl::ZeroDuration() : absl::Milliseconds(15);
      CancellationSource deadline =
          CancellationSource::WithDeadline(Now() + delay, CurrentCancellationToken());
      observed = co_await WithCancellation(deadline.token(), owner());
    } else {
      observed = co_await owner();
    }
    if (cancelling.has_value()) {
      EXPECT_TRUE((co_await std::move(*cancelling)).ok());
    }
    co_return observed;
  };

  const Observed observed = runtime.BlockOn(run());
  if (outside_canceller.joinable()) outside_canceller.join();
  return observed;
}

void ExpectExactOutcome(const Combination& combination, const Probe& probe,
                        const Observed& observed) {
  EXPECT_TRUE(probe.finished.load());
  EXPECT_EQ(probe.observed_cancellation.load(), combination.moment != Moment::kAfterCompletion);
  switch (combination.outcome) {
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

}  // namespace coral::testing
