// Copyright 2026 The coral Authors.

#include "runtime/global_queue.h"

#include <algorithm>

#include "coral/internal/check.h"
#include "runtime/local_queue.h"

namespace coral::internal {

bool GlobalQueue::Push(TaskHeader* task) {
  task->queue_next = nullptr;
  SpinLockHolder lock(&mu_);
  if (closed_) return false;
  if (tail_ == nullptr) {
    head_ = task;
  } else {
    tail_->queue_next = task;
  }
  tail_ = task;
  // release: see MaybeHasTasks.
  size_.store(size_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  return true;
}

void GlobalQueue::PushBatch(TaskHeader* first, TaskHeader* last, uint32_t count) {
  last->queue_next = nullptr;
  SpinLockHolder lock(&mu_);
  CORAL_CHECK(!closed_, "internal: local queue overflow after shutdown");
  if (tail_ == nullptr) {
    head_ = first;
  } else {
    tail_->queue_next = first;
  }
  tail_ = last;
  // release: see MaybeHasTasks.
  size_.store(size_.load(std::memory_order_relaxed) + count, std::memory_order_release);
}

TaskHeader* GlobalQueue::PopBatchInto(LocalQueue& local, uint32_t max) {
  if (!MaybeHasTasks()) return nullptr;
  TaskHeader* first;
  TaskHeader* rest;
  uint32_t taken = 0;
  {
    SpinLockHolder lock(&mu_);
    first = head_;
    if (first == nullptr) return nullptr;
    TaskHeader* last = first;
    taken = 1;
    while (taken < max && last->queue_next != nullptr) {
      last = last->queue_next;
      ++taken;
    }
    head_ = last->queue_next;
    if (head_ == nullptr) tail_ = nullptr;
    last->queue_next = nullptr;
    rest = first->queue_next;
    // relaxed: written under mu_; readers outside only need an approximation.
    size_.store(size_.load(std::memory_order_relaxed) - taken, std::memory_order_relaxed);
  }
  while (rest != nullptr) {
    TaskHeader* next = rest->queue_next;
    local.PushBack(rest, *this);
    rest = next;
  }
  return first;
}

TaskHeader* GlobalQueue::Close() {
  SpinLockHolder lock(&mu_);
  closed_ = true;
  TaskHeader* all = head_;
  head_ = tail_ = nullptr;
  size_.store(0, std::memory_order_relaxed);  // relaxed: under mu_, and nobody pushes any more.
  return all;
}

}  // namespace coral::internal
