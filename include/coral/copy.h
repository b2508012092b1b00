// Copyright 2026 The coral Authors.
//
// coral::Copy and coral::CopyBidirectional: move bytes from one stream (stream.h) to another until
// the end of stream, the body of a proxy.
//
//   // A TCP proxy: each direction until its end, half-closing the other side after it.
//   absl::StatusOr<coral::CopyCounts> counts = co_await coral::CopyBidirectional(client, backend);
//
// Copy(from, to) reads `from` until its end and writes every byte to `to`; it returns the number
// of bytes copied. `from` may be a BufferedReader (its buffered bytes come first), `to` a
// BufferedWriter (then flushed at the end of stream). CopyBidirectional(a, b) runs Copy(a, b) and
// Copy(b, a) at once, as two children of a TaskGroup, and after each direction's end of stream
// half-closes the side it wrote to (ShutdownWrite(), if the stream type has it), so that each
// peer sees the other's end of stream. It returns when both directions have ended.
//
// Ownership: the streams are borrowed, and must outlive the awaited task. Copy reads through a
// buffer of its own, `buffer_size` bytes on the heap (at least 1: a buffer_size of 0 aborts with a
// message, as a read into it would look like the end of stream).
//
// Errors: the first error of a read or a write ends Copy with that error (with a BufferedWriter,
// bytes of that writer may still be buffered, see buffered_writer.h). When that error is the
// read's (a cancellation, a deadline, a reset source), the writer's own last Write succeeded, so
// its destructor counts those bytes as unreported and aborts: Flush or Discard() it first. In
// CopyBidirectional the first direction to fail cancels the other, and that first error is
// returned.
//
// Cancellation: the reads and writes observe the task's token (for CopyBidirectional, the group's,
// a child of it) and return absl::CancelledError; bytes already read from `from` but not yet
// written to `to` are then lost, so a cancelled Copy ends the copy: it is not resumable.

#ifndef CORAL_COPY_H_
#define CORAL_COPY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/internal/check.h"
#include "coral/stream.h"
#include "coral/task.h"
#include "coral/task_group.h"

namespace coral {

namespace internal {
// A destination Copy accepts: a WriteStream, or a writer whose Write accepts all of its data and
// returns an absl::Status (a BufferedWriter).
template <typename W>
concept CopyDestination = WriteStream<W> || requires(W& writer, absl::string_view data) {
  { writer.Write(data) } -> AwaitableOf<absl::Status>;
};

template <CopyDestination W>
Task<absl::Status> WriteAllTo(W& to, absl::string_view data) {
  if constexpr (WriteStream<W>) {
    co_return co_await WriteAll(to, data);
  } else {
    co_return co_await to.Write(data);
  }
}
}  // namespace internal

// co_await Copy(from, to): absl::StatusOr<uint64_t>, the bytes copied.
template <ReadStream R, internal::CopyDestination W>
[[nodiscard]] Task<absl::StatusOr<uint64_t>> Copy(R& from, W& to, size_t buffer_size = 16 * 1024) {
  CORAL_CHECK(buffer_size > 0, "coral::Copy with a buffer_size of 0");
  std::unique_ptr<char[]> buffer(new char[buffer_size]);
  uint64_t copied = 0;
  for (;;) {
    absl::StatusOr<size_t> n = co_await from.Read(absl::Span<char>(buffer.get(), buffer_size));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    absl::Status written = co_await internal::WriteAllTo(to, absl::string_view(buffer.get(), *n));
    if (!written.ok()) co_return written;
    copied += *n;
  }
  if constexpr (requires { to.Flush(); }) {
    absl::Status flushed = co_await to.Flush();
    if (!flushed.ok()) co_return flushed;
  }
  co_return copied;
}

// The bytes each direction of CopyBidirectional(a, b) copied.
struct CopyCounts {
  uint64_t a_to_b = 0;
  uint64_t b_to_a = 0;
};

namespace internal {
// One direction of CopyBidirectional: Copy, then half-close the destination.
template <Stream From, Stream To>
Task<absl::Status> CopyAndShutDown(From& from, To& to, size_t buffer_size, uint64_t* copied) {
  absl::StatusOr<uint64_t> n = co_await Copy(from, to, buffer_size);
  if (!n.ok()) co_return n.status();
  *copied = *n;
  if constexpr (requires { to.ShutdownWrite(); }) co_return to.ShutdownWrite();
  co_return absl::OkStatus();
}
}  // namespace internal

// co_await CopyBidirectional(a, b): absl::StatusOr<CopyCounts>.
template <Stream A, Stream B>
[[nodiscard]] Task<absl::StatusOr<CopyCounts>> CopyBidirectional(A& a, B& b,
                                                                 size_t buffer_size = 16 * 1024) {
  CopyCounts counts;
  TaskGroup directions;
  directions.Spawn(&internal::CopyAndShutDown<A, B>, std::ref(a), std::ref(b), buffer_size,
                   &counts.a_to_b);
  directions.Spawn(&internal::CopyAndShutDown<B, A>, std::ref(b), std::ref(a), buffer_size,
                   &counts.b_to_a);
  absl::Status status = co_await directions.Join();
  if (!status.ok()) co_return status;
  co_return counts;
}

}  // namespace coral

#endif  // CORAL_COPY_H_
