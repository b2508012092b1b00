// Copyright 2026 The coral Authors.
//
// Google Benchmark view of the core micro workloads (bench/workloads.h), each on a 2-worker
// runtime. For comparisons with peers use coral_peerbench under ../shared/peers/run.sh, which
// measures every implementation in the same interleaved rounds.

#include "benchmark/benchmark.h"
#include "bench/workloads.h"
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

BENCHMARK(BM_SpawnOutside)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpawnInside)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ChainedSpawn)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_YieldMany)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace coral::bench

BENCHMARK_MAIN();
