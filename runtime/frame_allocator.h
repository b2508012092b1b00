// Copyright 2026 The coral Authors.
//
// Memory for coroutine frames (every coral::Task<T>, spawned or awaited). Private to the runtime.
//
// Each thread keeps a small cache of freed frame blocks per size class, so the allocate/free
// pair that every spawn and every awaited Task costs is a pointer pop and push in the common
// case. A block freed on another thread than the one that allocated it (a task that migrated)
// simply joins the freeing thread's cache. Sizes above the largest class, and blocks beyond a
// class's bound, go to operator new/delete. Under AddressSanitizer the cache is bypassed so that
// use-after-free of a frame is still detected.

#ifndef CORAL_RUNTIME_FRAME_ALLOCATOR_H_
#define CORAL_RUNTIME_FRAME_ALLOCATOR_H_

#include <cstddef>

namespace coral::internal {

// Throws std::bad_alloc when out of memory (or when a test injects the failure: AllocationSite::
// kFrame in coral/internal/fault_injection.h), like the operator new it stands in for.
void* AllocateFrameMemory(std::size_t size);
void FreeFrameMemory(void* block, std::size_t size) noexcept;

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_FRAME_ALLOCATOR_H_
