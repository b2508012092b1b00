// Copyright 2026 The coral Authors.
//
// UnboundedQueue<T>: the values in flight of an unbounded channel. Private to coral; the
// channel's waiting side is in channel_state.h.
//
// Invariants:
//   - A std::deque under a spin lock of its own (not the channel's waiter lock): every push, pop
//     and size takes it for a few pointer operations, and nothing else is done while it is held
//     (no wake-up, no other lock). Not lock-free, unlike the bounded channel's ring
//     (bounded_ring.h): a ring needs a capacity.
//   - Never full: TryPush succeeds unless the queue is closed, or memory for a node cannot be
//     allocated (it then throws std::bad_alloc and leaves the queue and the value as they were).
//     FIFO.
//   - Close sets closed_ under lock_, so every push precedes it or fails: a consumer that sees
//     closed() sees every value a push reported sent.
//   - Every push and pop ends, under the lock, with a seq_cst read-modify-write of published_,
//     which places the change in the channel's store-then-load order against its waiter counts
//     as the ring's seq_cst turn stores are (channel_state.h).

#ifndef CORAL_INTERNAL_UNBOUNDED_QUEUE_H_
#define CORAL_INTERNAL_UNBOUNDED_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "coral/internal/fault_injection.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal {

template <typename T>
class UnboundedQueue {
 public:
  UnboundedQueue() = default;
  UnboundedQueue(const UnboundedQueue&) = delete;
  UnboundedQueue& operator=(const UnboundedQueue&) = delete;

  // Refuses every later push. Idempotent.
  void Close() {
    SpinLockHolder hold(&lock_);
    // release: a consumer that sees the close (acquire) sees every push before it, which lock_
    // ordered before this store.
    closed_.store(true, std::memory_order_release);
  }
  bool closed() const { return closed_.load(std::memory_order_acquire); }  // acquire: see Close.

  // Moves *value in and resets it; false if closed. Throws std::bad_alloc, with *value
  // untouched, if a node cannot be allocated (std::deque::push_back's strong guarantee).
  bool TryPush(std::optional<T>* value) {
    if (closed()) return false;                         // Before the allocation a push would make.
    MaybeFailAllocation(AllocationSite::kChannelNode);  // Any push may need a node.
    SpinLockHolder hold(&lock_);
    // relaxed: under lock_, which orders it against Close's store.
    if (closed_.load(std::memory_order_relaxed)) return false;
    deque_.push_back(std::move(**value));
    value->reset();
    Publish();
    return true;
  }

  // Moves the oldest value into *out; false if empty.
  bool TryPop(std::optional<T>* out) {
    SpinLockHolder hold(&lock_);
    if (deque_.empty()) return false;
    out->emplace(std::move(deque_.front()));
    deque_.pop_front();
    Publish();
    return true;
  }

  size_t Size() const {
    SpinLockHolder hold(&lock_);
    return deque_.size();
  }

 private:
  void Publish() { published_.fetch_add(1, std::memory_order_seq_cst); }

  alignas(64) mutable SpinLock lock_;
  std::deque<T> deque_;  // Guarded by lock_.
  std::atomic<uint64_t> published_{0};
  Atomic<bool> closed_{false};  // Written under lock_; read without it by closed().
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_UNBOUNDED_QUEUE_H_
