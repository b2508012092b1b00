// Copyright 2026 The coral Authors.
//
// White-box tests of the frame allocator's caches and depot (runtime/frame_cache.h), one thread
// at a time; tests/model/frame_depot_model_test.cc checks them with threads racing.

#include "runtime/frame_cache.h"

#include <cstddef>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace coral::internal::frame_cache {
namespace {

constexpr std::size_t kSize = 200;
const std::size_t kClass = SizeClass(kSize);

// Allocate and Free take the thread's cache as a callable (the allocator's is thread_local).
auto Use(Cache& cache) {
  return [&cache]() -> Cache& { return cache; };
}

// Allocates `count` blocks through `cache`, which must all be distinct.
std::vector<void*> AllocateMany(Cache& cache, Depot& depot, std::size_t count) {
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < count; ++i) blocks.push_back(Allocate(Use(cache), depot, kSize));
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), count);
  return blocks;
}

TEST(FrameCacheTest, SizeClassesRoundUpToTheGranuleAndTheMinimum) {
  EXPECT_EQ(SizeClass(1), SizeClass(kMinBlock));
  EXPECT_EQ((SizeClass(kMinBlock + 1) + 1) * kGranule, kMinBlock + kGranule);
  EXPECT_EQ((SizeClass(kSize) + 1) * kGranule, 208u);
}

TEST(FrameCacheTest, AFreedBlockIsReusedLastInFirstOut) {
  Depot depot;
  Cache cache;
  void* first = Allocate(Use(cache), depot, kSize);
  void* second = Allocate(Use(cache), depot, kSize);
  Free(Use(cache), depot, first, kSize);
  Free(Use(cache), depot, second, kSize);
  if (!kUseCache) GTEST_SKIP() << "the cache is bypassed under AddressSanitizer";
  EXPECT_EQ(Allocate(Use(cache), depot, kSize), second);
  EXPECT_EQ(Allocate(Use(cache), depot, kSize), first);
  Free(Use(cache), depot, first, kSize);
  Free(Use(cache), depot, second, kSize);
}

TEST(FrameCacheTest, AFullCacheHandsABatchThroughTheDepotToAnotherCache) {
  Depot depot;
  Cache freeing;
  Cache allocating;
  // A full class, and one more block: the cache hands its newest kBatch blocks to the depot.
  std::vector<void*> blocks = AllocateMany(freeing, depot, kMaxCachedPerClass + 1);
  for (void* block : blocks) ASSERT_TRUE(freeing.Push(block, kClass, depot));
  // The other cache is empty: it takes that batch, the blocks freed just before the last one.
  const std::set<void*> batch(blocks.end() - 1 - kBatch, blocks.end() - 1);
  std::set<void*> taken;
  for (std::size_t i = 0; i < kBatch; ++i) taken.insert(allocating.Pop(kClass, depot));
  EXPECT_EQ(taken, batch);
  Cache empty;
  EXPECT_EQ(empty.Pop(kClass, depot), nullptr);  // Nothing left in the depot.
  for (void* block : taken) ASSERT_TRUE(allocating.Push(block, kClass, depot));
}

// Frees what the depot holds (it has no destructor: the allocator's lives as long as the process).
void Drain(Depot& depot) {
  while (FreeBlock* batch = depot.Take(kClass)) {
    while (batch != nullptr) {
      FreeBlock* next = batch->next;
      ::operator delete(batch);
      batch = next;
    }
  }
}

TEST(FrameCacheTest, WhenTheDepotIsFullACacheKeepsItsBlocksAndRefusesTheNewOne) {
  Depot depot;
  Cache cache;
  // Allocated first, while the depot is empty (an allocation would refill from it).
  std::vector<void*> own = AllocateMany(cache, depot, kMaxCachedPerClass + 1);
  // Fill the depot: kMaxDepotBatches batches from a cache that then holds a full class.
  Cache filler;
  std::vector<void*> blocks =
      AllocateMany(filler, depot, kMaxCachedPerClass + kMaxDepotBatches * kBatch);
  for (void* block : blocks) ASSERT_TRUE(filler.Push(block, kClass, depot));

  // Another full cache: its next free finds the depot full and is refused (the caller frees the
  // block), and the cache keeps every block it held.
  for (std::size_t i = 0; i < kMaxCachedPerClass; ++i) {
    ASSERT_TRUE(cache.Push(own[i], kClass, depot));
  }
  EXPECT_FALSE(cache.Push(own.back(), kClass, depot));
  ::operator delete(own.back());
  std::set<void*> popped;
  for (std::size_t i = 0; i < kMaxCachedPerClass; ++i) popped.insert(cache.Pop(kClass, depot));
  EXPECT_EQ(popped, std::set<void*>(own.begin(), own.end() - 1));

  // The depot kept its batches: the emptied cache refills from one.
  void* refill = cache.Pop(kClass, depot);
  EXPECT_NE(refill, nullptr);
  EXPECT_EQ(popped.count(refill), 0u);
  ASSERT_TRUE(cache.Push(refill, kClass, depot));
  for (void* block : popped) ::operator delete(block);
  Drain(depot);
}

}  // namespace
}  // namespace coral::internal::frame_cache
