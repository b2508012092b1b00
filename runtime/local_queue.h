// Copyright 2026 The coral Authors.
//
// LocalQueue: a worker's bounded run queue. The owning worker pushes at the tail and pops at the
// head; other workers steal half of it at once. Full: the owner moves half of it, plus the new
// task, to the global injection queue in one batch.
//
// head_ packs two 32-bit indices: `steal` (where a thief's claimed range starts) and `real` (the
// next task to pop). steal != real while a thief is copying [steal, real_at_claim) out; the owner
// must not overwrite those slots, so "full" is measured from steal. Indices wrap at 2^32; slots are
// indexed modulo kCapacity.

#ifndef CORAL_RUNTIME_LOCAL_QUEUE_H_
#define CORAL_RUNTIME_LOCAL_QUEUE_H_

#include <cstdint>

#include "coral/internal/sync_primitives.h"
#include "coral/internal/task_header.h"

namespace coral::internal {

class GlobalQueue;

class LocalQueue {
 public:
  // 256, as tokio's: large enough that a burst of spawns rarely overflows, small enough that
  // stealing half is a short copy. 4 under the model checker, as under loom, so that a few pushes
  // reach a full queue and its overflow.
  static constexpr uint32_t kCapacity = kModelCheck ? 4 : 256;

  LocalQueue() = default;
  LocalQueue(const LocalQueue&) = delete;
  LocalQueue& operator=(const LocalQueue&) = delete;

  // Owner only. Pushes `task` at the tail; on overflow moves half the queue and `task` to
  // `overflow`.
  void PushBack(TaskHeader* task, GlobalQueue& overflow);
  // Owner only. Pops from the head, or returns null.
  TaskHeader* Pop();
  // Any thread, approximate: true if there may be tasks to take.
  bool MaybeHasTasks() const;
  // Owner only: number of queued tasks.
  uint32_t Size() const;
  // Called by a thief that owns `dst` (which must be empty). Moves about half of this queue, but
  // at most `max_count` tasks (a seeded schedule's choice), into `dst` and returns one of the
  // stolen tasks, or null if there was nothing to steal.
  TaskHeader* StealHalfInto(LocalQueue& dst, uint32_t max_count = kCapacity);

 private:
  static constexpr uint32_t kMask = kCapacity - 1;
  static uint32_t Steal(uint64_t head) { return static_cast<uint32_t>(head >> 32); }
  static uint32_t Real(uint64_t head) { return static_cast<uint32_t>(head); }
  static uint64_t Pack(uint32_t steal, uint32_t real) {
    return (static_cast<uint64_t>(steal) << 32) | real;
  }

  // Moves half the queue plus `task` to `overflow`. Returns false (nothing moved) if a thief
  // raced us and took tasks first.
  bool PushOverflow(TaskHeader* task, uint32_t head_real, GlobalQueue& overflow);
  // Thief: claims about half of the tasks, at most `max_count`. Returns the number claimed,
  // starting at `*first`.
  uint32_t ClaimHalf(uint32_t max_count, uint32_t* first);
  // Thief: after copying the claimed range out, advances steal to real.
  void ReleaseClaim();

  Atomic<uint64_t> head_{0};
  // Written only by the owner; read by thieves.
  Atomic<uint32_t> tail_{0};
  // Slots are atomics only so that a thief's read of a slot the owner may later reuse is not a
  // data race on paper; every access is relaxed and ordered by head_/tail_.
  Atomic<TaskHeader*> buffer_[kCapacity] = {};
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_LOCAL_QUEUE_H_
