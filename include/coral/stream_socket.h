// Copyright 2026 The coral Authors.
//
// coral::StreamSocket: the operations TCP and Unix-domain stream sockets share. Every operation
// returns absl::Status / absl::StatusOr (errno mapped to its canonical code, with the errno text in
// the message); none throws, and none raises SIGPIPE: a write to a reset peer returns an error.
//
//   std::array<char, 4096> buffer;
//   absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));   // 0: end of stream
//   absl::Status s = co_await stream.WriteAll(absl::string_view(buffer.data(), *n));
//
// Bytes to send are passed as absl::string_view (a std::string, a literal without its NUL, or
// absl::string_view(pointer, size)). One task may read while another writes (two children of a
// TaskGroup sharing the stream, for example). The awaitables must be awaited inside a coral task.
//
// Misuse: every operation on a closed or moved-from socket (this one, a listener, a UdpSocket)
// but valid(), fd() and Close() aborts with a message naming it, as does destroying or closing
// a socket while a task waits on it.
//
// Cancellation: when the task's token is cancelled (cancellation.h), an operation waiting for the
// socket returns absl::CancelledError; a read that returns it consumed nothing, and bytes already
// transferred by a partial WriteAll or ReadExact are not rolled back. A task aborted inside an
// operation is torn down at its wait.

#ifndef CORAL_STREAM_SOCKET_H_
#define CORAL_STREAM_SOCKET_H_

#include <sys/uio.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/async_fd.h"
#include "coral/socket_address.h"
#include "coral/task.h"

namespace coral {

namespace internal {
struct TlsSession;

// The system calls behind StreamSocket's reads and writes (and UdpSocket's connected ones), as
// IoAwaiter calls (async_fd.h). `kStream`: a stream socket, where a short transfer means the
// socket buffer was drained (or filled); false for a connected datagram socket. A template
// argument, and the fd the awaiter's, so that a pending Read holds only its buffer.
template <bool kStream>
struct RecvCall {
  absl::Span<char> buffer;
  ssize_t operator()(int fd) const;
  Interest interest() const { return Interest::kRead; }
  const char* name() const { return "recv"; }
  size_t stream_request() const { return kStream ? buffer.size() : 0; }
};
template <bool kStream>
struct SendCall {
  absl::string_view data;
  ssize_t operator()(int fd) const;
  Interest interest() const { return Interest::kWrite; }
  const char* name() const { return "send"; }
  size_t stream_request() const { return kStream ? data.size() : 0; }
};
struct SendMsgCall {
  absl::Span<const iovec> buffers;
  ssize_t operator()(int fd) const;
  Interest interest() const { return Interest::kWrite; }
  const char* name() const { return "sendmsg"; }
  size_t stream_request() const { return 0; }
};
}  // namespace internal

class StreamSocket {
 public:
  StreamSocket() = default;
  StreamSocket(StreamSocket&&) noexcept = default;
  StreamSocket& operator=(StreamSocket&&) noexcept = default;

  // co_await Read(buffer): absl::StatusOr<size_t>. Reads at most buffer.size() bytes; returns
  // how many, 0 at end of stream. Read, Write and WriteVectored return awaitables that keep their
  // state in the awaiting frame (no allocation while they wait); await each once.
  internal::IoAwaiter<internal::RecvCall<true>> Read(absl::Span<char> buffer);
  // Fills `buffer` completely; absl::OutOfRangeError if the stream ends first.
  Task<absl::Status> ReadExact(absl::Span<char> buffer);
  // co_await Write(data): absl::StatusOr<size_t>. Writes at most data.size() bytes (at least
  // one); returns how many.
  internal::IoAwaiter<internal::SendCall<true>> Write(absl::string_view data);
  // Writes all of `data`.
  Task<absl::Status> WriteAll(absl::string_view data);
  // co_await WriteVectored(buffers): absl::StatusOr<size_t>. Writes from several buffers in one
  // system call where possible; returns the bytes written.
  internal::IoAwaiter<internal::SendMsgCall> WriteVectored(absl::Span<const iovec> buffers);

  // Waits until a read would not block (data, end of stream, or an error), holding no buffer:
  // the pattern for many mostly-idle connections (see the README's "C100k" section).
  Task<absl::Status> WaitReadable();
  // Non-blocking: reads what is available now; 0 at end of stream; absl::UnavailableError if
  // nothing is available (then WaitReadable waits for more).
  absl::StatusOr<size_t> TryRead(absl::Span<char> buffer);
  // Non-blocking: writes what fits now (possibly 0 bytes).
  absl::StatusOr<size_t> TryWrite(absl::string_view data);

  // Shuts down the writing side: the peer reads end of stream; this side can still read.
  absl::Status ShutdownWrite();

  absl::StatusOr<SocketAddress> LocalAddress() const;
  absl::StatusOr<SocketAddress> PeerAddress() const;

  int fd() const { return fd_.fd(); }
  bool valid() const { return fd_.valid(); }
  void Close() { fd_.Close(); }

 protected:
  explicit StreamSocket(AsyncFd fd) : fd_(std::move(fd)) {}

  // TlsStream's OpenSSL BIO reads and writes fd_ and awaits its readiness (tls.h).
  friend struct internal::TlsSession;

  AsyncFd fd_;
};

}  // namespace coral

#endif  // CORAL_STREAM_SOCKET_H_
