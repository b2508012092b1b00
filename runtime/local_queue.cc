// Copyright 2026 The coral Authors.

#include "runtime/local_queue.h"

#include <algorithm>

#include "coral/internal/check.h"
#include "runtime/global_queue.h"

namespace coral::internal {

void LocalQueue::PushBack(TaskHeader* task, GlobalQueue& overflow) {
  for (;;) {
    // acquire: pairs with a thief's release in ReleaseClaim, so its reads of the slots it copied
    // out happen before we overwrite them.
    const uint64_t head = head_.load(std::memory_order_acquire);
    // relaxed: only this thread writes tail_.
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - Steal(head) < kCapacity) {
      // relaxed: published by the release store of tail_ below.
      buffer_[tail & kMask].store(task, std::memory_order_relaxed);
      // release: a thief that reads this tail (acquire) sees the slot and the task it points to.
      tail_.store(tail + 1, std::memory_order_release);
      return;
    }
    if (Steal(head) != Real(head)) {
      // A thief is copying tasks out and will free room soon; this one task goes global. (The
      // global queue closes only after every worker has stopped.)
      const bool pushed = overflow.Push(task);
      CORAL_CHECK(pushed, "internal: local queue overflow after shutdown");
      return;
    }
    if (PushOverflow(task, Real(head), overflow)) return;
    // A thief claimed tasks between our load and our CAS: there is room now.
  }
}

bool LocalQueue::PushOverflow(TaskHeader* task, uint32_t head_real, GlobalQueue& overflow) {
  constexpr uint32_t kMoved = kCapacity / 2;
  uint64_t expected = Pack(head_real, head_real);
  // release on success: as in Pop, a thief that reads the advanced head also sees a tail_ at
  // least as far. The slots being moved were written by this thread. relaxed on failure: the
  // caller retries from a fresh load.
  if (!head_.compare_exchange_strong(expected, Pack(head_real + kMoved, head_real + kMoved),
                                     std::memory_order_release, std::memory_order_relaxed)) {
    return false;
  }
  TaskHeader* first = buffer_[head_real & kMask].load(std::memory_order_relaxed);
  TaskHeader* last = first;
  for (uint32_t i = 1; i < kMoved; ++i) {
    TaskHeader* next = buffer_[(head_real + i) & kMask].load(std::memory_order_relaxed);
    last->queue_next = next;
    last = next;
  }
  last->queue_next = task;
  task->queue_next = nullptr;
  overflow.PushBatch(first, task, kMoved + 1);
  return true;
}

TaskHeader* LocalQueue::Pop() {
  // relaxed: the owner only reads slots it wrote itself; the CAS below orders what thieves see.
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    const uint32_t steal = Steal(head);
    const uint32_t real = Real(head);
    if (real == tail_.load(std::memory_order_relaxed)) return nullptr;
    const uint64_t next = steal == real ? Pack(real + 1, real + 1) : Pack(steal, real + 1);
    // release on success: a thief that reads this head or a later one (acquire; a thief's CAS of
    // head_ continues this release sequence) also sees the tail_ that the new real does not pass,
    // so ClaimHalf never takes tail - real over a stale tail (an underflow: a claim of ~2^31
    // slots). The model check found this (tests/model/local_queue_model_test.cc). relaxed on
    // failure: we only retry.
    if (head_.compare_exchange_weak(head, next, std::memory_order_release,
                                    std::memory_order_relaxed)) {
      return buffer_[real & kMask].load(std::memory_order_relaxed);
    }
  }
}

bool LocalQueue::MaybeHasTasks() const {
  // seq_cst: the parker's side of the parking protocol (scheduler.cc, "Parking"): these loads
  // follow its seq_cst RMW of the idle state in the single total order.
  const uint32_t real = Real(head_.load());
  return tail_.load() != real;
}

uint32_t LocalQueue::Size() const {
  // relaxed: owner only; it wrote tail_ and sees its own pops.
  return tail_.load(std::memory_order_relaxed) - Real(head_.load(std::memory_order_relaxed));
}

uint32_t LocalQueue::ClaimHalf(uint32_t max_count, uint32_t* first) {
  // acquire: see ReleaseClaim/PushOverflow's updates of head_ before deciding what to claim.
  uint64_t head = head_.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t steal = Steal(head);
    const uint32_t real = Real(head);
    if (steal != real) return 0;  // Another thief is mid-steal.
    // acquire: pairs with the owner's release store; slots [real, tail) and their tasks are
    // visible.
    const uint32_t tail = tail_.load(std::memory_order_acquire);
    uint32_t count = tail - real;
    count = std::min(count - count / 2, max_count);
    if (count == 0) return 0;
    // acq_rel on success: acquire keeps the slot reads below after the claim; release is
    // harmless. acquire on failure: the reloaded head is used like the first load.
    if (head_.compare_exchange_weak(head, Pack(steal, real + count), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      *first = real;
      return count;
    }
  }
}

void LocalQueue::ReleaseClaim() {
  // relaxed: seeds the CAS below, which retries on a stale value.
  uint64_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    // release: our reads of the claimed slots happen before the owner reuses them (its acquire
    // load of head_ in PushBack). relaxed on failure: we only retry.
    if (head_.compare_exchange_weak(head, Pack(Real(head), Real(head)), std::memory_order_release,
                                    std::memory_order_relaxed)) {
      return;
    }
  }
}

TaskHeader* LocalQueue::StealHalfInto(LocalQueue& dst, uint32_t max_count) {
  // relaxed: the caller owns dst.
  const uint32_t dst_tail = dst.tail_.load(std::memory_order_relaxed);
  uint32_t first = 0;
  const uint32_t count = ClaimHalf(max_count, &first);
  if (count == 0) return nullptr;
  for (uint32_t i = 0; i < count; ++i) {
    // relaxed: ordered by the acquire load of tail_ in ClaimHalf (source) and by the release
    // store of dst.tail_ below (destination).
    TaskHeader* task = buffer_[(first + i) & kMask].load(std::memory_order_relaxed);
    dst.buffer_[(dst_tail + i) & kMask].store(task, std::memory_order_relaxed);
  }
  ReleaseClaim();
  // Run the last stolen task now; publish the others.
  TaskHeader* run_now = dst.buffer_[(dst_tail + count - 1) & kMask].load(std::memory_order_relaxed);
  if (count > 1) {
    // release: thieves of dst see the copied slots.
    dst.tail_.store(dst_tail + count - 1, std::memory_order_release);
  }
  return run_now;
}

}  // namespace coral::internal
