// Copyright 2026 The coral Authors.

#include "runtime/frame_allocator.h"

#include <cstddef>

#include "coral/internal/fault_injection.h"
#include "runtime/frame_cache.h"

namespace coral::internal {
namespace {

// The caches and their depot (runtime/frame_cache.h, which explains the sizes).
frame_cache::Depot depot;
thread_local frame_cache::Cache cache;

}  // namespace

void* AllocateFrameMemory(std::size_t size) {
  MaybeFailAllocation(AllocationSite::kFrame);
  return frame_cache::Allocate(cache, depot, size);
}

void FreeFrameMemory(void* block, std::size_t size) noexcept {
  frame_cache::Free(cache, depot, block, size);
}

}  // namespace coral::internal
