// Copyright 2026 The coral Authors.
//
// Running a model: a Relacy test suite (a struct deriving rl::test_suite<Model, threads>, whose
// thread(i) bodies call coral's shipped code compiled with CORAL_MODEL_CHECK) is explored twice:
//   - exhaustively within a preemption bound (Relacy's context-bound scheduler: every schedule
//     with at most `bound` preemptions, each with every weak-memory outcome Relacy models);
//   - under `random_iterations` random schedules, which reach deeper preemption counts.
// CORAL_MODEL_BOUND and CORAL_MODEL_ITERATIONS (environment) raise both for a longer run. A
// failing model prints Relacy's history of the failing execution (every atomic operation, with
// its source line and the value it read) and fails the test.

#ifndef CORAL_TESTS_MODEL_MODEL_H_
#define CORAL_TESTS_MODEL_MODEL_H_

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "coral/internal/sync_primitives.h"
#include "gtest/gtest.h"

#if defined(__SANITIZE_ADDRESS__)
// Relacy's inline replacements of operator new and delete bind unevenly across the binary's
// libraries, so ASan sees blocks from one allocator freed by another before any model runs.
extern "C" const char* __asan_default_options() { return "alloc_dealloc_mismatch=0"; }
#endif

namespace coral::model_check {

struct Bounds {
  unsigned preemption_bound = 2;
  uint64_t random_iterations = 20000;
};

inline uint64_t FromEnvironment(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::strtoull(value, nullptr, 10);
}

// Explores `Model` as described above; returns false (after printing the failing history) if an
// execution failed an assertion, deadlocked, livelocked or leaked a Relacy object.
template <typename Model>
bool Explore(Bounds bounds) {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // Relacy runs its simulated threads as ucontext fibers of one thread, which TSan cannot follow
  // and ASan supports only in part (it warns of false positives, and the models then outlast a
  // test's time limit). Relacy checks the models' memory itself: leaks, double frees, accesses
  // to freed atomics.
  [] { GTEST_SKIP() << "Relacy's fibers are not supported by the sanitizers"; }();
  return true;
#endif
  bounds.preemption_bound =
      static_cast<unsigned>(FromEnvironment("CORAL_MODEL_BOUND", bounds.preemption_bound));
  bounds.random_iterations = FromEnvironment("CORAL_MODEL_ITERATIONS", bounds.random_iterations);

  std::ostringstream progress;  // Relacy's percentage lines: not worth a test log.
  rl::test_params exhaustive;
  exhaustive.progress_stream = &progress;
  exhaustive.search_type = rl::sched_bound;
  exhaustive.context_bound = bounds.preemption_bound;
  if (!rl::simulate<Model>(exhaustive)) return false;
  std::cout << "preemption bound " << bounds.preemption_bound << ": " << exhaustive.stop_iteration
            << " executions explored" << std::endl;

  rl::test_params random;
  random.progress_stream = &progress;
  random.search_type = rl::sched_random;
  random.iteration_count = bounds.random_iterations;
  if (!rl::simulate<Model>(random)) return false;
  std::cout << "random: " << random.stop_iteration << " executions" << std::endl;
  return true;
}

}  // namespace coral::model_check

#endif  // CORAL_TESTS_MODEL_MODEL_H_
