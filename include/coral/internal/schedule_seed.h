// Copyright 2026 The coral Authors.
//
// The seed of coral's seeded schedules, for tests (runtime/scheduler.cc, "Seeded schedules and
// the deterministic mode"). A seed makes a runtime's workers take their free choices (LIFO slot or
// queue, steal victim and amount, an injected yield at a ready await, the order of one reactor
// turn's wakes, the size of a global batch) from a generator seeded by it, so that a stress test
// run under many seeds explores many schedules, and a failure names the seed that found it.
//
// The seed of a runtime is Runtime::Options::schedule_seed if set, else this process's seed. A test
// binary that links //tests:seeded_main prints the process's seed when a test fails, as
// "CORAL_SCHEDULE_SEED=N": rerunning with that environment is the first step of reproduction.

#ifndef CORAL_INTERNAL_SCHEDULE_SEED_H_
#define CORAL_INTERNAL_SCHEDULE_SEED_H_

#include <cstdint>
#include <optional>

namespace coral::internal {

// The name of the environment variable that sets the process's seed.
inline constexpr char kScheduleSeedEnv[] = "CORAL_SCHEDULE_SEED";

// The process's seed: the decimal value of CORAL_SCHEDULE_SEED, read at the first call; none if
// the variable is unset or empty. Aborts with a message naming the variable if it is not a
// decimal number below 2^64. Thread-safe.
std::optional<uint64_t> ProcessScheduleSeed();

// SplitMix64's finalizer: spreads a seed (or a seed plus a worker's index) over 64 bits, so that
// nearby seeds start unrelated generators.
constexpr uint64_t MixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_SCHEDULE_SEED_H_
