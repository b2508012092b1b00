// Copyright 2026 The coral Authors.

#include "coral/stream_socket.h"

#include <sys/socket.h>

#include <cerrno>

#include "coral/internal/fault_injection.h"
#include "io/socket_util.h"

namespace coral {

namespace internal {

template <bool kStream>
ssize_t RecvCall<kStream>::operator()(int fd) const {
  if (InjectSyscallFault(Syscall::kRead)) return -1;
  return recv(fd, buffer.data(), buffer.size(), 0);
}
template <bool kStream>
ssize_t SendCall<kStream>::operator()(int fd) const {
  if (InjectSyscallFault(Syscall::kWrite)) return -1;
  return send(fd, data.data(), data.size(), MSG_NOSIGNAL);
}
template struct RecvCall<true>;
template struct RecvCall<false>;
template struct SendCall<true>;
template struct SendCall<false>;

ssize_t SendMsgCall::operator()(int fd) const {
  if (InjectSyscallFault(Syscall::kWrite)) return -1;
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(buffers.data());
  message.msg_iovlen = buffers.size();
  return sendmsg(fd, &message, MSG_NOSIGNAL);
}

}  // namespace internal

internal::IoAwaiter<internal::RecvCall<true>> StreamSocket::Read(absl::Span<char> buffer) {
  internal::CheckOpen(fd_, "StreamSocket::Read");
  return {&fd_, internal::RecvCall<true>{buffer}};
}

Task<absl::Status> StreamSocket::ReadExact(absl::Span<char> buffer) {
  while (!buffer.empty()) {
    absl::StatusOr<size_t> n = co_await Read(buffer);
    if (!n.ok()) co_return n.status();
    if (*n == 0)
      co_return absl::OutOfRangeError("ReadExact: end of stream before the buffer filled");
    buffer.remove_prefix(*n);
  }
  co_return absl::OkStatus();
}

internal::IoAwaiter<internal::SendCall<true>> StreamSocket::Write(absl::string_view data) {
  internal::CheckOpen(fd_, "StreamSocket::Write");
  return {&fd_, internal::SendCall<true>{data}};
}

Task<absl::Status> StreamSocket::WriteAll(absl::string_view data) {
  while (!data.empty()) {
    absl::StatusOr<size_t> n = co_await Write(data);
    if (!n.ok()) co_return n.status();
    data.remove_prefix(*n);
  }
  co_return absl::OkStatus();
}

internal::IoAwaiter<internal::SendMsgCall> StreamSocket::WriteVectored(
    absl::Span<const iovec> buffers) {
  internal::CheckOpen(fd_, "StreamSocket::WriteVectored");
  return {&fd_, internal::SendMsgCall{buffers}};
}

Task<absl::Status> StreamSocket::WaitReadable() {
  internal::CheckOpen(fd_, "StreamSocket::WaitReadable");
  absl::StatusOr<Readiness> ready = co_await fd_.Readable();
  co_return ready.status();
}

absl::StatusOr<size_t> StreamSocket::TryRead(absl::Span<char> buffer) {
  internal::CheckOpen(fd_, "StreamSocket::TryRead");
  for (;;) {
    const Readiness seen = fd_.CurrentReadiness();
    const ssize_t n = internal::InjectSyscallFault(internal::Syscall::kRead)
                          ? -1
                          : recv(fd_.fd(), buffer.data(), buffer.size(), 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      fd_.ClearReady(seen, Interest::kRead);
      return absl::UnavailableError("TryRead: no data available");
    }
    return internal::ErrnoStatus(errno, "recv");
  }
}

absl::StatusOr<size_t> StreamSocket::TryWrite(absl::string_view data) {
  internal::CheckOpen(fd_, "StreamSocket::TryWrite");
  for (;;) {
    const Readiness seen = fd_.CurrentReadiness();
    const ssize_t n = internal::InjectSyscallFault(internal::Syscall::kWrite)
                          ? -1
                          : send(fd_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      fd_.ClearReady(seen, Interest::kWrite);
      return 0;
    }
    return internal::ErrnoStatus(errno, "send");
  }
}

absl::Status StreamSocket::ShutdownWrite() {
  internal::CheckOpen(fd_, "StreamSocket::ShutdownWrite");
  if (shutdown(fd_.fd(), SHUT_WR) != 0) return internal::ErrnoStatus(errno, "shutdown");
  return absl::OkStatus();
}

absl::StatusOr<SocketAddress> StreamSocket::LocalAddress() const {
  internal::CheckOpen(fd_, "StreamSocket::LocalAddress");
  return internal::LocalAddressOf(fd_.fd());
}

absl::StatusOr<SocketAddress> StreamSocket::PeerAddress() const {
  internal::CheckOpen(fd_, "StreamSocket::PeerAddress");
  return internal::PeerAddressOf(fd_.fd());
}

}  // namespace coral
