// Copyright 2026 The coral Authors.
//
// cooperative_yield: CPU-bound tasks sharing a worker. coral schedules cooperatively: a task runs
// until it awaits something, so a task that computes without awaiting keeps every other task on
// its worker waiting. On a runtime of one worker, a latency-sensitive ticker (sleeps 5 ms, then
// notes how late it woke) shares the worker with CPU-bound "hogs", three ways:
//
//   no yield       each hog computes all its work in one stretch: the ticker waits for it;
//   coral::Yield   each hog awaits coral::Yield() after every slice of work: the ticker runs
//                  between slices;
//   budget         each hog awaits something that is always ready (a set coral::Event) after
//                  every slice, never Yield: coral's cooperative budget (128 ready awaits per
//                  turn) makes it yield anyway.
//
// For each, it prints when each hog started computing (one after the other, or together), how
// often the ticker woke and how late (median and worst), and how long the hogs took.
//
//   bazel/bazelw run //examples:cooperative_yield -- --hogs=2 --work=150ms --slice=10us
//
// What bounds the ticker's lateness: a busy worker looks at its timers (and fds) every 61 task
// turns. With Yield a turn is one slice; under the budget it is 128 slices, so the bound is 61 x
// 128 x slice (80 ms with 10 us slices): the budget guarantees that a task's neighbours run, and
// Yield after each slice of real work keeps timers prompt.

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "coral/clock.h"
#include "coral/event.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/task_group.h"
#include "coral/yield.h"

ABSL_FLAG(int, hogs, 2, "CPU-bound tasks");
ABSL_FLAG(absl::Duration, work, absl::Milliseconds(150), "each hog's computing time");
ABSL_FLAG(absl::Duration, slice, absl::Microseconds(10), "the work between two awaits");
ABSL_FLAG(absl::Duration, tick, absl::Milliseconds(5), "the ticker's sleep");

namespace {

enum class Sharing { kNoYield, kYield, kBudget };

absl::Duration ThreadCpuTime() {
  timespec now;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return absl::DurationFromTimespec(now);
}

// Busy computing for `d` of this thread's CPU time (a stand-in for real work: hashing, parsing,
// compressing). CPU time, not wall time: on a busy machine the work then takes as long whichever
// way it is shared.
void Compute(absl::Duration d) {
  const absl::Duration end = ThreadCpuTime() + d;
  while (ThreadCpuTime() < end) {
  }
}

// What the tasks of one run share; all of them run on the one worker.
struct Shared {
  coral::Event ticker_started;
  coral::Event always_ready{/*set=*/true};
  int hogs_left = 0;
  coral::Instant start;
  std::vector<absl::Duration> lateness;
  std::vector<absl::Duration> hog_started;  // When each hog began computing, in order.
};

coral::Task<void> Ticker(Shared* shared) {
  shared->ticker_started.Set();
  const absl::Duration tick = absl::GetFlag(FLAGS_tick);
  while (shared->hogs_left > 0) {
    const coral::Instant due = coral::Now() + tick;
    (void)co_await coral::SleepFor(tick);
    shared->lateness.push_back(coral::Now() - due);
  }
}

coral::Task<void> Hog(Sharing sharing, Shared* shared) {
  (void)co_await shared->ticker_started.Wait();  // So that the ticker is asleep when we start.
  const absl::Duration slice = absl::GetFlag(FLAGS_slice);
  const int64_t slices = absl::GetFlag(FLAGS_work) / slice;
  shared->hog_started.push_back(coral::Now() - shared->start);
  if (sharing == Sharing::kNoYield) {
    Compute(slices * slice);  // All at once: nothing else runs on this worker meanwhile.
  } else {
    for (int64_t i = 0; i < slices; ++i) {
      Compute(slice);
      if (sharing == Sharing::kYield) {
        co_await coral::Yield();
      } else {
        // Ready at once, so this alone would never suspend; the budget makes every 128th yield.
        (void)co_await shared->always_ready.Wait();
      }
    }
  }
  --shared->hogs_left;
}

struct Outcome {
  std::vector<absl::Duration> lateness;  // Sorted.
  std::vector<absl::Duration> hog_started;
  absl::Duration took;
};

coral::Task<Outcome> Run(Sharing sharing) {
  Shared shared;
  shared.hogs_left = absl::GetFlag(FLAGS_hogs);
  shared.start = coral::Now();
  coral::TaskGroup group;
  group.Spawn(Ticker, &shared);
  for (int i = 0; i < absl::GetFlag(FLAGS_hogs); ++i) group.Spawn(Hog, sharing, &shared);
  (void)co_await group.Join();
  Outcome outcome{std::move(shared.lateness), std::move(shared.hog_started),
                  coral::Now() - shared.start};
  std::sort(outcome.lateness.begin(), outcome.lateness.end());
  co_return outcome;
}

void Print(const char* name, const Outcome& outcome) {
  const std::vector<absl::Duration>& late = outcome.lateness;
  auto ms = [](absl::Duration d) { return absl::ToDoubleMilliseconds(d); };
  std::string started;
  for (absl::Duration d : outcome.hog_started) {
    absl::StrAppend(&started, started.empty() ? "" : ", ", absl::StrFormat("%.1f", ms(d)));
  }
  std::printf(
      "%-12s: hogs started at %s ms; ticker woke %zu times, late by median %.2f ms, "
      "worst %.2f ms; the hogs took %.0f ms\n",
      name, started.c_str(), late.size(), late.empty() ? 0 : ms(late[late.size() / 2]),
      late.empty() ? 0 : ms(late.back()), ms(outcome.took));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::printf(
      "one worker; a ticker sleeping %s at a time and %d hogs computing %s each, in "
      "slices of %s\n",
      absl::FormatDuration(absl::GetFlag(FLAGS_tick)).c_str(), absl::GetFlag(FLAGS_hogs),
      absl::FormatDuration(absl::GetFlag(FLAGS_work)).c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_slice)).c_str());
  coral::Runtime runtime({.num_workers = 1});
  Print("no yield", runtime.BlockOn(Run(Sharing::kNoYield)));
  Print("coral::Yield", runtime.BlockOn(Run(Sharing::kYield)));
  Print("budget", runtime.BlockOn(Run(Sharing::kBudget)));
  return 0;
}
