// Copyright 2026 The coral Authors.

#include "runtime/timer_queue.h"

#include <algorithm>
#include <utility>

#include "coral/internal/fault_injection.h"

namespace coral::internal {
namespace {

// Saturates: an infinite deadline is INT64_MAX, never expired.
int64_t Nanos(Instant t) { return absl::ToInt64Nanoseconds(t.SinceOrigin()); }

}  // namespace

void TimerQueue::Place(size_t index, TimerEntry* entry) {
  heap_[index] = entry;
  entry->heap_index = index;
}

void TimerQueue::SiftUp(size_t index) {
  TimerEntry* entry = heap_[index];
  while (index > 0) {
    const size_t parent = (index - 1) / 2;
    if (heap_[parent]->deadline <= entry->deadline) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, entry);
}

void TimerQueue::SiftDown(size_t index) {
  TimerEntry* entry = heap_[index];
  const size_t size = heap_.size();
  for (;;) {
    size_t child = 2 * index + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->deadline < heap_[child]->deadline) ++child;
    if (entry->deadline <= heap_[child]->deadline) break;
    Place(index, heap_[child]);
    index = child;
  }
  Place(index, entry);
}

void TimerQueue::UpdateEarliestLocked() {
  // relaxed: a hint (see the member's comment); the heap itself is read under mu_.
  earliest_ns_.store(heap_.empty() ? INT64_MAX : Nanos(heap_.front()->deadline),
                     std::memory_order_relaxed);
}

void TimerQueue::Reserve() {
  MaybeFailAllocation(AllocationSite::kTimerEntry);
  MutexLock lock(&mu_);
  if (heap_.size() == heap_.capacity()) heap_.reserve(std::max<size_t>(16, 2 * heap_.capacity()));
}

void TimerQueue::Insert(TimerEntry* entry) {
  MutexLock lock(&mu_);
  entry->queue = this;
  heap_.push_back(entry);
  SiftUp(heap_.size() - 1);
  UpdateEarliestLocked();
}

bool TimerQueue::Remove(TimerEntry* entry) {
  MutexLock lock(&mu_);
  const size_t index = entry->heap_index;
  if (index == TimerEntry::kNotArmed) return false;
  entry->heap_index = TimerEntry::kNotArmed;
  TimerEntry* last = heap_.back();
  heap_.pop_back();
  if (last != entry) {
    Place(index, last);
    SiftUp(index);
    SiftDown(last->heap_index);
  }
  UpdateEarliestLocked();
  return true;
}

TimerQueue::Fired TimerQueue::PopTopLocked() {
  TimerEntry* top = heap_.front();
  top->heap_index = TimerEntry::kNotArmed;
  // Copied now: once the lock is released, the entry may be destroyed by its owner.
  const Fired fired{top->callback, top->target};
  TimerEntry* last = heap_.back();
  heap_.pop_back();
  if (last != top) {
    Place(0, last);
    SiftDown(0);
  }
  return fired;
}

int TimerQueue::FireDue(const Instant* now) {
  int total = 0;
  for (;;) {
    Fired batch[kFireBatch];
    int count = 0;
    {
      MutexLock lock(&mu_);
      while (count < kFireBatch && !heap_.empty() &&
             (now == nullptr || heap_.front()->deadline <= *now)) {
        batch[count++] = PopTopLocked();
      }
      UpdateEarliestLocked();
    }
    for (int i = 0; i < count; ++i) batch[i].callback(batch[i].target);
    total += count;
    if (count < kFireBatch) return total;
  }
}

int TimerQueue::FireExpired(Instant now) {
  // relaxed: see earliest_ns_.
  if (Nanos(now) < earliest_ns_.load(std::memory_order_relaxed)) return 0;
  return FireDue(&now);
}

void TimerQueue::FireAll() { FireDue(nullptr); }

std::optional<Instant> TimerQueue::NextDeadline() {
  MutexLock lock(&mu_);
  if (heap_.empty()) return std::nullopt;
  return heap_.front()->deadline;
}

size_t TimerQueue::size() {
  MutexLock lock(&mu_);
  return heap_.size();
}

}  // namespace coral::internal
