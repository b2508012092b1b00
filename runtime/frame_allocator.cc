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
// The calling thread's cache, for Allocate and Free (inlined: a lambda's call is).
constexpr auto kThisThreadCache = []() -> frame_cache::Cache& { return cache; };

}  // namespace

void* AllocateFrameMemory(std::size_t size) {
  MaybeFailAllocation(AllocationSite::kFrame);
  return frame_cache::Allocate(kThisThreadCache, depot, size);
}

void FreeFrameMemory(void* block, std::size_t size) noexcept {
  frame_cache::Free(kThisThreadCache, depot, block, size);
}

}  // namespace coral::internal
