// Copyright 2026 The coral Authors.
//
// The synchronization workloads of ../shared/peers/WORKLOADS.md: ping_pong, mutex_uncontended,
// mutex_contended, channel_mpmc.

#include <cstdint>
#include <utility>
#include <vector>

#include "bench/workloads.h"
#include "coral/async_mutex.h"
#include "coral/channel.h"
#include "coral/join_handle.h"

namespace coral::bench {
namespace {

Task<bool> Pinger(Sender<int64_t> ping, Receiver<int64_t> pong) {
  for (int64_t i = 0; i < kPingPongRounds; ++i) {
    if (!(co_await ping.Send(i)).ok()) co_return false;
    absl::StatusOr<int64_t> back = co_await pong.Recv();
    if (!back.ok() || *back != i + 1) co_return false;
  }
  ping.Close();
  co_return true;
}

Task<bool> Ponger(Receiver<int64_t> ping, Sender<int64_t> pong) {
  for (;;) {
    absl::StatusOr<int64_t> got = co_await ping.Recv();
    if (!got.ok()) co_return absl::IsOutOfRange(got.status());
    if (!(co_await pong.Send(*got + 1)).ok()) co_return false;
  }
}

Task<void> LockLoop(AsyncMutex* mu, int64_t* counter, int64_t rounds) {
  for (int64_t i = 0; i < rounds; ++i) {
    absl::StatusOr<AsyncMutex::Guard> guard = co_await mu->Lock();
    ++*counter;
  }
}

Task<bool> AllOk(std::vector<JoinHandle<bool>> handles) {
  bool ok = true;
  for (auto& handle : handles) {
    absl::StatusOr<bool> result = co_await std::move(handle);
    ok = ok && result.ok() && *result;
  }
  co_return ok;
}

Task<void> JoinVoid(std::vector<JoinHandle<void>> handles) {
  for (auto& handle : handles) (void)co_await std::move(handle);
}

Task<bool> Produce(Sender<uint64_t> tx, uint64_t first, uint64_t count) {
  for (uint64_t v = first; v < first + count; ++v) {
    if (!(co_await tx.Send(v)).ok()) co_return false;
  }
  co_return true;
}

struct Tally {
  uint64_t count = 0;
  uint64_t sum = 0;
};

Task<Tally> Consume(Receiver<uint64_t> rx) {
  Tally tally;
  for (;;) {
    absl::StatusOr<uint64_t> v = co_await rx.Recv();
    if (!v.ok()) break;
    ++tally.count;
    tally.sum += *v;
  }
  co_return tally;
}

Task<Tally> SumTallies(std::vector<JoinHandle<Tally>> handles) {
  Tally total;
  for (auto& handle : handles) {
    absl::StatusOr<Tally> t = co_await std::move(handle);
    if (t.ok()) {
      total.count += t->count;
      total.sum += t->sum;
    }
  }
  co_return total;
}

}  // namespace

double PingPong(Runtime& runtime) {
  auto [ping_tx, ping_rx] = Channel<int64_t>::Bounded(1);
  auto [pong_tx, pong_rx] = Channel<int64_t>::Bounded(1);
  std::vector<JoinHandle<bool>> handles;
  const auto start = Clock::now();
  handles.push_back(runtime.Spawn(Pinger, std::move(ping_tx), std::move(pong_rx)));
  handles.push_back(runtime.Spawn(Ponger, std::move(ping_rx), std::move(pong_tx)));
  const bool ok = runtime.BlockOn(AllOk(std::move(handles)));
  const double seconds = SecondsSince(start);
  Require(ok, "ping_pong: every round trip checked");
  return seconds;
}

double MutexUncontended(Runtime& runtime) {
  auto body = []() -> Task<std::pair<double, int64_t>> {
    AsyncMutex mu;
    int64_t counter = 0;
    const auto start = Clock::now();
    for (int64_t i = 0; i < kUncontendedLocks; ++i) {
      absl::StatusOr<AsyncMutex::Guard> guard = co_await mu.Lock();
      ++counter;
    }
    co_return std::make_pair(SecondsSince(start), counter);
  };
  auto [seconds, counter] = runtime.BlockOn(body());
  Require(counter == kUncontendedLocks, "mutex_uncontended: final count");
  return seconds;
}

double MutexContended(Runtime& runtime) {
  AsyncMutex mu;
  int64_t counter = 0;
  std::vector<JoinHandle<void>> handles;
  const auto start = Clock::now();
  for (int64_t t = 0; t < kContendedTasks; ++t) {
    handles.push_back(runtime.Spawn(LockLoop, &mu, &counter, kContendedLocksPerTask));
  }
  runtime.BlockOn(JoinVoid(std::move(handles)));
  const double seconds = SecondsSince(start);
  Require(counter == kContendedTasks * kContendedLocksPerTask, "mutex_contended: final count");
  return seconds;
}

double ChannelMpmc(Runtime& runtime) {
  std::vector<JoinHandle<bool>> producers;
  std::vector<JoinHandle<Tally>> consumers;
  const auto start = Clock::now();
  {
    auto [tx, rx] = Channel<uint64_t>::Bounded(kMpmcCapacity);
    for (int64_t c = 0; c < kMpmcConsumers; ++c) consumers.push_back(runtime.Spawn(Consume, rx));
    const uint64_t per_producer = kMpmcMessages / kMpmcProducers;
    for (int64_t p = 0; p < kMpmcProducers; ++p) {
      producers.push_back(runtime.Spawn(Produce, tx, p * per_producer, per_producer));
    }
  }  // Main's handles go: the channel closes when the last producer's Sender does.
  const bool produced = runtime.BlockOn(AllOk(std::move(producers)));
  const Tally total = runtime.BlockOn(SumTallies(std::move(consumers)));
  const double seconds = SecondsSince(start);
  Require(produced, "channel_mpmc: every send delivered");
  Require(total.count == kMpmcMessages, "channel_mpmc: total count");
  Require(total.sum == uint64_t{kMpmcMessages - 1} * kMpmcMessages / 2, "channel_mpmc: total sum");
  return seconds;
}

}  // namespace coral::bench
