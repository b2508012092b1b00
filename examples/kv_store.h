// Copyright 2026 The coral Authors.
//
// kv_server's data: a string-to-string map split into shards, each under its own lock, with
// per-key expiry deadlines on coral's clock (coral::Now(): virtual in a paused test runtime).
//
// Why a plain mutex per shard, not a coral::AsyncMutex. Every operation here is a short critical
// section (a hash lookup and a copy of one value) with no co_await inside: the lock is never
// held across a suspension. An AsyncMutex earns its cost (a wait queue, a task suspension and a
// rescheduling when contended) only when the holder may suspend; here a waiter would be queued
// for less time than the suspension itself takes. An uncontended std::mutex (the annotated one of
// examples/annotated_mutex.h) costs one atomic exchange to lock and one to unlock, and with 64
// shards and 2 workers two tasks rarely want the same shard at once. Every call into the Store is
// thus synchronous and thread-safe; a worker never waits on another worker's I/O.
//
// Expiry. A key with a deadline is dead from that Instant on: every read treats it as missing
// (lazy expiry, as Redis does), and RemoveExpired, called periodically by the server on a coral
// Interval, frees the dead keys nobody touches (each shard keeps its deadlines ordered, so it
// visits only keys that are due). DBSIZE (Size) counts keys not yet freed, as Redis's does.

#ifndef CORAL_EXAMPLES_KV_STORE_H_
#define CORAL_EXAMPLES_KV_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coral/clock.h"
#include "examples/annotated_mutex.h"

namespace kv {

class Store {
 public:
  enum class Condition { kAlways, kIfAbsent, kIfPresent };  // SET, SET NX, SET XX.

  explicit Store(size_t shard_count = 64);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Calls `visit(value)` under the shard's lock if `key` is live; returns whether it was.
  template <typename Visit>
  bool Get(absl::string_view key, Visit&& visit);

  // Sets `key` if `condition` allows; returns whether it did. `expires` replaces the key's
  // deadline (InfiniteFuture: none, as SET without EX/PX clears a TTL).
  bool Set(absl::string_view key, absl::string_view value, Condition condition,
           coral::Instant expires);
  // Whether `key` was live; it is gone afterwards.
  bool Delete(absl::string_view key);
  bool Exists(absl::string_view key);
  // Adds `delta` to the integer `key` holds (0 if missing), keeping its deadline. Errors:
  // InvalidArgument if the value is not an integer, OutOfRange on overflow.
  absl::StatusOr<int64_t> IncrementBy(absl::string_view key, int64_t delta);
  // Sets the deadline of a live key (a deadline not after now deletes it); whether it was live.
  bool Expire(absl::string_view key, coral::Instant deadline);
  // The time `key` has left: -2 if it is not live, -1 if it has no deadline, else milliseconds.
  int64_t TimeToLiveMillis(absl::string_view key);
  // Keys stored, including dead ones not yet freed.
  size_t Size();
  void Clear();
  // Frees up to `budget` dead keys per shard; returns how many it freed.
  size_t RemoveExpired(size_t budget);

 private:
  struct Entry {
    std::string value;
    coral::Instant expires = coral::Instant::InfiniteFuture();
  };
  struct alignas(64) Shard {
    coral::examples::Mutex mutex;
    absl::flat_hash_map<std::string, Entry> map ABSL_GUARDED_BY(mutex);
    // The keys with a deadline, by deadline.
    absl::btree_set<std::pair<coral::Instant, std::string>> deadlines ABSL_GUARDED_BY(mutex);
  };
  using Iterator = absl::flat_hash_map<std::string, Entry>::iterator;

  Shard& ShardOf(absl::string_view key) {
    // The high bits: flat_hash_map uses the low ones of its own hash of the same key.
    return shards_[(absl::Hash<absl::string_view>{}(key) >> 40) % shard_count_];
  }
  // The live entry of `key`, or end(); erases a dead one found.
  static Iterator FindLive(Shard& shard, absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  static void SetDeadline(Shard& shard, Iterator it, coral::Instant expires)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);
  static void Erase(Shard& shard, Iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mutex);

  const size_t shard_count_;
  std::unique_ptr<Shard[]> shards_;
};

template <typename Visit>
bool Store::Get(absl::string_view key, Visit&& visit) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  if (it == shard.map.end()) return false;
  visit(absl::string_view(it->second.value));
  return true;
}

}  // namespace kv

#endif  // CORAL_EXAMPLES_KV_STORE_H_
