// Copyright 2026 The coral Authors.

#include "coral/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include "coral/sleep.h"
#include "io/socket_util.h"

namespace coral {

Task<absl::StatusOr<TcpStream>> TcpStream::Connect(SocketAddress address, absl::Duration timeout) {
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    co_return absl::InvalidArgumentError("TcpStream::Connect: not an IP address");
  }
  absl::StatusOr<AsyncFd> fd;
  if (timeout == absl::InfiniteDuration()) {
    fd = co_await internal::ConnectSocket(address, SOCK_STREAM);
  } else {
    absl::StatusOr<absl::StatusOr<AsyncFd>> timed =
        co_await Timeout(timeout, internal::ConnectSocket(address, SOCK_STREAM));
    fd = timed.ok() ? *std::move(timed) : timed.status();
  }
  if (!fd.ok()) co_return fd.status();
  co_return TcpStream(*std::move(fd));
}

absl::Status TcpStream::SetNoDelay(bool enabled) {
  const int value = enabled ? 1 : 0;
  if (setsockopt(fd_.fd(), IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value)) != 0) {
    return internal::ErrnoStatus(errno, "setsockopt(TCP_NODELAY)");
  }
  return absl::OkStatus();
}

absl::StatusOr<TcpListener> TcpListener::Bind(const SocketAddress& address,
                                              TcpListenOptions options) {
  if (address.family() != AF_INET && address.family() != AF_INET6) {
    return absl::InvalidArgumentError("TcpListener::Bind: not an IP address");
  }
  absl::StatusOr<AsyncFd> fd =
      internal::BindAndListen(address, SOCK_STREAM, options.reuse_port, options.backlog);
  if (!fd.ok()) return fd.status();
  return TcpListener(*std::move(fd));
}

Task<absl::StatusOr<TcpStream>> TcpListener::Accept() {
  absl::StatusOr<AsyncFd> fd = co_await internal::AcceptWithBackoff(fd_);
  if (!fd.ok()) co_return fd.status();
  co_return TcpStream(*std::move(fd));
}

absl::StatusOr<SocketAddress> TcpListener::LocalAddress() const {
  return internal::LocalAddressOf(fd_.fd());
}

}  // namespace coral
