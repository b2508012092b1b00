// Copyright 2026 The coral Authors.
//
// coral::BufferedWriter: coalesces small writes to a stream (stream.h) into few large ones.
//
//   coral::BufferedWriter writer(&stream);
//   for (const Reply& reply : replies) writer.Append(reply.Encode());   // never waits
//   if (absl::Status s = co_await writer.Flush(); !s.ok()) co_return s;
//
// Append buffers and never waits; Write buffers and flushes once `capacity` bytes are buffered;
// Flush writes everything buffered. Nothing reaches the stream until a flush: a writer that waits
// for the peer's next request must Flush the replies first.
//
// Ownership. The writer borrows the stream, which must outlive it, and owns its buffer.
//
// Thread-safety. One task at a time uses a writer (it is not synchronized); another task may read
// the same stream meanwhile.
//
// Errors. The stream's errors are returned as they are. A failed Write or Flush keeps every byte
// it did not write, in order, so a later Flush continues exactly where it stopped; nothing is
// written twice and nothing is skipped.
//
// Cancellation. Write and Flush observe the task's token through the stream's Write: when it is
// cancelled (or a coral::Timeout's deadline passes) while they wait, they return the stream's
// absl::CancelledError with the unwritten bytes still buffered (see Errors), so a flush that a
// drain or a deadline cut short can be retried, under another token.
//
// Destruction with unflushed bytes. Dropping bytes a program asked to send is a bug that hides
// (the peer waits for a reply that never comes), so it is not silent: destroying a writer that
// still buffers bytes aborts with a message naming coral::BufferedWriter, like coral's other
// misuses, unless the loss was already reported or asked for:
//   - its last Write or Flush failed (the error told the caller those bytes were not sent);
//   - Discard() dropped them;
//   - the task was torn down inside a Write or Flush of this writer (JoinHandle::Abort, runtime
//     shutdown), where it could not have reacted.
// Flushing in the destructor, as a blocking writer would, is not possible: a flush waits.

#ifndef CORAL_BUFFERED_WRITER_H_
#define CORAL_BUFFERED_WRITER_H_

#include <cstddef>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coral/internal/check.h"
#include "coral/stream.h"
#include "coral/task.h"

namespace coral {

struct BufferedWriterOptions {
  // Write flushes once this many bytes are buffered; a Write of at least this many bytes into an
  // empty buffer goes to the stream without being copied.
  size_t capacity = 16 * 1024;
};

template <WriteStream S>
class BufferedWriter {
 public:
  explicit BufferedWriter(S* stream, BufferedWriterOptions options = {})
      : stream_(stream), options_(options) {}
  BufferedWriter(const BufferedWriter&) = delete;
  BufferedWriter& operator=(const BufferedWriter&) = delete;
  ~BufferedWriter() {
    CORAL_CHECK(buffer_.empty() || reported_ || busy_,
                "a coral::BufferedWriter destroyed with unflushed bytes (co_await Flush() "
                "first, or Discard() them)");
  }

  S& stream() const { return *stream_; }

  // The bytes buffered and not yet written.
  absl::string_view buffered() const { return buffer_; }

  // Adds `data` to the buffer, which grows as needed. Never waits and never writes.
  void Append(absl::string_view data) {
    buffer_.append(data.data(), data.size());
    reported_ = false;
  }

  // co_await Write(data): accepts all of `data` (buffering it, or writing a large one straight to
  // the stream), then flushes if `capacity` bytes are buffered. An error means a flush failed:
  // `data` is then buffered too, in order, for the next Flush (see Errors).
  [[nodiscard]] Task<absl::Status> Write(absl::string_view data);

  // co_await Flush(): writes every buffered byte.
  [[nodiscard]] Task<absl::Status> Flush();

  // Drops the buffered bytes: nothing of them is written.
  void Discard() {
    buffer_.clear();
    reported_ = false;
  }

 private:
  S* stream_;
  BufferedWriterOptions options_;
  std::string buffer_;
  bool reported_ = false;  // The last Write or Flush failed, with buffer_ not empty.
  bool busy_ = false;      // Inside a Write or Flush (stays set if the task is torn down there).
};

template <WriteStream S>
Task<absl::Status> BufferedWriter<S>::Write(absl::string_view data) {
  if (buffer_.empty() && data.size() >= options_.capacity) {
    busy_ = true;
    while (!data.empty()) {
      absl::StatusOr<size_t> n = co_await stream_->Write(data);
      if (!n.ok()) {
        // Accepted all the same: the rest is buffered for the next Flush.
        buffer_.assign(data.data(), data.size());
        reported_ = true;
        busy_ = false;
        co_return n.status();
      }
      data.remove_prefix(*n);
    }
    busy_ = false;
    reported_ = false;
    co_return absl::OkStatus();
  }
  Append(data);
  if (buffer_.size() < options_.capacity) co_return absl::OkStatus();
  co_return co_await Flush();
}

template <WriteStream S>
Task<absl::Status> BufferedWriter<S>::Flush() {
  busy_ = true;
  size_t written = 0;
  absl::Status status;
  {
    // The bytes written leave the buffer however the loop ends, also when the task is torn down
    // at an await (the guard dies with the frame): a later Flush must not write them again.
    absl::Cleanup drop_written = [&] { buffer_.erase(0, written); };
    while (written < buffer_.size()) {
      absl::StatusOr<size_t> n =
          co_await stream_->Write(absl::string_view(buffer_).substr(written));
      if (!n.ok()) {
        status = n.status();
        break;
      }
      written += *n;
    }
  }
  reported_ = !status.ok();
  busy_ = false;
  co_return status;
}

}  // namespace coral

#endif  // CORAL_BUFFERED_WRITER_H_
