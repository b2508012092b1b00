// Copyright 2026 The coral Authors.
//
// What coral means by a byte stream: the concepts coral::ReadStream, coral::WriteStream and
// coral::Stream, which the buffered reader and writer (buffered_reader.h, buffered_writer.h), the
// framing codecs (framing.h) and Copy (copy.h) are written against.
//
//   template <coral::ReadStream S>
//   coral::Task<absl::Status> Drain(S& stream);
//
// A ReadStream has `Read(absl::Span<char> buffer)`, whose result, once awaited, is an
// absl::StatusOr<size_t>: how many bytes it put at the front of `buffer` (at least one if
// `buffer` is not empty), 0 at end of stream, or an error. A WriteStream has
// `Write(absl::string_view data)`, whose awaited result is an absl::StatusOr<size_t>: how many
// bytes of the front of `data` it wrote (at least one), or an error. Either may return a Task or
// any other awaitable. coral::TcpStream, coral::UnixStream (any coral::StreamSocket) and
// coral::BufferedReader are streams; a TLS stream that offers the same two calls plugs in too.
//
// Both calls must follow coral's cancellation rule, which the types above build on: a Read that
// fails (with absl::CancelledError or anything else) consumed nothing from the stream, and a
// Write that fails wrote nothing of `data`. A stream that may also be half-closed offers
// `absl::Status ShutdownWrite()`; CopyBidirectional (copy.h) calls it when it exists.
//
// WriteAll(stream, data) writes all of `data` to a WriteStream.
//
// Cancellation: WriteAll returns the error of the Write that failed (absl::CancelledError when
// the task was cancelled); the bytes written before it are not taken back, as with
// StreamSocket::WriteAll.

#ifndef CORAL_STREAM_H_
#define CORAL_STREAM_H_

#include <concepts>
#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/task.h"

namespace coral {

namespace internal {
// The awaiter that `co_await awaitable` uses: its operator co_await's result, or itself.
template <typename A>
decltype(auto) GetAwaiter(A&& awaitable) {
  if constexpr (requires { std::forward<A>(awaitable).operator co_await(); }) {
    return std::forward<A>(awaitable).operator co_await();
  } else {
    return std::forward<A>(awaitable);
  }
}
// The type `co_await std::declval<A>()` yields.
template <typename A>
using AwaitResult = decltype(GetAwaiter(std::declval<A>()).await_resume());
}  // namespace internal

// An awaitable whose co_await yields exactly T.
template <typename A, typename T>
concept AwaitableOf = std::same_as<internal::AwaitResult<A>, T>;

template <typename S>
concept ReadStream = requires(S& stream, absl::Span<char> buffer) {
  { stream.Read(buffer) } -> AwaitableOf<absl::StatusOr<size_t>>;
};

template <typename S>
concept WriteStream = requires(S& stream, absl::string_view data) {
  { stream.Write(data) } -> AwaitableOf<absl::StatusOr<size_t>>;
};

template <typename S>
concept Stream = ReadStream<S> && WriteStream<S>;

// Writes all of `data` to `stream`; the stream must outlive the awaited task.
template <WriteStream S>
[[nodiscard]] Task<absl::Status> WriteAll(S& stream, absl::string_view data) {
  while (!data.empty()) {
    absl::StatusOr<size_t> n = co_await stream.Write(data);
    if (!n.ok()) co_return n.status();
    data.remove_prefix(*n);
  }
  co_return absl::OkStatus();
}

}  // namespace coral

#endif  // CORAL_STREAM_H_
