// Copyright 2026 The coral Authors.
//
// Unix-domain stream sockets: coral::UnixListener and coral::UnixStream.
//
//   absl::StatusOr<UnixListener> listener = UnixListener::Bind("/run/app.sock");
//   absl::StatusOr<UnixStream> client = co_await UnixStream::Connect("/run/app.sock");
//
// Bind does not remove an existing socket file: remove a stale one first. Stream operations are
// those of StreamSocket (stream_socket.h). Accept and Connect handle failures like
// TcpListener::Accept and TcpStream::Connect (tcp.h): Accept backs off on descriptor exhaustion.
//
// Cancellation: see stream_socket.h.

#ifndef CORAL_UNIX_SOCKET_H_
#define CORAL_UNIX_SOCKET_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "coral/async_fd.h"
#include "coral/socket_address.h"
#include "coral/stream_socket.h"
#include "coral/task.h"

namespace coral {

class UnixStream : public StreamSocket {
 public:
  UnixStream() = default;

  static Task<absl::StatusOr<UnixStream>> Connect(std::string path);
  // Two connected streams (socketpair).
  static absl::StatusOr<std::pair<UnixStream, UnixStream>> Pair();

 private:
  friend class UnixListener;
  explicit UnixStream(AsyncFd fd) : StreamSocket(std::move(fd)) {}
};

class UnixListener {
 public:
  UnixListener() = default;

  static absl::StatusOr<UnixListener> Bind(absl::string_view path, int backlog = 4096);

  Task<absl::StatusOr<UnixStream>> Accept();

  absl::StatusOr<SocketAddress> LocalAddress() const;
  int fd() const { return fd_.fd(); }
  void Close() { fd_.Close(); }

 private:
  explicit UnixListener(AsyncFd fd) : fd_(std::move(fd)) {}
  AsyncFd fd_;
};

}  // namespace coral

#endif  // CORAL_UNIX_SOCKET_H_
