// Copyright 2026 The coral Authors.
//
// Parking under a channel load (issue 14, item 16: a spawned consumer that never ran, every
// worker asleep). Four workers, many short rounds, each submitted from the main thread (the
// global queue) after a pause long enough for the workers to park. A round spawns consumers
// (some selecting over a bounded and an unbounded channel, some receiving from one), producers
// that spawn one more consumer half-way, and waits for all of them; a foreign thread keeps
// cancelling the tokens the receives and sends run under (so their callbacks wake tasks from off
// the workers). Each round must finish within a deadline, every consumer must have started, and
// what was received must be exactly what was sent. A hang prints which tasks never started and
// what each thread of the process is blocked in.

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "coral/coral.h"
#include "gtest/gtest.h"
#include "stress/stress_util.h"

namespace coral::stress {
namespace {

constexpr int kWorkers = 4;
constexpr int kSlots = 64;  // Cancellation slots the foreign thread picks from.

// The sources that waits currently run under; the foreign thread cancels them at random.
class VictimSources {
 public:
  VictimSources() : sources_(kSlots) {}
  CancellationToken Install(int slot) {
    std::lock_guard<std::mutex> lock(mu_);
    sources_[slot % kSlots] = CancellationSource();
    last_installed_.store(slot % kSlots);
    return sources_[slot % kSlots].token();
  }
  // The slot installed last: most likely to guard a wait in progress.
  int last_installed() const { return last_installed_.load(); }
  void Cancel(int slot) {
    CancellationSource victim;
    {
      std::lock_guard<std::mutex> lock(mu_);
      victim = sources_[slot % kSlots];
    }
    victim.Cancel();  // Outside the lock: the callbacks wake tasks from this thread.
  }

 private:
  std::mutex mu_;
  std::vector<CancellationSource> sources_;
  std::atomic<int> last_installed_{0};
};

// Consumers spawned with a JoinHandle, which the foreign thread may abort while the round awaits
// it (Abort and the await only read the handle).
class AbortableConsumers {
 public:
  void Publish(JoinHandle<void>* handle) {
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = handle;
  }
  void Withdraw() {
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = nullptr;
  }
  void Abort() {
    std::lock_guard<std::mutex> lock(mu_);
    // From this thread: an idle task is pushed onto the global queue.
    if (handle_ != nullptr) handle_->Abort();
  }

 private:
  std::mutex mu_;
  JoinHandle<void>* handle_ = nullptr;
};

struct RoundState {
  explicit RoundState(int consumers) : started(consumers), finished(consumers) {}
  std::vector<std::atomic<int>> started;
  std::vector<std::atomic<int>> finished;
  std::atomic<int64_t> sent_sum{0};
  std::atomic<int64_t> received_sum{0};
  std::atomic<int64_t> cancelled_waits{0};
  std::atomic<int> producers_done{0};
  std::atomic<int> aborted{0};  // Abortable consumers that were aborted.
  CompletionCounter done{1};
};

struct RoundParams {
  RoundState* state;
  VictimSources* victims;
  AbortableConsumers* abortable;
  size_t capacity;
  int early_consumers;  // Spawned before the producers.
  int producers;        // Each spawns one consumer half-way.
  int late_consumers;   // Spawned after the producers.
  int values_per_producer;
  int seed;
};

Task<absl::StatusOr<SelectResult<int64_t, int64_t>>> SelectOnce(Receiver<int64_t>* bounded,
                                                                Receiver<int64_t>* unbounded) {
  co_return co_await Select(*bounded, *unbounded);
}

Task<absl::StatusOr<int64_t>> RecvOnce(Receiver<int64_t>* rx) { co_return co_await rx->Recv(); }

Task<SendResult<int64_t>> SendOnce(Sender<int64_t>* tx, int64_t value) {
  co_return co_await tx->Send(value);
}

Task<void> Consumer(RoundParams params, int id, Receiver<int64_t> bounded,
                    Receiver<int64_t> unbounded) {
  RoundState* state = params.state;
  state->started[id].store(1);
  Rng rng(params.seed * 131 + id);
  const bool selects = id % 2 == 0;
  bool bounded_open = true;
  bool unbounded_open = true;
  while (bounded_open || unbounded_open) {
    const bool cancellable = rng.Next() % 4 == 0;
    CancellationToken token =
        cancellable ? params.victims->Install(params.seed + id) : CancellationToken();
    if (selects && bounded_open && unbounded_open) {
      Task<absl::StatusOr<SelectResult<int64_t, int64_t>>> select =
          SelectOnce(&bounded, &unbounded);
      absl::StatusOr<SelectResult<int64_t, int64_t>> got =
          co_await WithCancellation(token, std::move(select));
      if (!got.ok()) {
        EXPECT_TRUE(absl::IsCancelled(got.status())) << got.status();
        ++state->cancelled_waits;
        continue;
      }
      const absl::StatusOr<int64_t>& value =
          got->index == 0 ? std::get<0>(got->value) : std::get<1>(got->value);
      if (value.ok()) {
        state->received_sum += *value;
      } else {
        EXPECT_TRUE(absl::IsOutOfRange(value.status())) << value.status();
        (got->index == 0 ? bounded_open : unbounded_open) = false;
      }
      continue;
    }
    const bool from_bounded = bounded_open && (!unbounded_open || rng.Next() % 2 == 0);
    Receiver<int64_t>* rx = from_bounded ? &bounded : &unbounded;
    Task<absl::StatusOr<int64_t>> recv = RecvOnce(rx);
    absl::StatusOr<int64_t> got = co_await WithCancellation(token, std::move(recv));
    if (got.ok()) {
      state->received_sum += *got;
    } else if (absl::IsCancelled(got.status())) {
      ++state->cancelled_waits;
    } else {
      EXPECT_TRUE(absl::IsOutOfRange(got.status())) << got.status();
      (from_bounded ? bounded_open : unbounded_open) = false;
    }
  }
  state->finished[id].store(1);
}

Task<void> Producer(RoundParams params, int id, Sender<int64_t> bounded_tx,
                    Sender<int64_t> unbounded_tx, Receiver<int64_t> bounded_rx,
                    Receiver<int64_t> unbounded_rx) {
  RoundState* state = params.state;
  Rng rng(params.seed * 977 + id);
  std::optional<JoinHandle<void>> spawned;
  {
    // Moved in here so that the channels close as soon as the last producer is done.
    Sender<int64_t> bounded = std::move(bounded_tx);
    Sender<int64_t> unbounded = std::move(unbounded_tx);
    for (int i = 0; i < params.values_per_producer; ++i) {
      if (i == params.values_per_producer / 2) {
        // The consumer spawned from a busy worker: it lands in this worker's LIFO slot. (With a
        // JoinHandle: a TaskGroup's Spawn from one of its children races on the group's flags in
        // this tree; the groups branch fixes that.)
        spawned = Spawn(&Consumer, params, params.early_consumers + id, bounded_rx, unbounded_rx);
      }
      const int64_t value = (int64_t{id} << 32) + i + 1;
      if (rng.Next() % 2 == 0) {
        for (;;) {
          const bool cancellable = rng.Next() % 4 == 0;
          CancellationToken token =
              cancellable ? params.victims->Install(params.seed + 32 + id) : CancellationToken();
          Task<SendResult<int64_t>> send = SendOnce(&bounded, value);
          SendResult<int64_t> sent = co_await WithCancellation(token, std::move(send));
          if (sent.ok()) break;
          EXPECT_TRUE(absl::IsCancelled(sent.status)) << sent.status;
          EXPECT_EQ(sent.unsent, value);
          ++state->cancelled_waits;
        }
      } else {
        Task<SendResult<int64_t>> send = SendOnce(&unbounded, value);
        SendResult<int64_t> sent = co_await std::move(send);
        EXPECT_TRUE(sent.ok()) << sent.status;
      }
      state->sent_sum += value;
      if (rng.Next() % 8 == 0) co_await Yield();
    }
  }
  ++state->producers_done;
  // After our senders are gone: the consumer ends once every producer's are.
  if (spawned.has_value()) {
    absl::Status joined = co_await *spawned;
    EXPECT_TRUE(joined.ok()) << joined;
  }
}

Task<void> RoundBody(RoundParams params) {
  {
    auto [bounded_tx, bounded_rx] = Channel<int64_t>::Bounded(params.capacity);
    auto [unbounded_tx, unbounded_rx] = Channel<int64_t>::Unbounded();
    TaskGroup group;
    int next_consumer = 0;
    for (int c = 0; c < params.early_consumers; ++c) {
      group.Spawn(&Consumer, params, next_consumer++, bounded_rx, unbounded_rx);
    }
    next_consumer += params.producers;  // The ids the producers' consumers take.
    for (int p = 0; p < params.producers; ++p) {
      group.Spawn(&Producer, params, p, bounded_tx, unbounded_tx, bounded_rx, unbounded_rx);
    }
    {
      Sender<int64_t> drop_bounded = std::move(bounded_tx);
      Sender<int64_t> drop_unbounded = std::move(unbounded_tx);
    }
    for (int c = 0; c < params.late_consumers; ++c) {
      group.Spawn(&Consumer, params, next_consumer++, bounded_rx, unbounded_rx);
    }
    JoinHandle<void> abortable =
        Spawn(&Consumer, params, next_consumer++, bounded_rx, unbounded_rx);
    params.abortable->Publish(&abortable);
    absl::Status joined = co_await abortable;
    params.abortable->Withdraw();
    if (!joined.ok()) {
      EXPECT_TRUE(absl::IsCancelled(joined)) << joined;
      ++params.state->aborted;
    }
    (void)co_await group.Join();
    // A consumer aborted after a value was handed to it puts the value back, possibly after the
    // others have drained the channels: count what is left.
    for (Receiver<int64_t>* rx : {&bounded_rx, &unbounded_rx}) {
      for (absl::StatusOr<int64_t> got = rx->TryRecv(); got.ok(); got = rx->TryRecv()) {
        params.state->received_sum += *got;
      }
    }
  }
  params.state->done.Arrive();
}

// What each thread of this process is blocked in (name, state, wait channel, system call).
void DumpThreads() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + entry->d_name;
    auto read = [&](const char* file) {
      std::ifstream in(base + file);
      std::string line;
      std::getline(in, line);
      return line;
    };
    std::fprintf(stderr, "  thread %s: %s, wchan %s, syscall %s\n", entry->d_name,
                 read("/comm").c_str(), read("/wchan").c_str(), read("/syscall").c_str());
  }
  closedir(dir);
}

TEST(ChannelParkStress, EverySpawnedConsumerRuns) {
  // Defaults: at most 45 s or 100,000 rounds. CORAL_STRESS_ROUNDS / CORAL_STRESS_SECONDS override.
  const char* rounds_env = std::getenv("CORAL_STRESS_ROUNDS");
  const char* seconds_env = std::getenv("CORAL_STRESS_SECONDS");
  const int max_rounds = rounds_env != nullptr ? std::atoi(rounds_env) : 100000;
  const auto budget = std::chrono::seconds(seconds_env != nullptr ? std::atoi(seconds_env) : 45);
  constexpr auto kRoundDeadline = std::chrono::seconds(5);

  Runtime runtime({.num_workers = kWorkers});
  VictimSources victims;
  AbortableConsumers abortable;
  std::atomic<bool> stop{false};
  std::thread canceller([&] {
    Rng rng(7);
    while (!stop.load()) {
      const uint32_t pick = rng.Next();
      if (pick % 16 == 1) abortable.Abort();
      victims.Cancel(pick % 4 != 0 ? victims.last_installed() : static_cast<int>(pick % kSlots));
      if (rng.Next() % 4 == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(rng.Next() % 50));
      } else {
        std::this_thread::yield();
      }
    }
  });

  Rng rng(1);
  const auto start = std::chrono::steady_clock::now();
  int rounds = 0;
  int64_t cancelled = 0;
  int64_t aborted = 0;
  bool hung = false;
  for (; rounds < max_rounds && std::chrono::steady_clock::now() - start < budget; ++rounds) {
    const int early = 1 + static_cast<int>(rng.Next() % 3);
    const int producers = 1 + static_cast<int>(rng.Next() % 3);
    const int late = static_cast<int>(rng.Next() % 3);
    auto state = std::make_unique<RoundState>(early + producers + late + 1);
    RoundParams params{.state = state.get(),
                       .victims = &victims,
                       .abortable = &abortable,
                       .capacity = 1 + rng.Next() % 4,
                       .early_consumers = early,
                       .producers = producers,
                       .late_consumers = late,
                       .values_per_producer = 1 + static_cast<int>(rng.Next() % 64),
                       .seed = rounds};
    runtime.Spawn(&RoundBody, params).Detach();
    if (!state->done.Wait(std::chrono::duration_cast<std::chrono::seconds>(kRoundDeadline))) {
      hung = true;
      std::fprintf(stderr, "HANG in round %d (pid %d): producers done %d of %d\n", rounds,
                   static_cast<int>(getpid()), state->producers_done.load(), producers);
      for (size_t c = 0; c < state->started.size(); ++c) {
        std::fprintf(stderr, "  consumer %zu: started %d, finished %d\n", c,
                     state->started[c].load(), state->finished[c].load());
      }
      DumpThreads();
      if (const char* pause = std::getenv("CORAL_STRESS_HANG_PAUSE")) {
        std::fprintf(stderr, "pausing %s s for a debugger\n", pause);
        std::this_thread::sleep_for(std::chrono::seconds(std::atoi(pause)));
      }
      ADD_FAILURE() << "round " << rounds << " did not finish within 5 s";
      // The runtime's shutdown destroys the round's tasks; the state must outlive them.
      stop = true;
      canceller.join();
      runtime.Shutdown();
      break;
    }
    EXPECT_EQ(state->received_sum.load(), state->sent_sum.load()) << "round " << rounds;
    // Every consumer ran to the end, except the abortable one if it was aborted.
    for (size_t c = 0; c + 1 < state->started.size(); ++c) {
      EXPECT_EQ(state->finished[c].load(), 1) << "round " << rounds << " consumer " << c;
    }
    if (state->aborted.load() == 0) {
      EXPECT_EQ(state->finished.back().load(), 1) << "round " << rounds;
    }
    aborted += state->aborted.load();
    cancelled += state->cancelled_waits.load();
    // Let the workers park before the next round, most of the time: the next submission then
    // has to wake one, from the main thread.
    if (rng.Next() % 4 != 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(50 + rng.Next() % 500));
    }
  }
  if (!hung) {
    stop = true;
    canceller.join();
  }
  std::fprintf(stderr, "%d rounds, %lld waits cancelled, %lld consumers aborted\n", rounds,
               static_cast<long long>(cancelled), static_cast<long long>(aborted));
  EXPECT_GT(rounds, 0);
}

}  // namespace
}  // namespace coral::stress
