// Copyright 2026 The coral Authors.
//
// coral::UdpSocket: datagrams over IPv4 or IPv6.
//
//   absl::StatusOr<UdpSocket> socket = UdpSocket::Bind(SocketAddress::Loopback(0));
//   co_await socket->SendTo(payload, peer);
//   absl::StatusOr<UdpSocket::Datagram> d = co_await socket->RecvFrom(absl::MakeSpan(buffer));
//
// A datagram longer than the buffer is truncated (the rest is discarded, as recvfrom does);
// Datagram::truncated says so. Send never raises SIGPIPE. Several tasks may send and receive on
// one socket at once; each receive gets a whole datagram.
//
// Cancellation: a wait to send or receive returns absl::CancelledError when the task's token is
// cancelled, and a task aborted while waiting is torn down at its wait; either way no datagram
// is consumed by a wait that did not complete.

#ifndef CORAL_UDP_H_
#define CORAL_UDP_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/async_fd.h"
#include "coral/socket_address.h"
#include "coral/task.h"

namespace coral {

class UdpSocket {
 public:
  struct Datagram {
    size_t size = 0;         // Bytes stored in the buffer.
    bool truncated = false;  // The datagram was longer than the buffer.
    SocketAddress from;
  };

  UdpSocket() = default;

  // A socket bound to `address` (port 0: any free port).
  static absl::StatusOr<UdpSocket> Bind(const SocketAddress& address);

  Task<absl::StatusOr<size_t>> SendTo(absl::string_view data, SocketAddress to);
  Task<absl::StatusOr<Datagram>> RecvFrom(absl::Span<char> buffer);

  // Sets the default peer: Send and Recv then talk to it only (datagrams from others are dropped
  // by the kernel).
  absl::Status Connect(const SocketAddress& peer);
  Task<absl::StatusOr<size_t>> Send(absl::string_view data);
  Task<absl::StatusOr<size_t>> Recv(absl::Span<char> buffer);

  absl::StatusOr<SocketAddress> LocalAddress() const;
  int fd() const { return fd_.fd(); }
  void Close() { fd_.Close(); }

 private:
  explicit UdpSocket(AsyncFd fd) : fd_(std::move(fd)) {}
  AsyncFd fd_;
};

}  // namespace coral

#endif  // CORAL_UDP_H_
