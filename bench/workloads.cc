// Copyright 2026 The coral Authors.

#include "bench/workloads.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "coral/join_handle.h"
#include "coral/yield.h"

namespace coral::bench {

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "workload check failed: %s\n", what);
    std::exit(1);
  }
}

namespace {

Task<void> Trivial() { co_return; }

Task<int64_t> JoinAll(std::vector<JoinHandle<void>> handles) {
  int64_t ok = 0;
  for (auto& handle : handles) ok += (co_await std::move(handle)).ok();
  co_return ok;
}

// A one-shot signal from a task to the (non-worker) main thread.
class Signal {
 public:
  void Notify() {
    done_.store(true, std::memory_order_release);  // release: main sees the chain's effects.
    done_.notify_one();
  }
  void Wait() {
    // acquire: pairs with Notify.
    while (!done_.load(std::memory_order_acquire)) done_.wait(false, std::memory_order_acquire);
  }

 private:
  std::atomic<bool> done_{false};
};

Task<void> Hop(int64_t remaining, Signal* done) {
  if (remaining == 1) {
    done->Notify();
  } else {
    Spawn(Hop, remaining - 1, done).Detach();
  }
  co_return;
}

Task<void> YieldLoop(int64_t* yields) {
  for (int64_t i = 0; i < kYieldsPerTask; ++i) {
    co_await Yield();
    ++*yields;
  }
}

}  // namespace

double SpawnOutside(Runtime& runtime) {
  std::vector<JoinHandle<void>> handles;
  handles.reserve(kSpawnTasks);
  const auto start = Clock::now();
  for (int64_t i = 0; i < kSpawnTasks; ++i) handles.push_back(runtime.Spawn(Trivial));
  const int64_t joined = runtime.BlockOn(JoinAll(std::move(handles)));
  const double seconds = SecondsSince(start);
  Require(joined == kSpawnTasks, "spawn_outside: every task joined");
  return seconds;
}

double SpawnInside(Runtime& runtime) {
  auto parent = []() -> Task<double> {
    std::vector<JoinHandle<void>> handles;
    handles.reserve(kSpawnTasks);
    const auto start = Clock::now();
    for (int64_t i = 0; i < kSpawnTasks; ++i) handles.push_back(Spawn(Trivial));
    const int64_t joined = co_await JoinAll(std::move(handles));
    const double seconds = SecondsSince(start);
    Require(joined == kSpawnTasks, "spawn_inside: every task joined");
    co_return seconds;
  };
  return runtime.BlockOn(parent());
}

double ChainedSpawn(Runtime& runtime) {
  Signal done;
  const auto start = Clock::now();
  runtime.Spawn(Hop, kChainDepth, &done).Detach();
  done.Wait();
  return SecondsSince(start);
}

double YieldMany(Runtime& runtime) {
  std::vector<int64_t> yields(kYieldTasks, 0);
  std::vector<JoinHandle<void>> handles;
  handles.reserve(kYieldTasks);
  const auto start = Clock::now();
  for (int64_t i = 0; i < kYieldTasks; ++i) handles.push_back(runtime.Spawn(YieldLoop, &yields[i]));
  const int64_t joined = runtime.BlockOn(JoinAll(std::move(handles)));
  const double seconds = SecondsSince(start);
  Require(joined == kYieldTasks, "yield_many: every task joined");
  for (int64_t y : yields) Require(y == kYieldsPerTask, "yield_many: every yield counted");
  return seconds;
}

}  // namespace coral::bench
