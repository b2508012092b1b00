// Copyright 2026 The coral Authors.
//
// The frame allocator's caches (runtime/frame_allocator.cc): each thread's cache of freed frame
// blocks per size class, and the depot through which the caches trade batches of blocks. Private
// to the runtime. The allocator keeps one FrameCache per thread (thread_local) and one FrameDepot;
// the model check (tests/model/frame_depot_model_test.cc) makes its own, one cache per simulated
// thread, and runs this code as shipped (its SpinLock is then Relacy's, sync_primitives.h).
//
// Classes 16 bytes apart (malloc's own granularity, so a cached block wastes no more than a
// malloc'd one; with 64-byte classes an idle echo connection carried ~90 bytes of rounding) up to
// 2 KiB cover the frames of typical tasks (a spawned root frame is about 100 bytes plus the
// decay-copied arguments; an I/O operation's frame about 330). Up to 64 blocks per class, and at
// most 1 MiB per thread in all, bound what an idle thread keeps; measured on chained_spawn, the
// cache removes a third of the cost of a hop.
//
// Frames often die on another thread than the one that made them (a TaskGroup child is spawned by
// its owner's worker and freed by whichever worker ran it). One thread's cache then overflows
// while the other's runs dry, and both fall through to malloc, contending for its arena lock
// (measured: a third of the time of TaskGroup spawn-and-join). So a full cache hands half a
// class (a batch of 32 blocks) to a shared depot, and an empty one takes a batch back: one lock
// per 32 frames instead of malloc's per frame, as in tcmalloc's transfer cache. The depot keeps at
// most 32 batches per class (under 2 MiB for the classes frames use); beyond that, blocks go back
// to malloc. Under the model check a class holds 4 blocks (batches of 2) and the depot 2 batches,
// so that a few frees reach a full cache, the depot, and a full depot.
//
// No block is smaller than kMinBlock = 128 bytes. glibc puts freed chunks of up to 128 bytes (a
// request of up to 120) in "fastbins", which later mallocs must consolidate. Measured when the
// promise shrank and a trivial task's block went from 128 bytes to 112: spawn_outside (tasks made
// on one thread, freed on the workers, most of them through malloc) fell from 4.1M to 3.3M
// tasks/s, with malloc_consolidate and unlink_chunk at 5% of the samples; with this floor it
// measures 4.3M. Only frames under 64 bytes pay for it.

#ifndef CORAL_RUNTIME_FRAME_CACHE_H_
#define CORAL_RUNTIME_FRAME_CACHE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>

#include "absl/base/thread_annotations.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal::frame_cache {

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every frame goes to operator new and delete, so that a use after free of
// a frame is still detected.
inline constexpr bool kUseCache = false;
#else
inline constexpr bool kUseCache = true;
#endif

inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kMinBlock = 128;
inline constexpr std::size_t kClasses = 128;
inline constexpr std::size_t kMaxCachedPerClass = kModelCheck ? 4 : 64;
inline constexpr std::size_t kBatch = kMaxCachedPerClass / 2;
inline constexpr std::size_t kMaxDepotBatches = kModelCheck ? 2 : 32;
inline constexpr std::size_t kMaxCachedBytes = 1 << 20;

// Class c holds blocks of (c + 1) * kGranule bytes; the classes below kMinBlock stay empty.
inline std::size_t SizeClass(std::size_t size) {
  return (std::max(size, kMinBlock) - 1) / kGranule;
}

struct FreeBlock {
  FreeBlock* next;
  FreeBlock* next_batch;  // In the depot: the first block of each batch links the batches.
};

// Shared by every thread's cache. It has no destructor: batches it holds when it goes are not
// freed (the allocator's lives as long as the process; a test's empties it with Take).
class Depot {
 public:
  // Takes `batch` (kBatch blocks linked through next); false if the depot is full.
  bool Put(std::size_t size_class, FreeBlock* batch) {
    SpinLockHolder hold(&lock_);
    const bool room = counts_[size_class] < kMaxDepotBatches;
    if (room) {
      batch->next_batch = batches_[size_class];
      batches_[size_class] = batch;
      ++counts_[size_class];
    }
    return room;
  }

  // A batch (kBatch blocks linked through next), or null if the depot has none of the class.
  FreeBlock* Take(std::size_t size_class) {
    SpinLockHolder hold(&lock_);
    FreeBlock* batch = batches_[size_class];
    if (batch != nullptr) {
      batches_[size_class] = batch->next_batch;
      --counts_[size_class];
    }
    return batch;
  }

 private:
  // The lock's acquire and release order the blocks handed over with the depot's lists.
  SpinLock lock_;
  FreeBlock* batches_[kClasses] ABSL_GUARDED_BY(lock_) = {};
  uint32_t counts_[kClasses] ABSL_GUARDED_BY(lock_) = {};
};

// One thread's blocks; used by that thread only. Its destructor frees what it holds.
class Cache {
 public:
  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  ~Cache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (FreeBlock* block = heads_[c]) {
        heads_[c] = block->next;
        ::operator delete(block);
      }
    }
  }

  // A cached block of the class (refilled from `depot` when empty), or null.
  void* Pop(std::size_t size_class, Depot& depot) {
    FreeBlock* block = heads_[size_class];
    if (block == nullptr) {
      block = depot.Take(size_class);
      if (block == nullptr) return nullptr;
      heads_[size_class] = block;
      counts_[size_class] = kBatch;
      cached_bytes_ += kBatch * (size_class + 1) * kGranule;
    }
    heads_[size_class] = block->next;
    --counts_[size_class];
    cached_bytes_ -= (size_class + 1) * kGranule;
    return block;
  }

  // Keeps `memory` (a block of the class); false if the cache is full (the caller frees it).
  bool Push(void* memory, std::size_t size_class, Depot& depot) {
    const std::size_t bytes = (size_class + 1) * kGranule;
    if (counts_[size_class] == kMaxCachedPerClass) MoveBatchToDepot(size_class, depot);
    if (counts_[size_class] == kMaxCachedPerClass || cached_bytes_ + bytes > kMaxCachedBytes) {
      return false;
    }
    cached_bytes_ += bytes;
    auto* block = static_cast<FreeBlock*>(memory);
    block->next = heads_[size_class];
    heads_[size_class] = block;
    ++counts_[size_class];
    return true;
  }

 private:
  void MoveBatchToDepot(std::size_t size_class, Depot& depot) {
    FreeBlock* batch = heads_[size_class];
    FreeBlock* last = batch;
    for (std::size_t i = 1; i < kBatch; ++i) last = last->next;
    FreeBlock* rest = last->next;
    last->next = nullptr;
    if (!depot.Put(size_class, batch)) {
      last->next = rest;  // The depot is full: keep them; the caller's block goes to malloc.
      return;
    }
    heads_[size_class] = rest;
    counts_[size_class] -= kBatch;
    cached_bytes_ -= kBatch * (size_class + 1) * kGranule;
  }

  FreeBlock* heads_[kClasses] = {};
  uint32_t counts_[kClasses] = {};
  std::size_t cached_bytes_ = 0;
};

// The allocator's two operations. `cache` is a callable returning the calling thread's Cache; it is
// called only for a block of a cached class, so that a thread that allocates only large frames
// never touches (and never constructs) its thread_local cache.

// A block of at least `size` bytes: from the thread's cache (refilled from `depot`), else operator
// new.
template <typename ThreadCache>
void* Allocate(ThreadCache cache, Depot& depot, std::size_t size) {
  const std::size_t size_class = SizeClass(size);
  if (!kUseCache || size_class >= kClasses) return ::operator new(size);
  if (void* block = cache().Pop(size_class, depot)) return block;
  return ::operator new((size_class + 1) * kGranule);
}

// Gives back a block that Allocate returned for `size`, on any thread: to that thread's cache
// (which passes a batch to `depot` when full), else operator delete.
template <typename ThreadCache>
void Free(ThreadCache cache, Depot& depot, void* block, std::size_t size) noexcept {
  const std::size_t size_class = SizeClass(size);
  if (!kUseCache || size_class >= kClasses || !cache().Push(block, size_class, depot)) {
    ::operator delete(block);
  }
}

}  // namespace coral::internal::frame_cache

#endif  // CORAL_RUNTIME_FRAME_CACHE_H_
