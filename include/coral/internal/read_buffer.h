// Copyright 2026 The coral Authors.
//
// The byte store of a BufferedReader: the unread bytes, [begin_, end_) of one heap block, with
// room after them for the next read from the stream. Not thread-safe (one reader owns it).

#ifndef CORAL_INTERNAL_READ_BUFFER_H_
#define CORAL_INTERNAL_READ_BUFFER_H_

#include <cstddef>
#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace coral::internal {

class ReadBuffer {
 public:
  ReadBuffer() = default;
  // The source is left empty (a defaulted move would keep its offsets beside a null block).
  ReadBuffer(ReadBuffer&& other) noexcept { *this = std::move(other); }
  ReadBuffer& operator=(ReadBuffer&& other) noexcept {
    if (this == &other) return *this;
    block_ = std::move(other.block_);
    capacity_ = std::exchange(other.capacity_, 0);
    begin_ = std::exchange(other.begin_, 0);
    end_ = std::exchange(other.end_, 0);
    prepared_ = std::exchange(other.prepared_, 0);
    return *this;
  }

  // The unread bytes. A view stays valid until the next Prepare or Unread: Consume moves no byte.
  absl::string_view data() const { return {block_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }

  // Drops the first `n` unread bytes (aborts with a message if fewer are buffered).
  void Consume(size_t n);
  // Room for `n` more bytes after the unread ones: the span to read into, of exactly `n` bytes
  // (moving the unread bytes to the front of the block, or into a larger one, to make room).
  // Commit(k) then appends the first k of them.
  absl::Span<char> Prepare(size_t n);
  void Commit(size_t n);
  // Puts `bytes` back in front of the unread ones (`bytes` must not point into this buffer).
  void Unread(absl::string_view bytes);

 private:
  // Makes the block hold at least `needed` bytes from its start, the unread ones first.
  void Reserve(size_t needed);

  std::unique_ptr<char[]> block_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t prepared_ = 0;  // What the last Prepare offered, the most Commit may take.
};

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_READ_BUFFER_H_
