// Copyright 2026 The coral Authors.
//
// Socket plumbing shared by TCP, Unix-domain and UDP sockets. Private to io/.

#ifndef CORAL_IO_SOCKET_UTIL_H_
#define CORAL_IO_SOCKET_UTIL_H_

#include "absl/status/statusor.h"
#include "coral/async_fd.h"
#include "coral/socket_address.h"
#include "coral/task.h"

namespace coral::internal {

// A non-blocking, close-on-exec socket wrapped in an AsyncFd.
absl::StatusOr<AsyncFd> NewSocket(int family, int type);
// socket + SO_REUSEADDR (+ SO_REUSEPORT) + IPV6_V6ONLY for IPv6 + bind + listen.
absl::StatusOr<AsyncFd> BindAndListen(const SocketAddress& address, int type, bool reuse_port,
                                      int backlog);
// socket + connect, waiting for the connection to complete.
Task<absl::StatusOr<AsyncFd>> ConnectSocket(SocketAddress address, int type);
// Accepts one connection, backing off while the process or system is out of descriptors.
Task<absl::StatusOr<AsyncFd>> AcceptWithBackoff(AsyncFd& listener);

// Aborts with a message naming `operation` (say "TcpStream::SetNoDelay") when `fd` is closed or
// moved from: the sockets' operations check this first.
void CheckOpen(const AsyncFd& fd, const char* operation);

absl::StatusOr<SocketAddress> LocalAddressOf(int fd);
absl::StatusOr<SocketAddress> PeerAddressOf(int fd);

}  // namespace coral::internal

#endif  // CORAL_IO_SOCKET_UTIL_H_
