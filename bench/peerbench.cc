// Copyright 2026 The coral Authors.
//
// coral_peerbench WORKLOAD [REPS=5]: the micro-benchmark contract of ../shared/peers/README.md, so
// that ../shared/peers/run.sh --extra coral=bazel-bin/bench/coral_peerbench measures coral in the
// same interleaved rounds as Tokio, Go, Boost.Asio and oneTBB. One unmeasured warm-up run, REPS
// measured runs on one 2-worker runtime, then one line:
//   RESULT impl=coral workload=W metric=M value=MEDIAN unit=U reps=N min=MIN max=MAX
// Exit status 77: WORKLOAD is not implemented (yet).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/workloads.h"
#include "coral/runtime.h"

namespace {

struct Workload {
  const char* name;
  const char* metric;  // "rate": ops per second; "time": ns per op.
  const char* unit;
  double ops;
  double (*run)(coral::Runtime&);
};

constexpr Workload kWorkloads[] = {
    {"spawn_outside", "rate", "tasks/s", coral::bench::kSpawnTasks, coral::bench::SpawnOutside},
    {"spawn_inside", "rate", "tasks/s", coral::bench::kSpawnTasks, coral::bench::SpawnInside},
    {"chained_spawn", "time", "ns/hop", coral::bench::kChainDepth, coral::bench::ChainedSpawn},
    {"yield_many", "time", "ns/yield", coral::bench::kYieldTasks* coral::bench::kYieldsPerTask,
     coral::bench::YieldMany},
    {"ping_pong", "time", "ns/rt", coral::bench::kPingPongRounds, coral::bench::PingPong},
    {"mutex_uncontended", "time", "ns/op", coral::bench::kUncontendedLocks,
     coral::bench::MutexUncontended},
    {"mutex_contended", "time", "ns/op",
     coral::bench::kContendedTasks* coral::bench::kContendedLocksPerTask,
     coral::bench::MutexContended},
    {"channel_mpmc", "rate", "msgs/s", coral::bench::kMpmcMessages, coral::bench::ChannelMpmc},
};

void PrintResult(const Workload& w, std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  const double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  std::printf(
      "RESULT impl=coral workload=%s metric=%s value=%.1f unit=%s reps=%zu min=%.1f max=%.1f\n",
      w.name, w.metric, median, w.unit, n, samples.front(), samples.back());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s WORKLOAD [REPS=5]\n", argv[0]);
    return 2;
  }
  const int reps = std::max(argc > 2 ? std::atoi(argv[2]) : 5, 1);
  for (const Workload& w : kWorkloads) {
    if (std::strcmp(w.name, argv[1]) != 0) continue;
    coral::Runtime runtime({.num_workers = 2});
    w.run(runtime);  // Warm-up.
    std::vector<double> samples;
    for (int r = 0; r < reps; ++r) {
      const double seconds = w.run(runtime);
      samples.push_back(std::strcmp(w.metric, "rate") == 0 ? w.ops / seconds
                                                           : seconds * 1e9 / w.ops);
    }
    PrintResult(w, samples);
    return 0;
  }
  std::fprintf(stderr, "coral_peerbench: workload %s is not implemented\n", argv[1]);
  return 77;
}
