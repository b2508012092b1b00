// Copyright 2026 The coral Authors.
//
// The TaskGroup lifecycle matrix, in the manner of tokio's task_combinations: child outcome {ok,
// throws, returns an error} x cancellation moment {before start, while suspended, while running,
// after completion} x source {the group, the parent, a deadline}. RunCombination runs one
// combination in a runtime that a MatrixMode describes; ExpectExactOutcome checks what the child
// observed and exactly what Join() reported.
//
// Two tests run it: task_group_matrix_test on 1, 2 and 4 workers, with a thread outside the
// runtime cancelling in real time, and deterministic_schedule_test in the deterministic mode under
// many seeds, with a sibling task cancelling and deadlines on the virtual clock.

#ifndef CORAL_TESTS_TASK_GROUP_MATRIX_H_
#define CORAL_TESTS_TASK_GROUP_MATRIX_H_

#include <atomic>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "coral/runtime.h"

namespace coral::testing {

enum class Outcome { kOk, kThrows, kError };
enum class Moment { kBeforeStart, kWhileSuspended, kWhileRunning, kAfterCompletion };
enum class Source { kGroup, kParent, kDeadline };

struct Combination {
  Outcome outcome;
  Moment moment;
  Source source;
};

// The 36 combinations.
std::vector<Combination> AllCombinations();
// "Ok_BeforeStart_Group": a test name.
std::string CombinationName(const Combination& combination);
// "BeforeStart".
std::string MomentName(Moment moment);
// For GoogleTest's messages.
void PrintTo(const Combination& combination, std::ostream* out);

// What the child did. Atomics: a thread outside the runtime watches them.
struct Probe {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> observed_cancellation{false};
};

// What the owner saw: Join's status, whether it threw, and the group's errors.
struct Observed {
  absl::Status joined;
  bool threw = false;
  size_t errors = 0;
};

// How a combination runs.
struct MatrixMode {
  enum class Canceller {
    // A thread outside the runtime, in real time: it cancels 2 ms after the child started.
    kOutsideThread,
    // A sibling task (the deterministic mode admits no outside threads): it cancels after a 1 ms
    // sleep on the runtime's clock (while suspended) or a yield (while running).
    kSiblingTask,
  };

  Runtime::Options options;
  // Who cancels the group or the parent at the moment (a deadline and a cancellation before the
  // start need nobody).
  Canceller canceller = Canceller::kOutsideThread;
};

// Runs `combination` in a new runtime made with `mode.options`; `probe` records what the child
// did. With a paused clock (options.start_paused), the running child also sleeps, shielded, so
// that virtual time passes for a deadline.
Observed RunCombination(const MatrixMode& mode, const Combination& combination, Probe* probe);

// Checks, with GoogleTest expectations, that the child finished, saw the cancellation exactly when
// the moment was before its end, and that Join() reported exactly the child's outcome.
void ExpectExactOutcome(const Combination& combination, const Probe& probe,
                        const Observed& observed);

}  // namespace coral::testing

#endif  // CORAL_TESTS_TASK_GROUP_MATRIX_H_
