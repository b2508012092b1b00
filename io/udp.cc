// Copyright 2026 The coral Authors.

#include "coral/udp.h"

#include <sys/socket.h>

#include <cerrno>

#include "coral/stream_socket.h"
#include "io/socket_util.h"

namespace coral {

absl::StatusOr<UdpSocket> UdpSocket::Bind(const SocketAddress& address) {
  absl::StatusOr<AsyncFd> fd =
      internal::BindAndListen(address, SOCK_DGRAM, /*reuse_port=*/false, /*backlog=*/0);
  if (!fd.ok()) return fd.status();
  return UdpSocket(*std::move(fd));
}

Task<absl::StatusOr<size_t>> UdpSocket::SendTo(absl::string_view data, SocketAddress to) {
  internal::CheckOpen(fd_, "UdpSocket::SendTo");
  const int fd = fd_.fd();
  co_return co_await fd_.Io(
      Interest::kWrite,
      [fd, data, to] {
        return sendto(fd, data.data(), data.size(), MSG_NOSIGNAL, to.sockaddr_ptr(), to.length());
      },
      "sendto");
}

Task<absl::StatusOr<UdpSocket::Datagram>> UdpSocket::RecvFrom(absl::Span<char> buffer) {
  internal::CheckOpen(fd_, "UdpSocket::RecvFrom");
  const int fd = fd_.fd();
  Datagram datagram;
  absl::StatusOr<size_t> n = co_await fd_.Io(
      Interest::kRead,
      [&] {
        socklen_t length = SocketAddress::capacity();
        // MSG_TRUNC: returns the datagram's real length, so truncation can be reported.
        const ssize_t r = recvfrom(fd, buffer.data(), buffer.size(), MSG_TRUNC,
                                   datagram.from.mutable_sockaddr_ptr(), &length);
        datagram.from.set_length(length);
        return r;
      },
      "recvfrom");
  if (!n.ok()) co_return n.status();
  datagram.truncated = *n > buffer.size();
  datagram.size = datagram.truncated ? buffer.size() : *n;
  co_return datagram;
}

absl::Status UdpSocket::Connect(const SocketAddress& peer) {
  internal::CheckOpen(fd_, "UdpSocket::Connect");
  if (connect(fd_.fd(), peer.sockaddr_ptr(), peer.length()) != 0) {
    return internal::ErrnoStatus(errno, "connect");
  }
  return absl::OkStatus();
}

Task<absl::StatusOr<size_t>> UdpSocket::Send(absl::string_view data) {
  internal::CheckOpen(fd_, "UdpSocket::Send");
  co_return co_await internal::IoAwaiter<internal::SendCall<false>>(
      &fd_, internal::SendCall<false>{data});
}

Task<absl::StatusOr<size_t>> UdpSocket::Recv(absl::Span<char> buffer) {
  internal::CheckOpen(fd_, "UdpSocket::Recv");
  co_return co_await internal::IoAwaiter<internal::RecvCall<false>>(
      &fd_, internal::RecvCall<false>{buffer});
}

absl::StatusOr<SocketAddress> UdpSocket::LocalAddress() const {
  internal::CheckOpen(fd_, "UdpSocket::LocalAddress");
  return internal::LocalAddressOf(fd_.fd());
}

}  // namespace coral
