// Copyright 2026 The coral Authors.
//
// coral::Timeout around a task that is ready at once, inside one task on a 2-worker runtime: what
// a deadline costs when it never fires (a child token with a timer entry, armed and removed), next
// to awaiting the same task bare. tokio's counterpart is bench/tokio_timeout (tokio::time::timeout
// around a ready future). The ns_per_op counter is the time per await.

#include <chrono>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "coral/coral.h"

namespace coral::bench {
namespace {

constexpr int kBatch = 100000;

Runtime& SharedRuntime() {
  static Runtime* runtime = new Runtime({.num_workers = 2});
  return *runtime;
}

Task<uint64_t> Ready(uint64_t x) { co_return x; }

// Seconds for kBatch awaits, measured inside the task.
template <bool kWithTimeout>
Task<double> Batch() {
  const auto start = std::chrono::steady_clock::now();
  uint64_t sum = 0;
  for (uint64_t i = 0; i < kBatch; ++i) {
    if constexpr (kWithTimeout) {
      absl::StatusOr<uint64_t> r = co_await Timeout(absl::Hours(1), Ready(i));
      sum += *r;
    } else {
      sum += co_await Ready(i);
    }
  }
  benchmark::DoNotOptimize(sum);
  co_return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

template <bool kWithTimeout>
void Run(benchmark::State& state) {
  double seconds = 0;
  for (auto _ : state) {
    const double batch = SharedRuntime().BlockOn(Batch<kWithTimeout>());
    state.SetIterationTime(batch);
    seconds += batch;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["ns_per_op"] = seconds * 1e9 / (static_cast<double>(state.iterations()) * kBatch);
}

void BM_TimeoutReadyTask(benchmark::State& state) { Run<true>(state); }
void BM_AwaitReadyTask(benchmark::State& state) { Run<false>(state); }

BENCHMARK(BM_TimeoutReadyTask)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AwaitReadyTask)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace coral::bench

BENCHMARK_MAIN();
