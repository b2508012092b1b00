// Copyright 2026 The coral Authors.
//
// kv_server's shard locks, measured: the std::mutex per shard that kv::Store ships
// (examples/kv_store.h argues for it) against a coral::AsyncMutex per shard, with Google Benchmark
// on a 2-worker runtime.
//
//   bazel/bazelw run //bench:kv_store_benchmark
//   bazel/bazelw run //bench:kv_store_benchmark -- --benchmark_filter='keys:1/'  # hot key only
//
// Each of the 8 benchmarks runs for Google Benchmark's default minimum time (0.5 s), the whole
// program in well under a minute. Its flags apply: e.g. --benchmark_repetitions=5 with
// --benchmark_enable_random_interleaving=true runs the variants interleaved, five times each.
//
//   BM_KvStore<StdMutexStore>    kv::Store itself: Get and Set take the shard's std::mutex; a task
//                                that finds it taken blocks its worker thread until it is free.
//   BM_KvStore<AsyncMutexStore>  the same map under a coral::AsyncMutex per shard: each operation
//                                is `co_await shard.mutex.Lock()` then the map operation; a task
//                                that finds it taken suspends and is handed the lock in FIFO order.
//
// Both hold the keys in a flat_hash_map per shard, 64 shards, a key's shard chosen from the high
// bits of its absl::Hash (kv::Store's default, which kv_server uses); both are filled with every
// key and run one untimed round before timing. An iteration is 262,144 operations split evenly
// among `tasks` coral tasks (2: as many as workers; 64: many connections), each operation a GET
// (90%) or a SET of a 3-byte value (10%, redis-benchmark's default size), in one fixed
// pseudo-random sequence shared by the two variants, over `keys` keys named as redis-benchmark
// names them:
//   keys:10000  the operations spread over the shards: the two running tasks rarely want the same
//               lock at once;
//   keys:1      one hot key: every operation on one shard, the most contended case.
// A GET copies the value into a reply string, as kv_server's GET does. No lock is held across a
// suspension (the store's critical sections never suspend).
//
// Reported: Time is an iteration's wall-clock time, CPU the whole process's CPU time in it (the
// workers' included, a searching worker's spin too: near twice Time, both were busy), time_per_op
// the wall-clock time per operation. Every iteration checks that each GET found its key and read
// the value, and that each SET was applied (the run stops with an error otherwise), so the two
// variants are known to do the same work; the gets and sets counters show it per iteration.
//
// Not counted: a server built on the AsyncMutex variant would also turn each command into a
// coroutine (kv::Execute is synchronous), one more frame per command. Counted, as it would be in
// such a server: AsyncMutex::Lock spends the task's cooperative budget, so a task that takes 128
// free locks in a row is requeued behind its worker's other tasks.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "coral/coral.h"
#include "examples/kv_store.h"

namespace coral::bench {
namespace {

constexpr size_t kShards = 64;  // kv::Store's default, which kv_server uses.
constexpr int64_t kOpsPerIteration = 1 << 18;
constexpr int kSetPercent = 10;
constexpr absl::string_view kValue = "xxx";

Runtime& SharedRuntime() {
  static Runtime* runtime = new Runtime({.num_workers = 2});
  return *runtime;
}

struct Op {
  uint32_t key;  // An index into Workload::keys.
  bool set;
};

struct Workload {
  std::vector<std::string> keys;
  std::vector<std::vector<Op>> tasks;  // Each task's operations, in order.
  std::vector<Op> fill;                // A SET of every key.
  int64_t gets = 0;
  int64_t sets = 0;
};

// The same for a given (tasks, keys) in every run and for both variants (a fixed seed).
Workload MakeWorkload(int tasks, int keys) {
  Workload workload;
  for (int i = 0; i < keys; ++i) {
    workload.keys.push_back(absl::StrFormat("key:%012d", i));
    workload.fill.push_back({static_cast<uint32_t>(i), true});
  }
  std::mt19937 random(17);
  std::uniform_int_distribution<uint32_t> key(0, keys - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  workload.tasks.resize(tasks);
  for (std::vector<Op>& ops : workload.tasks) {
    for (int64_t i = 0; i < kOpsPerIteration / tasks; ++i) {
      const bool set = percent(random) < kSetPercent;
      ops.push_back({key(random), set});
      ++(set ? workload.sets : workload.gets);
    }
  }
  return workload;
}

// What one task did: GETs that found their key, bytes they read, SETs applied.
struct Tally {
  int64_t hits = 0;
  int64_t bytes = 0;
  int64_t sets = 0;

  Tally& operator+=(const Tally& other) {
    hits += other.hits;
    bytes += other.bytes;
    sets += other.sets;
    return *this;
  }
};

// (a) kv::Store as kv_server calls it: synchronous calls from a task.
struct StdMutexStore {
  kv::Store store{kShards};

  static Task<Tally> Run(StdMutexStore* self, const std::vector<std::string>* keys,
                         absl::Span<const Op> ops) {
    Tally tally;
    std::string reply;
    for (const Op& op : ops) {
      const absl::string_view key = (*keys)[op.key];
      if (op.set) {
        tally.sets +=
            self->store.Set(key, kValue, kv::Store::Condition::kAlways, Instant::InfiniteFuture());
      } else {
        reply.clear();
        if (self->store.Get(key, [&reply](absl::string_view value) {
              reply.append(value.data(), value.size());
            })) {
          ++tally.hits;
          tally.bytes += reply.size();
        }
      }
    }
    co_return tally;
  }
};

// (b) kv::Store's sharding with a coral::AsyncMutex per shard, reduced to what GET and SET of a
// key without a deadline do (kv::Store also compares each entry's deadline with "none").
class AsyncMutexStore {
 public:
  static Task<Tally> Run(AsyncMutexStore* self, const std::vector<std::string>* keys,
                         absl::Span<const Op> ops) {
    Tally tally;
    std::string reply;
    for (const Op& op : ops) {
      const absl::string_view key = (*keys)[op.key];
      Shard& shard = self->ShardOf(key);
      if (!op.set) reply.clear();
      absl::StatusOr<AsyncMutex::Guard> guard = co_await shard.mutex.Lock();
      // Nothing cancels these tasks; were the lock refused, the tally check would report it.
      if (!guard.ok()) continue;
      auto it = shard.map.find(key);
      if (op.set) {
        if (it == shard.map.end()) it = shard.map.try_emplace(key).first;
        it->second.assign(kValue.data(), kValue.size());
        ++tally.sets;
      } else if (it != shard.map.end()) {
        reply.append(it->second);
        ++tally.hits;
        tally.bytes += reply.size();
      }
    }
    co_return tally;
  }

 private:
  struct alignas(64) Shard {
    AsyncMutex mutex;
    absl::flat_hash_map<std::string, std::string> map;  // Guarded by mutex.
  };

  Shard& ShardOf(absl::string_view key) {
    return shards_[(absl::Hash<absl::string_view>{}(key) >> 40) % kShards];
  }

  std::unique_ptr<Shard[]> shards_ = std::make_unique<Shard[]>(kShards);
};

template <typename Store>
Task<Tally> RunTasks(Store* store, const Workload* workload) {
  std::vector<JoinHandle<Tally>> handles;
  handles.reserve(workload->tasks.size());
  for (const std::vector<Op>& ops : workload->tasks) {
    handles.push_back(Spawn(&Store::Run, store, &workload->keys, absl::MakeConstSpan(ops)));
  }
  Tally total;
  for (auto& handle : handles) {
    absl::StatusOr<Tally> tally = co_await std::move(handle);
    if (tally.ok()) total += *tally;
  }
  co_return total;
}

// Args: the number of tasks, the number of keys.
template <typename Store>
void BM_KvStore(benchmark::State& state) {
  const Workload workload = MakeWorkload(state.range(0), state.range(1));
  Store store;
  // Fills the store (a SET of every key), then runs one untimed round: the keys, the allocator
  // and the workers are warm when timing starts.
  const Tally filled = SharedRuntime().BlockOn(Store::Run(&store, &workload.keys, workload.fill));
  if (filled.sets != static_cast<int64_t>(workload.keys.size())) {
    state.SkipWithError("filling the store: a SET was not applied");
    return;
  }
  auto round_ok = [&] {
    const Tally tally = SharedRuntime().BlockOn(RunTasks(&store, &workload));
    return tally.hits == workload.gets &&
           tally.bytes == workload.gets * static_cast<int64_t>(kValue.size()) &&
           tally.sets == workload.sets;
  };
  if (!round_ok()) {
    state.SkipWithError("a GET missed its key or a SET was not applied");
    return;
  }
  for (auto _ : state) {
    if (!round_ok()) {
      state.SkipWithError("a GET missed its key or a SET was not applied");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kOpsPerIteration);
  state.counters["time_per_op"] =
      benchmark::Counter(kOpsPerIteration, benchmark::Counter::kIsIterationInvariantRate |
                                               benchmark::Counter::kInvert);
  state.counters["gets"] = workload.gets;
  state.counters["sets"] = workload.sets;
}

void Configure(benchmark::internal::Benchmark* benchmark) {
  benchmark->ArgNames({"tasks", "keys"})
      ->ArgsProduct({{2, 64}, {10000, 1}})
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
}

BENCHMARK_TEMPLATE(BM_KvStore, StdMutexStore)->Apply(Configure);
BENCHMARK_TEMPLATE(BM_KvStore, AsyncMutexStore)->Apply(Configure);

}  // namespace
}  // namespace coral::bench

BENCHMARK_MAIN();
