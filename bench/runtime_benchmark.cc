// Copyright 2026 The coral Authors.
//
// Google Benchmark view of the core and synchronization micro workloads (bench/workloads.h), each
// on a 2-worker runtime, and the floor an uncontended mutex cannot go below on the machine at
// hand: a lock and an unlock are one atomic read-modify-write each (a compare-exchange to take
// the lock, and one to release it that also notices waiters), so BM_AtomicLockUnlockFloor's two
// compare-exchanges on an uncontended word bound BM_MutexUncontended from below. For comparisons
// with peers use coral_peerbench under ../shared/peers/run.sh, which measures every
// implementation in the same interleaved rounds.

#include <atomic>
#include <cstdint>

#include "bench/workloads.h"
#include "benchmark/benchmark.h"
#include "coral/runtime.h"

namespace coral::bench {
namespace {

Runtime& SharedRuntime() {
  static Runtime* runtime = new Runtime({.num_workers = 2});
  return *runtime;
}

void RunWorkload(benchmark::State& state, double (*workload)(Runtime&), double ops) {
  for (auto _ : state) state.SetIterationTime(workload(SharedRuntime()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * ops));
}

void BM_SpawnOutside(benchmark::State& state) { RunWorkload(state, SpawnOutside, kSpawnTasks); }
void BM_SpawnInside(benchmark::State& state) { RunWorkload(state, SpawnInside, kSpawnTasks); }
void BM_ChainedSpawn(benchmark::State& state) { RunWorkload(state, ChainedSpawn, kChainDepth); }
void BM_YieldMany(benchmark::State& state) {
  RunWorkload(state, YieldMany, kYieldTasks * kYieldsPerTask);
}

void BM_PingPong(benchmark::State& state) { RunWorkload(state, PingPong, kPingPongRounds); }
void BM_MutexUncontended(benchmark::State& state) {
  RunWorkload(state, MutexUncontended, kUncontendedLocks);
}
void BM_MutexContended(benchmark::State& state) {
  RunWorkload(state, MutexContended, kContendedTasks * kContendedLocksPerTask);
}
void BM_ChannelMpmc(benchmark::State& state) { RunWorkload(state, ChannelMpmc, kMpmcMessages); }

// One iteration: what AsyncMutex's fast paths do to its state word, and nothing else.
void BM_AtomicLockUnlockFloor(benchmark::State& state) {
  std::atomic<uint32_t> word{0};
  for (auto _ : state) {
    uint32_t unlocked = 0;
    word.compare_exchange_strong(unlocked, 1, std::memory_order_acquire);
    uint32_t locked = 1;
    word.compare_exchange_strong(locked, 0, std::memory_order_release);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_SpawnOutside)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpawnInside)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChainedSpawn)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YieldMany)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PingPong)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MutexUncontended)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MutexContended)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChannelMpmc)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AtomicLockUnlockFloor);

}  // namespace
}  // namespace coral::bench

BENCHMARK_MAIN();
