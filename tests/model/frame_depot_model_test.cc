// Copyright 2026 The coral Authors.
//
// Model of the frame allocator's caches and depot (runtime/frame_cache.h, shipped, compiled with
// CORAL_MODEL_CHECK: a class caches 4 blocks, a batch is 2, the depot keeps 2 batches per class).
// Each simulated thread has its own Cache, as each thread has its thread_local one; the Depot is
// shared. Frames are 128-byte blocks (one size class), from Relacy's heap when a cache and the
// depot have none:
//   - a spawner allocates frame X, writes it, and hands it to the worker (a release store that the
//     worker acquires, as the run queue hands over a task); then allocates, writes and frees a
//     frame of its own;
//   - the worker, whose cache starts full (4 blocks), allocates frame A, frees X (a frame freed on
//     another thread than the one that made it), and frees A, which finds the cache full and sends
//     a batch (X and a block below it) to the depot;
//   - a third thread, whose cache starts empty, allocates two frames (a batch from the depot if it
//     has one, else the heap), writes them and frees them.
// The properties: no block is handed out while it is live (allocated and not freed); a frame's
// contents, a variable per block address that Relacy checks for data races, are written by each
// owner only after the previous owner's last access (so a block that moves through the depot
// carries its last owner's writes with it); no block is lost or freed twice: at the end the
// depot's batches are freed and the caches free theirs as they are destroyed, and Relacy reports
// a block never freed (a leak) or freed twice; and in some executions a block freed to one cache
// is allocated from another (it went through the depot).

#include <cstddef>
#include <utility>

#include "runtime/frame_cache.h"
#include "tests/model/model.h"

namespace coral::internal::frame_cache {
namespace {

constexpr std::size_t kFrameSize = 128;
constexpr int kMaxBlocks = 16;  // Distinct block addresses one execution can see.
// Across executions: allocations of a block that another cache had freed (through the depot).
int reused_across_caches = 0;

struct FrameDepotModel : rl::test_suite<FrameDepotModel, 3> {
  Depot depot;
  Cache caches[3];
  Atomic<void*> handed_over{nullptr};  // The spawner's frame X, for the worker.

  // Per block address: whether it is live, and its contents (a race-checked variable).
  struct Block {
    void* address = nullptr;
    bool live = false;
    int freed_to = -1;  // The cache it was last freed to.
    rl::var<int> contents{0};
  };
  Block blocks[kMaxBlocks];

  Block& Find(void* address) {
    for (Block& block : blocks) {
      if (block.address == address) return block;
    }
    for (Block& block : blocks) {
      if (block.address == nullptr) {
        block.address = address;
        return block;
      }
    }
    RL_ASSERT(false);  // More blocks than the model expects.
    return blocks[0];
  }

  // The simulated thread's cache, as Allocate and Free take it (the allocator's is thread_local).
  auto Use(int cache) {
    return [this, cache]() -> Cache& { return caches[cache]; };
  }

  // Allocates a frame from `cache` and writes it.
  void* AllocateFrame(int cache, int value) {
    void* frame = Allocate(Use(cache), depot, kFrameSize);
    Block& block = Find(frame);
    RL_ASSERT(!block.live);  // Never handed out twice.
    if (block.freed_to >= 0 && block.freed_to != cache) ++reused_across_caches;
    block.live = true;
    block.contents($) = value;
    return frame;
  }
  // Reads the frame (its owner's last access) and frees it to `cache`.
  void FreeFrame(int cache, void* frame, int expected) {
    Block& block = Find(frame);
    RL_ASSERT(block.live);
    RL_ASSERT(block.contents($) == expected);
    block.live = false;
    block.freed_to = cache;
    Free(Use(cache), depot, frame, kFrameSize);
  }

  void before() {
    // The worker's cache starts full.
    void* frames[kMaxCachedPerClass];
    for (std::size_t i = 0; i < kMaxCachedPerClass; ++i) frames[i] = AllocateFrame(1, -1);
    for (void* frame : frames) FreeFrame(1, frame, -1);
  }

  void thread(unsigned index) {
    const int cache = static_cast<int>(index);
    const int id = cache * 10;
    if (index == 0) {  // The spawner: frame X for the worker, and one of its own.
      void* x = AllocateFrame(cache, id);
      handed_over.store(x, std::memory_order_release);
      FreeFrame(cache, AllocateFrame(cache, id + 1), id + 1);
    } else if (index == 1) {  // The worker: frees X, which sends a batch to the depot.
      void* a = AllocateFrame(cache, id);
      void* x;
      while ((x = handed_over.load(std::memory_order_acquire)) == nullptr) CpuRelax();
      FreeFrame(cache, x, 0);
      FreeFrame(cache, a, id);
    } else {  // Two frames, from the depot if it has a batch.
      void* a = AllocateFrame(cache, id);
      void* b = AllocateFrame(cache, id + 1);
      FreeFrame(cache, a, id);
      FreeFrame(cache, b, id + 1);
    }
  }

  void after() {
    for (const Block& block : blocks) RL_ASSERT(!block.live);
    // The depot's batches go back to the heap; the caches' blocks go with their destructors.
    while (FreeBlock* batch = depot.Take(SizeClass(kFrameSize))) {
      while (batch != nullptr) ::operator delete(std::exchange(batch, batch->next));
    }
  }
};

TEST(FrameDepotModel, NoBlockHandedOutTwiceOrLost) {
  EXPECT_TRUE(
      model_check::Explore<FrameDepotModel>({.preemption_bound = 2, .random_iterations = 20000}));
  if (IsSkipped()) return;  // Under a sanitizer (model.h).
  EXPECT_GT(reused_across_caches, 0);
}

}  // namespace
}  // namespace coral::internal::frame_cache
