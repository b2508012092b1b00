// Copyright 2026 The coral Authors.

#include "examples/kv_store.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/kv_resp.h"

namespace kv {

Store::Store(size_t shard_count)
    : shard_count_(shard_count), shards_(std::make_unique<Shard[]>(shard_count)) {}

Store::Iterator Store::FindLive(Shard& shard, absl::string_view key) {
  Iterator it = shard.map.find(key);
  if (it == shard.map.end()) return it;
  // Reading the clock only for keys that have a deadline keeps it off the common path.
  if (it->second.expires != coral::Instant::InfiniteFuture() &&
      it->second.expires <= coral::Now()) {
    Erase(shard, it);
    return shard.map.end();
  }
  return it;
}

void Store::SetDeadline(Shard& shard, Iterator it, coral::Instant expires) {
  Entry& entry = it->second;
  if (entry.expires == expires) return;
  if (entry.expires != coral::Instant::InfiniteFuture()) {
    shard.deadlines.erase({entry.expires, it->first});
  }
  entry.expires = expires;
  if (expires != coral::Instant::InfiniteFuture()) shard.deadlines.emplace(expires, it->first);
}

void Store::Erase(Shard& shard, Iterator it) {
  if (it->second.expires != coral::Instant::InfiniteFuture()) {
    shard.deadlines.erase({it->second.expires, it->first});
  }
  shard.map.erase(it);
}

bool Store::Set(absl::string_view key, absl::string_view value, Condition condition,
                coral::Instant expires) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  if (it == shard.map.end()) {
    if (condition == Condition::kIfPresent) return false;
    it = shard.map.try_emplace(key).first;
  } else if (condition == Condition::kIfAbsent) {
    return false;
  }
  it->second.value.assign(value.data(), value.size());
  SetDeadline(shard, it, expires);
  return true;
}

bool Store::Delete(absl::string_view key) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  if (it == shard.map.end()) return false;
  Erase(shard, it);
  return true;
}

bool Store::Exists(absl::string_view key) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  return FindLive(shard, key) != shard.map.end();
}

absl::StatusOr<int64_t> Store::IncrementBy(absl::string_view key, int64_t delta) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  int64_t value = 0;
  if (it != shard.map.end() && !ParseInteger(it->second.value, &value)) {
    return absl::InvalidArgumentError("value is not an integer or out of range");
  }
  if ((delta > 0 && value > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && value < std::numeric_limits<int64_t>::min() - delta)) {
    return absl::OutOfRangeError("increment or decrement would overflow");
  }
  value += delta;
  if (it == shard.map.end()) it = shard.map.try_emplace(key).first;
  it->second.value = absl::StrCat(value);
  return value;
}

bool Store::Expire(absl::string_view key, coral::Instant deadline) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  if (it == shard.map.end()) return false;
  if (deadline <= coral::Now()) {
    Erase(shard, it);
  } else {
    SetDeadline(shard, it, deadline);
  }
  return true;
}

int64_t Store::TimeToLiveMillis(absl::string_view key) {
  Shard& shard = ShardOf(key);
  coral::examples::MutexLock lock(&shard.mutex);
  Iterator it = FindLive(shard, key);
  if (it == shard.map.end()) return -2;
  if (it->second.expires == coral::Instant::InfiniteFuture()) return -1;
  return absl::ToInt64Milliseconds(it->second.expires - coral::Now());
}

size_t Store::Size() {
  size_t size = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    coral::examples::MutexLock lock(&shards_[i].mutex);
    size += shards_[i].map.size();
  }
  return size;
}

void Store::Clear() {
  for (size_t i = 0; i < shard_count_; ++i) {
    coral::examples::MutexLock lock(&shards_[i].mutex);
    shards_[i].map.clear();
    shards_[i].deadlines.clear();
  }
}

size_t Store::RemoveExpired(size_t budget) {
  const coral::Instant now = coral::Now();
  size_t removed = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    Shard& shard = shards_[i];
    coral::examples::MutexLock lock(&shard.mutex);
    for (size_t n = 0; n < budget && !shard.deadlines.empty(); ++n) {
      auto first = shard.deadlines.begin();
      if (first->first > now) break;
      shard.map.erase(first->second);
      shard.deadlines.erase(first);
      ++removed;
    }
  }
  return removed;
}

}  // namespace kv
