// Copyright 2026 The coral Authors.
//
// coral's implementations of the micro workloads of ../shared/peers/WORKLOADS.md, shared by the
// Google Benchmark program (runtime_benchmark) and the peer-runner driver (coral_peerbench). Each
// function runs its workload once on `runtime` (2 workers, created by the caller and reused),
// checks its own result (aborting on a wrong one), and returns the measured seconds.

#ifndef CORAL_BENCH_WORKLOADS_H_
#define CORAL_BENCH_WORKLOADS_H_

#include <chrono>
#include <cstdint>

#include "coral/runtime.h"

namespace coral::bench {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point start);
// Aborts with `what` unless `ok`: a workload that computed a wrong result reports no time.
void Require(bool ok, const char* what);

inline constexpr int64_t kSpawnTasks = 1'000'000;
inline constexpr int64_t kChainDepth = 100'000;
inline constexpr int64_t kYieldTasks = 100;
inline constexpr int64_t kYieldsPerTask = 10'000;
inline constexpr int64_t kPingPongRounds = 100'000;
inline constexpr int64_t kUncontendedLocks = 1'000'000;
inline constexpr int64_t kContendedTasks = 8;
inline constexpr int64_t kContendedLocksPerTask = 100'000;
inline constexpr int64_t kMpmcProducers = 4;
inline constexpr int64_t kMpmcConsumers = 4;
inline constexpr int64_t kMpmcMessages = 1'000'000;
inline constexpr int64_t kMpmcCapacity = 1024;

// Main spawns kSpawnTasks trivial tasks, then waits for every JoinHandle.
double SpawnOutside(Runtime& runtime);
// A task on a worker spawns kSpawnTasks trivial children and awaits their JoinHandles; timed
// inside that task.
double SpawnInside(Runtime& runtime);
// Main spawns hop 1 of kChainDepth; each hop spawns the next; the last one signals main.
double ChainedSpawn(Runtime& runtime);
// Main spawns kYieldTasks tasks that each yield kYieldsPerTask times, and waits for all.
double YieldMany(Runtime& runtime);

// bench/sync_workloads.cc:
// Two tasks bounce a counter through two capacity-1 channels kPingPongRounds times.
double PingPong(Runtime& runtime);
// One task locks, increments and unlocks an AsyncMutex kUncontendedLocks times; timed inside it.
double MutexUncontended(Runtime& runtime);
// kContendedTasks tasks each lock/increment/unlock one AsyncMutex kContendedLocksPerTask times.
double MutexContended(Runtime& runtime);
// kMpmcProducers send kMpmcMessages u64 in all through one channel of kMpmcCapacity to
// kMpmcConsumers; closed when the last producer's Sender is dropped.
double ChannelMpmc(Runtime& runtime);

}  // namespace coral::bench

#endif  // CORAL_BENCH_WORKLOADS_H_
