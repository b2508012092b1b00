// Copyright 2026 The coral Authors.
//
// quicksort: sorts a large array with a spawn-heavy parallel quicksort on coral's work-stealing
// runtime, checks the result, and compares with std::sort on one thread.
//
//   bazel/bazelw run //examples:quicksort -- --size=20000000 --workers=2
//
// Each partition step spawns the left half as a new task and sorts the right half itself, so
// idle workers steal the spawned halves. The tasks borrow the array through raw pointers, which is
// safe because every task is joined before the array is read or freed.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "coral/coral.h"

ABSL_FLAG(int64_t, size, 20'000'000, "number of integers to sort");
ABSL_FLAG(int, workers, 0, "worker threads (0: one per hardware thread)");
ABSL_FLAG(int64_t, cutoff, 4096, "ranges at most this long are sorted sequentially");

namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Sorts [first, last); returns the number of tasks it spawned.
coral::Task<int64_t> ParallelQuicksort(int* first, int* last, int64_t cutoff) {
  if (last - first <= cutoff) {
    std::sort(first, last);
    co_return 0;
  }
  const int a = first[0], b = first[(last - first) / 2], c = last[-1];
  const int pivot = std::max(std::min(a, b), std::min(std::max(a, b), c));  // Median of three.
  int* const less_end = std::partition(first, last, [pivot](int x) { return x < pivot; });
  int* const equal_end = std::partition(less_end, last, [pivot](int x) { return x == pivot; });
  coral::JoinHandle<int64_t> left = coral::Spawn(ParallelQuicksort, first, less_end, cutoff);
  const int64_t right_spawns = co_await ParallelQuicksort(equal_end, last, cutoff);
  const absl::StatusOr<int64_t> left_spawns = co_await std::move(left);
  co_return 1 + *left_spawns + right_spawns;
}

std::vector<int> RandomInts(int64_t size) {
  std::mt19937 rng(2026);
  std::uniform_int_distribution<int> dist(0, 1 << 30);
  std::vector<int> values(size);
  for (int& v : values) v = dist(rng);
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int64_t size = absl::GetFlag(FLAGS_size);
  const int64_t cutoff = std::max<int64_t>(absl::GetFlag(FLAGS_cutoff), 16);

  std::vector<int> values = RandomInts(size);
  std::vector<int> reference = values;

  const auto sequential_start = Clock::now();
  std::sort(reference.begin(), reference.end());
  const double sequential_ms = MillisecondsSince(sequential_start);

  coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
  const auto parallel_start = Clock::now();
  const int64_t spawned =
      runtime.BlockOn(ParallelQuicksort(values.data(), values.data() + values.size(), cutoff));
  const double parallel_ms = MillisecondsSince(parallel_start);

  if (values != reference) {
    std::fprintf(stderr, "quicksort: the result differs from std::sort\n");
    return 1;
  }
  std::printf(
      "coral quicksort: sorted %lld integers on %d workers in %.1f ms, spawning %lld tasks\n",
      static_cast<long long>(size), runtime.num_workers(), parallel_ms,
      static_cast<long long>(spawned));
  std::printf("std::sort on one thread: %.1f ms (speed-up %.2fx); result verified\n", sequential_ms,
              sequential_ms / parallel_ms);
  return 0;
}
