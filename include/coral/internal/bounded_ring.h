// Copyright 2026 The coral Authors.
//
// BoundedRing<T>: the values in flight of a bounded channel. Private to coral; the channel's
// waiting side is in channel_state.h.
//
// A ring of `capacity` cells in which producers and consumers claim positions with a CAS on their
// own cursor, each cell carrying a turn number, so that neither side takes a lock and the two
// sides do not share a cache line (the scheme of Vyukov's bounded MPMC queue, with Rigtorp's turns
// so that one cell works).
//
// Invariants:
//   - head_ is the next position a producer claims, tail_ the next a consumer claims; each only
//     grows, by one CAS per claim. Position p lives in cell CellAt(p), in lap Lap(p).
//   - Close sets closed_ and then kClosed in head_, which freezes head_: a producer's claim is a
//     CAS of the whole word, so every claim precedes the close in head_'s modification order or
//     fails (and then TryPush reports closed). Positions claimed before the close may still be
//     being written; once the ring is closed, TryPop waits for them instead of reporting empty,
//     so that a consumer told "closed and empty" has seen every value a push reported sent.
//     closed_ sits on a line of its own that only Close writes, so that an empty pop checks it
//     without touching head_, the producers' contended line.
//   - A cell's turn is 2t while it is free for the producer of lap t, and 2t + 1 while it holds the
//     value of lap t for that lap's consumer. Only the winner of the cursor CAS for a position
//     touches its cell's storage, and it hands the cell on by storing the next turn: the producer
//     of lap t stores 2t + 1 after constructing the value, the consumer 2t + 2 after moving it
//     out and destroying it.
//   - Lock-free, not wait-free: a lost CAS retries at the cursor's new value. TryPush reports full
//     when the cell at head_ is not free for its lap and head_ has not moved meanwhile, TryPop
//     empty likewise; so a push may report full while a consumer is still moving a value out, and
//     a pop empty while a producer is still constructing one (positions are claimed before their
//     cells are ready). The channel copes with both (channel_state.h): a would-be waiter counts
//     itself before its last try, and the side still at work reads the counts after its turn store.
//   - The turns are stored and loaded seq_cst: they publish the value (and its removal), and they
//     take part in the channel's store-then-load order against its waiter counts (see
//     channel_state.h). The cursors are relaxed: a stale one only proposes a position that the
//     cell's turn or the CAS rejects.
//   - A capacity-0 ring has no cells and must not be pushed to or popped from (an unbounded
//     channel's, which uses UnboundedQueue instead).
//
// Layout: the cursors sit on cache lines of their own, and power-of-two rings spread consecutive
// positions over consecutive cache lines (CellAt).

#ifndef CORAL_INTERNAL_BOUNDED_RING_H_
#define CORAL_INTERNAL_BOUNDED_RING_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "coral/internal/spin_lock.h"
#include "coral/internal/sync_primitives.h"

namespace coral::internal {

template <typename T>
class BoundedRing {
 public:
  explicit BoundedRing(size_t capacity)
      : capacity_(capacity),
        power_of_two_(capacity != 0 && (capacity & (capacity - 1)) == 0),
        shift_(power_of_two_ ? __builtin_ctzll(capacity) : 0),
        spread_bits_(power_of_two_ && capacity >= kCellsPerLine ? shift_ - kCellsPerLineBits : 0),
        cells_(capacity) {}
  BoundedRing(const BoundedRing&) = delete;
  BoundedRing& operator=(const BoundedRing&) = delete;
  ~BoundedRing() {
    // relaxed: nothing runs concurrently with the destructor (whoever dropped the last reference
    // to the channel ordered every use before it), so every position in [tail_, head_) is full.
    const uint64_t head = head_.load(std::memory_order_relaxed) & ~kClosed;
    for (uint64_t p = tail_.load(std::memory_order_relaxed); p != head; ++p) {
      std::launder(reinterpret_cast<T*>(&CellAt(p).storage))->~T();
    }
  }

  size_t capacity() const { return capacity_; }

  // Refuses every later push (see the header comment). Idempotent.
  void Close() {
    // release: a consumer that sees closed_ (acquire) sees the pushes that precede the close on
    // this thread.
    closed_.store(true, std::memory_order_release);
    // release: a thread that sees kClosed (closed(), acquire) also sees closed_, so that its next
    // pop waits for the claims made before the close (ClaimedBeforeClose reads closed_ first).
    head_.fetch_or(kClosed, std::memory_order_release);
  }
  bool closed() const {
    // acquire: see Close. A push refused by kClosed may precede closed_'s visibility here.
    return closed_.load(std::memory_order_acquire) ||
           (head_.load(std::memory_order_acquire) & kClosed) != 0;
  }

  // Moves *value in and resets it; false if full or closed (closed() tells which).
  bool TryPush(std::optional<T>* value) {
    // relaxed: the cursor only proposes a position; the cell's turn, acquired, decides. A stale
    // head without kClosed fails the CAS, which reloads it.
    uint64_t head = head_.load(std::memory_order_relaxed);
    for (;;) {
      if (head & kClosed) return false;
      Cell& cell = CellAt(head);
      // seq_cst: see the header comment; also acquires the consumer's move-out from the cell.
      if (cell.turn.load(std::memory_order_seq_cst) == 2 * Lap(head)) {
        if (head_.compare_exchange_weak(head, head + 1, std::memory_order_relaxed)) {
          ::new (&cell.storage) T(std::move(**value));
          value->reset();
          // seq_cst: the publication and the channel's later load of the waiting-receiver count
          // must not be reordered (a receiver that registers and then looks must see it, or be
          // seen).
          cell.turn.store(2 * Lap(head) + 1, std::memory_order_seq_cst);
          return true;
        }
      } else {
        const uint64_t previous = head;
        head = head_.load(std::memory_order_relaxed);
        if (head == previous) return false;  // The cell is still full: the ring is.
      }
    }
  }

  // Moves the oldest value into *out; false if empty. Once closed, waits for a value whose
  // position was claimed before the close, rather than reporting empty.
  bool TryPop(std::optional<T>* out) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);  // relaxed: as in TryPush.
    SpinWait wait;
    for (;;) {
      Cell& cell = CellAt(tail);
      // seq_cst: acquires the producer's value; ordered against the waiting-sender count.
      if (cell.turn.load(std::memory_order_seq_cst) == 2 * Lap(tail) + 1) {
        if (tail_.compare_exchange_weak(tail, tail + 1, std::memory_order_relaxed)) {
          T* value = std::launder(reinterpret_cast<T*>(&cell.storage));
          out->emplace(std::move(*value));
          value->~T();
          // seq_cst: as the producer's publication, for the waiting-sender count.
          cell.turn.store(2 * Lap(tail) + 2, std::memory_order_seq_cst);
          return true;
        }
      } else {
        const uint64_t previous = tail;
        tail = tail_.load(std::memory_order_relaxed);
        if (tail != previous) continue;
        if (!ClaimedBeforeClose(tail, &wait)) return false;
        wait.Step();  // Its producer is between its claim and its publication.
      }
    }
  }

  // Approximate (the cursors move concurrently); exact when nobody pushes or pops meanwhile.
  size_t ApproximateSize() const {
    // relaxed: an estimate for deciding when to wake senders; a stale one only delays that to a
    // later pop, and the last pop of a draining ring sees it low.
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_relaxed) & ~kClosed;
    return head > tail ? head - tail : 0;
  }
  bool AtMostHalfFull() const { return ApproximateSize() <= capacity_ / 2; }

 private:
  // head_'s top bit: closed. Positions never reach it.
  static constexpr uint64_t kClosed = uint64_t{1} << 63;

  // Whether the ring is closed and `position` was claimed by a producer (before the close).
  // Once closed_ is seen, waits for kClosed, which its closer sets next.
  bool ClaimedBeforeClose(uint64_t position, SpinWait* wait) const {
    if (!closed_.load(std::memory_order_acquire)) return false;  // acquire: see Close.
    for (;;) {
      // relaxed: a claim before the close precedes kClosed in head_'s modification order, and
      // head_ is frozen once kClosed is set, so the value that shows it is the final one; the
      // claimed cells' values are acquired by TryPop's seq_cst turn loads.
      const uint64_t head = head_.load(std::memory_order_relaxed);
      if (head & kClosed) return position < (head & ~kClosed);
      wait->Step();
    }
  }

  struct Cell {
    Atomic<uint64_t> turn{0};
    alignas(T) unsigned char storage[sizeof(T)];
  };
  // Cells that share a 64-byte cache line (1 unless a Cell divides 64 bytes evenly).
  static constexpr int kCellsPerLineBits =
      sizeof(Cell) < 64 && 64 % sizeof(Cell) == 0 ? __builtin_ctz(64 / sizeof(Cell)) : 0;
  static constexpr size_t kCellsPerLine = size_t{1} << kCellsPerLineBits;

  // A position's cell and lap; shifts and masks for power-of-two capacities (a division costs
  // about as much as the rest of a push). Power-of-two rings also spread consecutive positions
  // over consecutive cache lines: index i lives in line i mod L, slot i / L (L = capacity /
  // kCellsPerLine lines). A consumer right behind a producer on another core then reads a line
  // the producer has finished with, instead of one it is still writing: with adjacent cells on
  // one line, every push and pop moved that line between the cores (measured on a machine where
  // a line takes ~250 ns to cross cores, channel_mpmc: 5M msgs/s packed, 8.8M with a line per
  // cell, 7M-20M spread). The ring stays dense, unlike a cache line per cell.
  Cell& CellAt(uint64_t position) {
    if (!power_of_two_) return cells_[position % capacity_];
    const uint64_t index = position & (capacity_ - 1);
    const uint64_t lines_mask = (uint64_t{1} << spread_bits_) - 1;
    return cells_[((index & lines_mask) << (shift_ - spread_bits_)) | (index >> spread_bits_)];
  }
  uint64_t Lap(uint64_t position) const {
    return power_of_two_ ? position >> shift_ : position / capacity_;
  }

  const size_t capacity_;
  const bool power_of_two_;
  const int shift_;
  const int spread_bits_;  // log2 of the number of lines positions are spread over (L above).
  std::vector<Cell> cells_;
  alignas(64) Atomic<bool> closed_{false};
  alignas(64) Atomic<uint64_t> head_{0};  // Producers' cursor.
  alignas(64) Atomic<uint64_t> tail_{0};  // Consumers' cursor.
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_BOUNDED_RING_H_
