// Copyright 2026 The coral Authors.
//
// TCP: coral::TcpListener and coral::TcpStream, IPv4 and IPv6.
//
//   absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(8080));
//   for (;;) {
//     absl::StatusOr<TcpStream> stream = co_await listener->Accept();
//     if (stream.ok()) coral::Spawn(Serve, *std::move(stream)).Detach();
//   }
//
//   absl::StatusOr<TcpStream> client =
//       co_await TcpStream::Connect("db.internal", 5432, absl::Seconds(5));
//
// Accept survives running out of file descriptors (EMFILE, ENFILE, ENOBUFS, ENOMEM): it backs off
// (1 ms, doubling up to 100 ms) and retries, so the listener neither fails nor spins, and accepts
// again as soon as descriptors are free. It retries EINTR and ECONNABORTED (a peer that gave up
// while queued) at once, and waits again on EAGAIN. Any other accept4 error is returned as its
// absl::Status, and so is a failure to add the new connection to the epoll set (the connection
// is then closed); the listener stays usable either way. Connect repeats a connect interrupted
// by a signal (EINTR) and returns every other failure as its absl::Status (errno mapped to its
// canonical code).
//
// An accepted connection's readiness is watched by the reactor of the worker that accepted it,
// wherever its task runs, so one accept loop's connections share one ready list, which every idle
// worker helps to drain; to spread connections over reactors, run one accept loop per worker on
// listeners bound with reuse_port.
//
// Cancellation: see stream_socket.h; an aborted Accept or Connect closes whatever it had opened.

#ifndef CORAL_TCP_H_
#define CORAL_TCP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "coral/async_fd.h"
#include "coral/socket_address.h"
#include "coral/stream_socket.h"
#include "coral/task.h"

namespace coral {

class TcpStream : public StreamSocket {
 public:
  TcpStream() = default;

  // Connects to `address`; fails with absl::DeadlineExceededError after `timeout`.
  static Task<absl::StatusOr<TcpStream>> Connect(SocketAddress address,
                                                 absl::Duration timeout = absl::InfiniteDuration());
  // Connects to the first of `candidates` that accepts, trying them one at a time in order; each
  // attempt may take an equal share of what is left of `timeout` (with two addresses and 1 s, the
  // first gets 500 ms). Fails with absl::InvalidArgumentError for an empty list, at once with a
  // cancellation (the task's, or the runtime's shutdown), and otherwise with the last attempt's
  // error code and a message naming how many addresses failed and the last one's error.
  static Task<absl::StatusOr<TcpStream>> Connect(std::vector<SocketAddress> candidates,
                                                 absl::Duration timeout = absl::InfiniteDuration());
  // Resolves `host` (coral::Resolve, on the blocking pool; a numeric address needs no lookup)
  // and connects to its addresses as above. `timeout` covers the lookup and every attempt; the
  // lookup's own errors (absl::NotFoundError for an unknown host) are returned as they are.
  static Task<absl::StatusOr<TcpStream>> Connect(std::string host, uint16_t port,
                                                 absl::Duration timeout = absl::InfiniteDuration());

  // TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
  absl::Status SetNoDelay(bool enabled);

 private:
  friend class TcpListener;
  explicit TcpStream(AsyncFd fd) : StreamSocket(std::move(fd)) {}
};

struct TcpListenOptions {
  // SO_REUSEPORT: several listeners (processes or threads) share the port.
  bool reuse_port = false;
  int backlog = 4096;
};

class TcpListener {
 public:
  TcpListener() = default;

  // Binds (with SO_REUSEADDR) and listens. An IPv6 listener accepts IPv6 only.
  static absl::StatusOr<TcpListener> Bind(const SocketAddress& address,
                                          TcpListenOptions options = {});

  // Waits for the next connection.
  Task<absl::StatusOr<TcpStream>> Accept();

  absl::StatusOr<SocketAddress> LocalAddress() const;
  int fd() const { return fd_.fd(); }
  void Close() { fd_.Close(); }

 private:
  explicit TcpListener(AsyncFd fd) : fd_(std::move(fd)) {}
  AsyncFd fd_;
};

}  // namespace coral

#endif  // CORAL_TCP_H_
