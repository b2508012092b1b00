// Copyright 2026 The coral Authors.
//
// coral::BufferedReader: reads a stream (stream.h) through a buffer, for protocols made of lines,
// delimited records and fixed-size fields.
//
//   coral::BufferedReader reader(&stream, {.max_buffered = 8 * 1024});
//   for (;;) {
//     absl::StatusOr<absl::string_view> line = co_await reader.ReadLine();
//     if (absl::IsOutOfRange(line.status())) break;       // end of stream
//     if (!line.ok()) co_return line.status();             // includes a line over 8 KiB
//     Handle(*line);
//   }
//
// Ownership. The reader borrows the stream, which must outlive it, and owns its buffer: one heap
// block, allocated at the first read, grown when a request needs more (never beyond
// max_buffered, but see ReadExact). A view the reader returns (buffered(), Peek, ReadUntil,
// ReadLine) points into the buffer and stays valid until the next awaited operation of the
// reader; Consume keeps it valid.
//
// Thread-safety. One task at a time uses a reader (it is not synchronized); another task may
// write to the same stream meanwhile, as StreamSocket allows.
//
// Limits. Everything that waits for bytes to accumulate (ReadUntil, ReadLine, Peek, Fill) holds at
// most max_buffered bytes: ReadUntil and ReadLine fail with absl::ResourceExhaustedError when no
// delimiter is among the first max_buffered bytes, Peek(n) for n > max_buffered. The reader stays
// consistent: the bytes stay buffered, unconsumed, so the caller may close the stream, or
// Consume them (discard the over-long record's start) and carry on.
//
// End of stream. An operation that needs more bytes than the stream delivers before its end fails
// with absl::OutOfRangeError; the bytes that did arrive stay buffered (buffered()).
//
// Errors. The stream's own errors are returned as they are.
//
// Cancellation. Every operation is cancel-safe: when it fails for any reason (absl::CancelledError
// when the task's token is cancelled, DeadlineExceededError under coral::Timeout), it has consumed
// nothing, and every byte it read from the stream is buffered for the next operation. The stream's
// own Read must obey stream.h's rule that a failed read consumed nothing. A task torn down inside
// an operation (JoinHandle::Abort, runtime shutdown) leaves the reader consistent as well, and
// only the reader's owner could use it then.
//
// Misuse: Consume(n) with fewer than n bytes buffered, and ReadUntil with an empty delimiter,
// abort with a message naming them.

#ifndef CORAL_BUFFERED_READER_H_
#define CORAL_BUFFERED_READER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/internal/check.h"
#include "coral/internal/read_buffer.h"
#include "coral/stream.h"
#include "coral/task.h"

namespace coral {

struct BufferedReaderOptions {
  // The most bytes one read from the stream asks for (and the buffer's first size).
  size_t read_size = 16 * 1024;
  // The most bytes the reader accumulates while it waits for a delimiter or a Peek (see Limits).
  size_t max_buffered = 64 * 1024;
};

template <ReadStream S>
class BufferedReader {
 public:
  explicit BufferedReader(S* stream, BufferedReaderOptions options = {})
      : stream_(stream), options_(options) {}
  BufferedReader(BufferedReader&&) noexcept = default;
  BufferedReader& operator=(BufferedReader&&) noexcept = default;

  S& stream() const { return *stream_; }
  const BufferedReaderOptions& options() const { return options_; }

  // The bytes read from the stream and not yet consumed. Never waits.
  absl::string_view buffered() const { return buffer_.data(); }
  // Drops the first `n` buffered bytes.
  void Consume(size_t n) { buffer_.Consume(n); }

  // co_await Fill(): one read from the stream, appended to the buffer; returns how many bytes it
  // added, 0 at end of stream. absl::ResourceExhaustedError, without reading, if max_buffered
  // bytes are already buffered. For parsers that look at buffered() themselves.
  [[nodiscard]] Task<absl::StatusOr<size_t>> Fill();

  // co_await Peek(n): waits until `n` bytes are buffered and returns the first `n`, without
  // consuming them.
  [[nodiscard]] Task<absl::StatusOr<absl::string_view>> Peek(size_t n);

  // co_await ReadUntil(delimiter): consumes and returns the bytes up to and including the first
  // occurrence of `delimiter` (not empty).
  [[nodiscard]] Task<absl::StatusOr<absl::string_view>> ReadUntil(absl::string_view delimiter);

  // co_await ReadLine(): consumes a line ending in "\n" and returns it without the "\n" or
  // "\r\n". The line, with its ending, counts against max_buffered.
  [[nodiscard]] Task<absl::StatusOr<absl::string_view>> ReadLine();

  // co_await ReadExact(out): fills all of `out`, of any size: what is buffered first, then reads
  // of at least read_size straight into `out`. If it fails, the bytes it had placed in `out` are
  // put back in the buffer (which may then hold more than max_buffered until they are consumed).
  [[nodiscard]] Task<absl::Status> ReadExact(absl::Span<char> out);

  // co_await Read(out): reads at most out.size() bytes: buffered ones if there are any, else one
  // read from the stream (straight into `out` when it is at least read_size). Returns how many, 0
  // at end of stream. So a BufferedReader is a ReadStream too (Copy reads from one).
  [[nodiscard]] Task<absl::StatusOr<size_t>> Read(absl::Span<char> out);

 private:
  absl::Status TooLong(const char* operation) const {
    return absl::ResourceExhaustedError(
        absl::StrCat("coral::BufferedReader::", operation, ": more than max_buffered (",
                     options_.max_buffered, " bytes) would have to be buffered"));
  }

  S* stream_;
  BufferedReaderOptions options_;
  internal::ReadBuffer buffer_;
};

template <ReadStream S>
Task<absl::StatusOr<size_t>> BufferedReader<S>::Fill() {
  const size_t held = buffer_.size();
  if (held >= options_.max_buffered) co_return TooLong("Fill");
  absl::Span<char> room =
      buffer_.Prepare(std::min(options_.read_size, options_.max_buffered - held));
  absl::StatusOr<size_t> n = co_await stream_->Read(room);
  buffer_.Commit(n.ok() ? *n : 0);
  co_return n;
}

template <ReadStream S>
Task<absl::StatusOr<absl::string_view>> BufferedReader<S>::Peek(size_t n) {
  if (n > options_.max_buffered) co_return TooLong("Peek");
  while (buffer_.size() < n) {
    absl::StatusOr<size_t> added = co_await Fill();
    if (!added.ok()) co_return added.status();
    if (*added == 0) {
      co_return absl::OutOfRangeError(absl::StrCat("coral::BufferedReader::Peek: end of stream ",
                                                   "after ", buffer_.size(), " of ", n, " bytes"));
    }
  }
  co_return buffer_.data().substr(0, n);
}

template <ReadStream S>
Task<absl::StatusOr<absl::string_view>> BufferedReader<S>::ReadUntil(absl::string_view delimiter) {
  CORAL_CHECK(!delimiter.empty(), "coral::BufferedReader::ReadUntil with an empty delimiter");
  size_t searched = 0;  // No occurrence starts before this offset.
  for (;;) {
    const absl::string_view data = buffer_.data();
    // Only the first max_buffered bytes: a failed ReadExact may have put back more.
    const size_t found = data.substr(0, options_.max_buffered).find(delimiter, searched);
    if (found != absl::string_view::npos) {
      const size_t length = found + delimiter.size();
      // A view of the consumed bytes: Consume moves nothing, so it stays valid.
      buffer_.Consume(length);
      co_return data.substr(0, length);
    }
    if (data.size() >= delimiter.size()) searched = data.size() - delimiter.size() + 1;
    if (data.size() >= options_.max_buffered) co_return TooLong("ReadUntil");
    absl::StatusOr<size_t> added = co_await Fill();
    if (!added.ok()) co_return added.status();
    if (*added == 0) {
      co_return absl::OutOfRangeError(
          absl::StrCat("coral::BufferedReader::ReadUntil: end of stream before the delimiter (",
                       buffer_.size(), " bytes buffered)"));
    }
  }
}

template <ReadStream S>
Task<absl::StatusOr<absl::string_view>> BufferedReader<S>::ReadLine() {
  absl::StatusOr<absl::string_view> line = co_await ReadUntil("\n");
  if (!line.ok()) co_return line;
  line->remove_suffix(1);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  co_return line;
}

template <ReadStream S>
Task<absl::Status> BufferedReader<S>::ReadExact(absl::Span<char> out) {
  size_t filled = 0;
  absl::Status status;
  // Nothing consumed unless it succeeds: the bytes already moved to `out` go back in front of the
  // buffer on a failure, and when the task is torn down at an await (the guard dies with the
  // frame).
  bool succeeded = false;
  absl::Cleanup put_back = [&] {
    if (!succeeded) buffer_.Unread(absl::string_view(out.data(), filled));
  };
  while (filled < out.size()) {
    if (buffer_.size() > 0) {
      const size_t n = std::min(buffer_.size(), out.size() - filled);
      std::memcpy(out.data() + filled, buffer_.data().data(), n);
      buffer_.Consume(n);
      filled += n;
      continue;
    }
    absl::StatusOr<size_t> n;
    if (out.size() - filled >= options_.read_size) {
      n = co_await stream_->Read(out.subspan(filled));
      if (n.ok()) filled += *n;
    } else {
      n = co_await Fill();
    }
    if (!n.ok()) {
      status = n.status();
      break;
    }
    if (*n == 0) {
      status = absl::OutOfRangeError(absl::StrCat("coral::BufferedReader::ReadExact: end of ",
                                                  "stream after ", filled + buffer_.size(), " of ",
                                                  out.size(), " bytes"));
      break;
    }
  }
  succeeded = status.ok();
  co_return status;
}

template <ReadStream S>
Task<absl::StatusOr<size_t>> BufferedReader<S>::Read(absl::Span<char> out) {
  if (out.empty()) co_return 0;
  if (buffer_.size() == 0) {
    if (out.size() >= options_.read_size) co_return co_await stream_->Read(out);
    absl::StatusOr<size_t> added = co_await Fill();
    if (!added.ok() || *added == 0) co_return added;
  }
  const size_t n = std::min(buffer_.size(), out.size());
  std::memcpy(out.data(), buffer_.data().data(), n);
  buffer_.Consume(n);
  co_return n;
}

}  // namespace coral

#endif  // CORAL_BUFFERED_READER_H_
