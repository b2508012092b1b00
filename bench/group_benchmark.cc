// Copyright 2026 The coral Authors.
//
// TaskGroup costs, with Google Benchmark on a 2-worker runtime:
//   BM_SpawnJoin/plain   10,000 coral::Spawn + co_await of each JoinHandle (the baseline)
//   BM_SpawnJoin/group   10,000 TaskGroup::Spawn + one co_await group.Join()
//   BM_CancelToJoin      a group of 10,000 children suspended in SleepFor: the time from
//                        Cancel() to Join() returning.

#include <atomic>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "coral/coral.h"

namespace coral::bench {
namespace {

constexpr int kChildren = 10000;

Runtime& SharedRuntime() {
  static Runtime* runtime = new Runtime({.num_workers = 2});
  return *runtime;
}

Task<void> SpawnJoinPlain() {
  std::vector<JoinHandle<int>> handles;
  handles.reserve(kChildren);
  for (int i = 0; i < kChildren; ++i) {
    handles.push_back(Spawn([i]() -> Task<int> { co_return i; }));
  }
  for (auto& handle : handles) benchmark::DoNotOptimize(co_await std::move(handle));
}

Task<void> SpawnJoinGroup() {
  TaskGroup group;
  for (int i = 0; i < kChildren; ++i) {
    group.Spawn([i]() -> Task<int> { co_return i; });
  }
  benchmark::DoNotOptimize(co_await group.Join());
}

void BM_SpawnJoin(benchmark::State& state) {
  const bool group = state.range(0) == 1;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    SharedRuntime().BlockOn(group ? SpawnJoinGroup() : SpawnJoinPlain());
    state.SetIterationTime(absl::ToDoubleSeconds(absl::Now() - start));
  }
  state.SetItemsProcessed(state.iterations() * kChildren);
  state.SetLabel(group ? "group" : "plain");
}

Task<double> CancelToJoin() {
  std::atomic<int> suspended{0};
  TaskGroup group;
  for (int i = 0; i < kChildren; ++i) {
    group.Spawn([&suspended]() -> Task<absl::Status> {
      suspended.fetch_add(1, std::memory_order_relaxed);
      co_return co_await SleepFor(absl::Hours(1));
    });
  }
  while (suspended.load(std::memory_order_relaxed) < kChildren) {
    (void)co_await SleepFor(absl::Milliseconds(1));
  }
  (void)co_await SleepFor(absl::Milliseconds(1));  // The last ones reach their timers.
  const absl::Time start = absl::Now();
  group.Cancel();
  (void)co_await group.Join();
  co_return absl::ToDoubleSeconds(absl::Now() - start);
}

void BM_CancelToJoin(benchmark::State& state) {
  for (auto _ : state) state.SetIterationTime(SharedRuntime().BlockOn(CancelToJoin()));
  state.SetItemsProcessed(state.iterations() * kChildren);
}

BENCHMARK(BM_SpawnJoin)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CancelToJoin)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace coral::bench

BENCHMARK_MAIN();
