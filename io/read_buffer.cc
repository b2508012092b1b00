// Copyright 2026 The coral Authors.

#include "coral/internal/read_buffer.h"

#include <algorithm>
#include <cstring>

#include "coral/internal/check.h"

namespace coral::internal {

void ReadBuffer::Consume(size_t n) {
  CORAL_CHECK(n <= size(), "coral::BufferedReader::Consume of more bytes than are buffered");
  begin_ += n;
  // Empty: the next read starts at the front of the block, which then needs no compaction (the
  // common case of a reader that consumes everything it reads).
  if (begin_ == end_) begin_ = end_ = 0;
}

void ReadBuffer::Reserve(size_t needed) {
  const size_t unread = size();
  if (needed <= capacity_) {
    // Enough room once the unread bytes move to the front.
    std::memmove(block_.get(), block_.get() + begin_, unread);
  } else {
    const size_t capacity = std::max(needed, capacity_ * 2);
    std::unique_ptr<char[]> block(new char[capacity]);
    if (unread > 0) std::memcpy(block.get(), block_.get() + begin_, unread);
    block_ = std::move(block);
    capacity_ = capacity;
  }
  begin_ = 0;
  end_ = unread;
}

absl::Span<char> ReadBuffer::Prepare(size_t n) {
  if (capacity_ - end_ < n) Reserve(size() + n);
  prepared_ = n;
  return absl::Span<char>(block_.get() + end_, n);
}

void ReadBuffer::Commit(size_t n) {
  CORAL_CHECK(n <= prepared_, "coral::internal::ReadBuffer::Commit past what Prepare offered");
  end_ += n;
  prepared_ = 0;
}

void ReadBuffer::Unread(absl::string_view bytes) {
  if (bytes.empty()) return;
  if (begin_ < bytes.size()) {
    // Make room in front: the unread bytes move (or are copied) to offset bytes.size().
    const size_t unread = size();
    const size_t needed = bytes.size() + unread;
    if (needed > capacity_) {
      std::unique_ptr<char[]> block(new char[needed]);
      if (unread > 0) std::memcpy(block.get() + bytes.size(), block_.get() + begin_, unread);
      block_ = std::move(block);
      capacity_ = needed;
    } else {
      std::memmove(block_.get() + bytes.size(), block_.get() + begin_, unread);
    }
    begin_ = bytes.size();
    end_ = begin_ + unread;
  }
  begin_ -= bytes.size();
  std::memcpy(block_.get() + begin_, bytes.data(), bytes.size());
}

}  // namespace coral::internal
