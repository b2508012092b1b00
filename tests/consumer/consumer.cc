// Copyright 2026 The coral Authors.
//
// consumer: a program outside coral's workspace that uses coral as an installed dependency, built
// by .ci/run three ways: with Bazel (WORKSPACE here), with CMake's find_package(coral)
// (CMakeLists.txt here) and with pkg-config. It spawns a tree of tasks that sum squares, pipes
// the partial sums through a channel, checks the totals and prints them.

#include <cstdint>
#include <cstdio>
#include <utility>

#include "absl/status/statusor.h"
#include "coral/coral.h"

namespace {

// The sum of i * i for i in [lo, hi), split into spawned halves down to 1000 values.
coral::Task<int64_t> SumOfSquares(int64_t lo, int64_t hi) {
  if (hi - lo <= 1000) {
    int64_t sum = 0;
    for (int64_t i = lo; i < hi; ++i) sum += i * i;
    co_return sum;
  }
  const int64_t mid = lo + (hi - lo) / 2;
  coral::JoinHandle<int64_t> left = coral::Spawn(SumOfSquares, lo, mid);
  const int64_t right = co_await SumOfSquares(mid, hi);
  const absl::StatusOr<int64_t> left_sum = co_await std::move(left);
  co_return (left_sum.ok() ? *left_sum : -1) + right;
}

// Sends the sums of squares of `chunks` consecutive ranges of `chunk` values through a bounded
// channel to a receiving task, which adds them up.
coral::Task<int64_t> Pipeline(int64_t chunks, int64_t chunk) {
  auto [tx, rx] = coral::Channel<int64_t>::Bounded(4);
  coral::JoinHandle<int64_t> consumer = coral::Spawn(
      [](coral::Receiver<int64_t> rx) -> coral::Task<int64_t> {
        int64_t total = 0;
        for (absl::StatusOr<int64_t> v = co_await rx.Recv(); v.ok(); v = co_await rx.Recv()) {
          total += *v;
        }
        co_return total;
      },
      std::move(rx));
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t partial = co_await SumOfSquares(c * chunk, (c + 1) * chunk);
    if (!(co_await tx.Send(partial)).ok()) co_return -1;
  }
  tx.Close();
  const absl::StatusOr<int64_t> total = co_await std::move(consumer);
  co_return total.ok() ? *total : -1;
}

}  // namespace

int main() {
  constexpr int64_t kN = 1'000'000;
  constexpr int64_t kExpected = (kN - 1) * kN * (2 * kN - 1) / 6;  // The sum of i * i, i < kN.

  coral::Runtime runtime({.num_workers = 2});
  const int64_t tree = runtime.BlockOn(SumOfSquares(0, kN));
  const int64_t piped = runtime.BlockOn(Pipeline(100, kN / 100));

  std::printf("consumer: sum of squares below %lld: tree %lld, pipeline %lld, expected %lld\n",
              static_cast<long long>(kN), static_cast<long long>(tree),
              static_cast<long long>(piped), static_cast<long long>(kExpected));
  if (tree != kExpected || piped != kExpected) {
    std::printf("consumer: FAILED\n");
    return 1;
  }
  std::printf("consumer: OK\n");
  return 0;
}
