// Copyright 2026 The coral Authors.

#include "coral/unix_socket.h"

#include <sys/socket.h>

#include <cerrno>

#include "io/socket_util.h"

namespace coral {

Task<absl::StatusOr<UnixStream>> UnixStream::Connect(std::string path) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Unix(path);
  if (!address.ok()) co_return address.status();
  absl::StatusOr<AsyncFd> fd = co_await internal::ConnectSocket(*address, SOCK_STREAM);
  if (!fd.ok()) co_return fd.status();
  co_return UnixStream(*std::move(fd));
}

absl::StatusOr<std::pair<UnixStream, UnixStream>> UnixStream::Pair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return internal::ErrnoStatus(errno, "socketpair");
  }
  absl::StatusOr<AsyncFd> first = AsyncFd::Create(fds[0]);
  absl::StatusOr<AsyncFd> second = AsyncFd::Create(fds[1]);
  if (!first.ok()) return first.status();
  if (!second.ok()) return second.status();
  return std::make_pair(UnixStream(*std::move(first)), UnixStream(*std::move(second)));
}

absl::StatusOr<UnixListener> UnixListener::Bind(absl::string_view path, int backlog) {
  absl::StatusOr<SocketAddress> address = SocketAddress::Unix(path);
  if (!address.ok()) return address.status();
  absl::StatusOr<AsyncFd> fd =
      internal::BindAndListen(*address, SOCK_STREAM, /*reuse_port=*/false, backlog);
  if (!fd.ok()) return fd.status();
  return UnixListener(*std::move(fd));
}

Task<absl::StatusOr<UnixStream>> UnixListener::Accept() {
  internal::CheckOpen(fd_, "UnixListener::Accept");
  absl::StatusOr<AsyncFd> fd = co_await internal::AcceptWithBackoff(fd_);
  if (!fd.ok()) co_return fd.status();
  co_return UnixStream(*std::move(fd));
}

absl::StatusOr<SocketAddress> UnixListener::LocalAddress() const {
  internal::CheckOpen(fd_, "UnixListener::LocalAddress");
  return internal::LocalAddressOf(fd_.fd());
}

}  // namespace coral
