// Copyright 2026 The coral Authors.
//
// IntrusiveList: the one doubly-linked list of coral's internals (a primitive's wait queue, an fd's
// I/O waiters, a cancellation state's callbacks, a reactor's registrations).
//
// Contract:
// - A T is listable if it has public (or friend-accessible) members `T* prev`, `T* next` and
//   `bool linked` (checked at compile time), placed wherever its layout packs best. A node
//   lives in its owner's memory (an awaitable, a heap object); the list never allocates, copies or
//   frees one. (Members rather than a base class keep the node types standard-layout, which
//   CancellableWait::FromNode and the offsetof casts of cancellation callbacks rely on.)
// - A node is in at most one list at a time. `linked` is true exactly while it is in one; only the
//   list writes it and the links (callers read `linked`, e.g. to learn whether someone else already
//   took the node out). Pushing a linked node, or removing one that is not in this list, is a bug
//   (an assert in debug builds; nothing is checked in optimized ones).
// - Every operation is O(1) but iteration. The list is not synchronized: its owner's lock guards
//   it, and the nodes' links and `linked`.
// - ListEnds::kBoth keeps a tail pointer (two words; PushBack, a FIFO); ListEnds::kFrontOnly does
//   not (one word; for lists whose order does not matter and whose owner's size does, such as one
//   per connection).
// - Range-for visits the nodes front to back; the loop body may remove the node it is visiting
//   (and no other).

#ifndef CORAL_INTERNAL_INTRUSIVE_LIST_H_
#define CORAL_INTERNAL_INTRUSIVE_LIST_H_

#include <cassert>
#include <type_traits>

namespace coral::internal {

enum class ListEnds { kBoth, kFrontOnly };

template <typename T, ListEnds kEnds = ListEnds::kBoth>
class IntrusiveList {
  static constexpr bool kTail = kEnds == ListEnds::kBoth;

 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  T* front() const { return head_; }

  void PushFront(T* node) {
    CheckNodeType();
    assert(!node->linked);
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) {
      head_->prev = node;
    } else if constexpr (kTail) {
      tail_.node = node;
    }
    head_ = node;
    node->linked = true;
  }

  void PushBack(T* node) requires kTail {
    CheckNodeType();
    assert(!node->linked);
    node->prev = tail_.node;
    node->next = nullptr;
    if (tail_.node != nullptr) {
      tail_.node->next = node;
    } else {
      head_ = node;
    }
    tail_.node = node;
    node->linked = true;
  }

  void Remove(T* node) {
    assert(node->linked);
    if (node->prev != nullptr) {
      node->prev->next = node->next;
    } else {
      assert(head_ == node);
      head_ = node->next;
    }
    if (node->next != nullptr) {
      node->next->prev = node->prev;
    } else if constexpr (kTail) {
      tail_.node = node->prev;
    }
    node->linked = false;
  }

  // The front node, removed; null if the list is empty.
  T* PopFront() {
    T* node = head_;
    if (node != nullptr) Remove(node);
    return node;
  }

  class Iterator {
   public:
    explicit Iterator(T* node) : node_(node), next_(Following(node)) {}
    T* operator*() const { return node_; }
    Iterator& operator++() {
      node_ = next_;
      next_ = Following(node_);
      return *this;
    }
    bool operator==(const Iterator& other) const { return node_ == other.node_; }

   private:
    // Read before the body runs, so that it may remove node_.
    static T* Following(T* node) { return node != nullptr ? node->next : nullptr; }
    T* node_;
    T* next_;
  };
  Iterator begin() const { return Iterator(head_); }
  Iterator end() const { return Iterator(nullptr); }

 private:
  // In a member, so that a node type may keep its links private and befriend the list.
  static constexpr void CheckNodeType() {
    static_assert(std::is_same_v<decltype(T::prev), T*> && std::is_same_v<decltype(T::next), T*> &&
                      std::is_same_v<decltype(T::linked), bool>,
                  "a list node has members T* prev, T* next and bool linked");
  }

  struct Tail {
    T* node = nullptr;
  };
  struct NoTail {};

  T* head_ = nullptr;
  [[no_unique_address]] std::conditional_t<kTail, Tail, NoTail> tail_;
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_INTRUSIVE_LIST_H_
