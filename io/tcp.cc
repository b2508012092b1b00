// Copyright 2026 The coral Authors.

#include "coral/tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coral/clock.h"
#include "coral/resolve.h"
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
    fd = co_await Timeout(timeout, internal::ConnectSocket(address, SOCK_STREAM));
  }
  if (!fd.ok()) co_return fd.status();
  co_return TcpStream(*std::move(fd));
}

Task<absl::StatusOr<TcpStream>> TcpStream::Connect(std::vector<SocketAddress> candidates,
                                                   absl::Duration timeout) {
  if (candidates.empty()) {
    co_return absl::InvalidArgumentError("TcpStream::Connect: no address to connect to");
  }
  const Instant deadline = Now() + timeout;  // Infinite stays infinite.
  size_t tried = 0;
  absl::Status last;
  while (tried < candidates.size()) {
    const absl::Duration left = deadline - Now();
    if (left <= absl::ZeroDuration()) break;
    const SocketAddress& address = candidates[tried];
    const int64_t untried = static_cast<int64_t>(candidates.size() - tried);
    ++tried;
    absl::StatusOr<TcpStream> stream = co_await Connect(address, left / untried);
    if (stream.ok() || absl::IsCancelled(stream.status())) co_return stream;
    last = absl::Status(stream.status().code(),
                        absl::StrCat(address.ToString(), ": ", stream.status().message()));
  }
  if (tried == 0) {
    co_return absl::DeadlineExceededError("TcpStream::Connect: timed out before any attempt");
  }
  co_return absl::Status(
      last.code(), absl::StrCat("TcpStream::Connect: tried ", tried, " of ", candidates.size(),
                                " addresses; the last, ", last.message()));
}

Task<absl::StatusOr<TcpStream>> TcpStream::Connect(std::string host, uint16_t port,
                                                   absl::Duration timeout) {
  const Instant deadline = Now() + timeout;
  absl::StatusOr<std::vector<SocketAddress>> addresses;
  if (timeout == absl::InfiniteDuration()) {
    addresses = co_await Resolve(std::move(host), port);
  } else {
    addresses = co_await Timeout(timeout, Resolve(std::move(host), port));
  }
  if (!addresses.ok()) co_return addresses.status();
  co_return co_await Connect(*std::move(addresses), deadline - Now());
}

absl::Status TcpStream::SetNoDelay(bool enabled) {
  internal::CheckOpen(fd_, "TcpStream::SetNoDelay");
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
  internal::CheckOpen(fd_, "TcpListener::Accept");
  absl::StatusOr<AsyncFd> fd = co_await internal::AcceptWithBackoff(fd_);
  if (!fd.ok()) co_return fd.status();
  co_return TcpStream(*std::move(fd));
}

absl::StatusOr<SocketAddress> TcpListener::LocalAddress() const {
  internal::CheckOpen(fd_, "TcpListener::LocalAddress");
  return internal::LocalAddressOf(fd_.fd());
}

}  // namespace coral
