// Copyright 2026 The coral Authors.

#include "io/socket_util.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/internal/check.h"
#include "coral/internal/fault_injection.h"
#include "coral/sleep.h"

namespace coral::internal {

absl::StatusOr<AsyncFd> NewSocket(int family, int type) {
  const int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket");
  return AsyncFd::Create(fd);
}

absl::StatusOr<AsyncFd> BindAndListen(const SocketAddress& address, int type, bool reuse_port,
                                      int backlog) {
  absl::StatusOr<AsyncFd> fd = NewSocket(address.family(), type);
  if (!fd.ok()) return fd.status();
  const int one = 1;
  if (address.family() != AF_UNIX &&
      setsockopt(fd->fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_REUSEADDR)");
  }
  if (reuse_port && setsockopt(fd->fd(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_REUSEPORT)");
  }
  if (address.family() == AF_INET6 &&
      setsockopt(fd->fd(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return ErrnoStatus(errno, "setsockopt(IPV6_V6ONLY)");
  }
  if (bind(fd->fd(), address.sockaddr_ptr(), address.length()) != 0) {
    return ErrnoStatus(errno, "bind");
  }
  if (type == SOCK_STREAM && listen(fd->fd(), backlog) != 0) return ErrnoStatus(errno, "listen");
  return fd;
}

Task<absl::StatusOr<AsyncFd>> ConnectSocket(SocketAddress address, int type) {
  absl::StatusOr<AsyncFd> fd = NewSocket(address.family(), type);
  if (!fd.ok()) co_return fd.status();
  // A connect interrupted by a signal goes on in the background: repeating it reports EALREADY
  // while the connection is in progress, and EISCONN once it is established.
  for (;;) {
    const bool failed = InjectSyscallFault(Syscall::kConnect) ||
                        connect(fd->fd(), address.sockaddr_ptr(), address.length()) != 0;
    if (!failed || errno == EISCONN) co_return fd;
    if (errno == EINPROGRESS || errno == EALREADY) break;
    if (errno != EINTR) co_return ErrnoStatus(errno, "connect");
  }
  absl::StatusOr<Readiness> ready = co_await fd->Writable();
  if (!ready.ok()) co_return ready.status();
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd->fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error != 0) co_return ErrnoStatus(error, "connect");
  co_return fd;
}

Task<absl::StatusOr<AsyncFd>> AcceptWithBackoff(AsyncFd& listener) {
  constexpr absl::Duration kFirstBackoff = absl::Milliseconds(1);
  constexpr absl::Duration kMaxBackoff = absl::Milliseconds(100);
  absl::Duration backoff = kFirstBackoff;
  std::optional<Readiness> last_ready;
  for (;;) {
    const int fd = InjectSyscallFault(Syscall::kAccept)
                       ? -1
                       : accept4(listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      absl::StatusOr<AsyncFd> accepted = AsyncFd::Create(fd);
      if (!accepted.ok()) co_return accepted.status();
      // On the accepting worker's reactor: an accept loop's connections share one ready list.
      if (absl::Status registered = accepted->RegisterOnThisWorker(); !registered.ok()) {
        co_return registered;
      }
      co_return accepted;
    }
    const int error = errno;
    switch (error) {
      case EINTR:
      case ECONNABORTED:  // The peer gave up while queued: take the next one.
        continue;
      case EAGAIN: {
        if (last_ready.has_value()) listener.ClearReady(*last_ready, Interest::kRead);
        absl::StatusOr<Readiness> ready = co_await listener.Readable();
        if (!ready.ok()) co_return ready.status();
        last_ready = *ready;
        continue;
      }
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // The pending connection stays queued and the listener stays readable, so waiting for
        // readiness would spin: sleep, then retry.
        if (absl::Status slept = co_await SleepFor(backoff); !slept.ok()) co_return slept;
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      default:
        co_return ErrnoStatus(error, "accept4");
    }
  }
}

namespace {

absl::StatusOr<SocketAddress> AddressOf(int fd, int (*get)(int, sockaddr*, socklen_t*),
                                        const char* operation) {
  SocketAddress address;
  socklen_t length = SocketAddress::capacity();
  if (get(fd, address.mutable_sockaddr_ptr(), &length) != 0) return ErrnoStatus(errno, operation);
  address.set_length(length);
  return address;
}

}  // namespace

void CheckOpen(const AsyncFd& fd, const char* operation) {
  if (fd.valid()) [[likely]]
    return;
  const std::string message = absl::StrCat(operation, " on a closed or moved-from coral socket");
  FatalMisuse(message.c_str(), __FILE__, __LINE__);
}

absl::StatusOr<SocketAddress> LocalAddressOf(int fd) {
  return AddressOf(fd, getsockname, "getsockname");
}

absl::StatusOr<SocketAddress> PeerAddressOf(int fd) {
  return AddressOf(fd, getpeername, "getpeername");
}

}  // namespace coral::internal
