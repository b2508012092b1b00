// Copyright 2026 The coral Authors.
//
// System call failure injection (coral/internal/fault_injection.h): accept, read, write, connect
// and epoll_ctl fail with chosen errno values at chosen points. EINTR and EAGAIN (also right
// after readiness) must be retried without the caller noticing, and so must the descriptor
// exhaustion that Accept backs off from; every other failure must reach the caller as the
// absl::Status that tcp.h and stream_socket.h document. After each fault the runtime must keep
// serving: the test ends with a successful echo over loopback.

#include <cerrno>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/fault_injector.h"

namespace coral {
namespace {

using internal::Syscall;
using testing::SyscallFault;

// Echoes one connection until its end of stream.
Task<absl::Status> ServeOne(TcpListener* listener) {
  absl::StatusOr<TcpStream> stream = co_await listener->Accept();
  if (!stream.ok()) co_return stream.status();
  char buffer[64];
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return absl::OkStatus();
    const absl::Status written = co_await stream->WriteAll(absl::string_view(buffer, *n));
    if (!written.ok()) co_return written;
  }
}

// Connects, sends `message` and returns what comes back.
Task<absl::StatusOr<std::string>> Echo(SocketAddress address, std::string message) {
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(address);
  if (!stream.ok()) co_return stream.status();
  const absl::Status written = co_await stream->WriteAll(message);
  if (!written.ok()) co_return written;
  std::string echo(message.size(), '\0');
  const absl::Status read = co_await stream->ReadExact(absl::MakeSpan(echo));
  if (!read.ok()) co_return read;
  co_return echo;
}

// One full echo through `listener`.
Task<absl::Status> RoundTrip(TcpListener* listener) {
  JoinHandle<absl::Status> server = Spawn(&ServeOne, listener);
  absl::StatusOr<std::string> echo = co_await Echo(*listener->LocalAddress(), "ping");
  if (!echo.ok()) server.Abort();  // Its connection may never come: fail rather than hang.
  const absl::Status served = co_await std::move(server);
  if (!echo.ok()) co_return echo.status();
  if (*echo != "ping") co_return absl::DataLossError(*echo);
  co_return served;
}

TcpListener BindLoopback() {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
  CORAL_CHECK(listener.ok(), "binding a loopback listener");
  return *std::move(listener);
}

// A connected pair over `listener`: {client, server}.
Task<std::pair<TcpStream, TcpStream>> Connected(TcpListener* listener) {
  JoinHandle<absl::StatusOr<TcpStream>> accepted =
      Spawn([listener]() -> Task<absl::StatusOr<TcpStream>> { return listener->Accept(); });
  absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
  absl::StatusOr<TcpStream> server = co_await std::move(accepted);
  CORAL_CHECK(client.ok() && server.ok(), "connecting over loopback");
  co_return std::make_pair(*std::move(client), *std::move(server));
}

// Yields until `fault` has failed a call (bounded: the test fails instead of hanging).
Task<bool> UntilHit(const SyscallFault& fault) {
  for (int i = 0; i < 1'000'000 && fault.hits() == 0; ++i) co_await Yield();
  co_return fault.hits() > 0;
}

struct Retried {
  Syscall call;
  int error;
};

class RetriedTest : public ::testing::TestWithParam<Retried> {};

// The fault hits the first such call of a full echo, which must still succeed.
TEST_P(RetriedTest, EchoSucceeds) {
  Runtime runtime({.num_workers = 1});
  TcpListener listener = BindLoopback();
  const Retried fault_spec = GetParam();
  SyscallFault fault(fault_spec.call, fault_spec.error);
  const absl::Status echoed = runtime.BlockOn(RoundTrip(&listener));
  EXPECT_TRUE(echoed.ok()) << echoed;
  EXPECT_EQ(fault.hits(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    AllRetried, RetriedTest,
    ::testing::Values(Retried{Syscall::kAccept, EINTR}, Retried{Syscall::kAccept, EAGAIN},
                      Retried{Syscall::kAccept, ECONNABORTED}, Retried{Syscall::kAccept, EMFILE},
                      Retried{Syscall::kAccept, ENOMEM}, Retried{Syscall::kRead, EINTR},
                      Retried{Syscall::kWrite, EINTR}, Retried{Syscall::kConnect, EINTR}));

// EAGAIN from a read made because readiness was reported: the reader waits for the next event.
Task<absl::Status> ReadEagainAfterReadiness() {
  TcpListener listener = BindLoopback();
  std::pair<TcpStream, TcpStream> pair = co_await Connected(&listener);
  TcpStream& client = pair.first;
  TcpStream& server = pair.second;
  SyscallFault fault(Syscall::kRead, EAGAIN);  // The server's first recv, after readiness.
  std::string received(4, '\0');
  JoinHandle<absl::Status> reader = Spawn(
      [](TcpStream* stream, std::string* out) { return stream->ReadExact(absl::MakeSpan(*out)); },
      &server, &received);
  EXPECT_TRUE((co_await client.WriteAll("pi")).ok());
  EXPECT_TRUE(co_await UntilHit(fault));
  EXPECT_TRUE((co_await client.WriteAll("ng")).ok());  // A new event for the waiting reader.
  const absl::Status read = co_await std::move(reader);
  EXPECT_TRUE(read.ok()) << read;
  EXPECT_EQ(received, "ping");
  EXPECT_EQ(fault.hits(), 1);
  co_return co_await RoundTrip(&listener);
}

TEST(SyscallFaultTest, ReadEagainAfterReadinessWaitsForTheNextEvent) {
  Runtime runtime({.num_workers = 1});
  EXPECT_TRUE(runtime.BlockOn(ReadEagainAfterReadiness()).ok());
}

// EAGAIN from a write made because the socket was reported writable: the writer waits for the
// next event (here, data arriving from the peer, whose event reports writability too).
Task<absl::Status> WriteEagainAfterReadiness() {
  TcpListener listener = BindLoopback();
  std::pair<TcpStream, TcpStream> pair = co_await Connected(&listener);
  TcpStream& client = pair.first;
  TcpStream& server = pair.second;
  SyscallFault fault(Syscall::kWrite, EAGAIN);
  JoinHandle<absl::Status> writer =
      Spawn([](TcpStream* stream) { return stream->WriteAll("pong"); }, &server);
  EXPECT_TRUE(co_await UntilHit(fault));
  EXPECT_TRUE((co_await client.WriteAll("x")).ok());  // Its event wakes the writer.
  const absl::Status written = co_await std::move(writer);
  EXPECT_TRUE(written.ok()) << written;
  std::string received(4, '\0');
  EXPECT_TRUE((co_await client.ReadExact(absl::MakeSpan(received))).ok());
  EXPECT_EQ(received, "pong");
  EXPECT_EQ(fault.hits(), 1);
  co_return co_await RoundTrip(&listener);
}

TEST(SyscallFaultTest, WriteEagainAfterReadinessWaitsForTheNextEvent) {
  Runtime runtime({.num_workers = 1});
  EXPECT_TRUE(runtime.BlockOn(WriteEagainAfterReadiness()).ok());
}

struct Reported {
  Syscall call;
  int error;
  absl::StatusCode code;
  const char* operation;  // In the message.
};

class ReportedTest : public ::testing::TestWithParam<Reported> {};

// Accept (which also registers the connection it returns) with the fault installed, once a
// connection is queued: its accept4 and the new connection's epoll_ctl are the only such calls.
Task<absl::Status> FailAccept(TcpListener* listener, Reported spec) {
  absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
  EXPECT_TRUE(client.ok()) << client.status();
  absl::Status accepted;
  {
    SyscallFault fault(spec.call, spec.error);
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    accepted = stream.status();
    EXPECT_EQ(fault.hits(), 1);
  }
  if (spec.call == Syscall::kAccept) {
    // The connection is still queued: take it, so that the next echo gets its own.
    absl::StatusOr<TcpStream> queued = co_await listener->Accept();
    EXPECT_TRUE(queued.ok()) << queued.status();
  }
  co_return accepted;
}

Task<absl::Status> FailConnect(TcpListener* listener, Reported spec) {
  SyscallFault fault(spec.call, spec.error);
  absl::StatusOr<TcpStream> connected = co_await TcpStream::Connect(*listener->LocalAddress());
  EXPECT_EQ(fault.hits(), 1);
  co_return connected.status();
}

// A Read or a Write on an accepted connection (with data to read) with the fault installed.
Task<absl::Status> FailTransfer(TcpListener* listener, Reported spec) {
  std::pair<TcpStream, TcpStream> pair = co_await Connected(listener);
  TcpStream& server = pair.second;
  const absl::Status sent = co_await pair.first.WriteAll("x");
  EXPECT_TRUE(sent.ok()) << sent;
  SyscallFault fault(spec.call, spec.error);
  char buffer[8];
  absl::Status status;
  if (spec.call == Syscall::kRead) {
    absl::StatusOr<size_t> n = co_await server.Read(absl::MakeSpan(buffer));
    status = n.status();
  } else {
    absl::StatusOr<size_t> n = co_await server.Write("y");
    status = n.status();
  }
  EXPECT_EQ(fault.hits(), 1);
  co_return status;
}

// Runs the operation the fault is for once, with the fault installed; returns its status.
Task<absl::Status> FailOnce(TcpListener* listener, Reported spec) {
  if (spec.call == Syscall::kAccept || spec.call == Syscall::kEpollCtl) {
    co_return co_await FailAccept(listener, spec);
  }
  if (spec.call == Syscall::kConnect) co_return co_await FailConnect(listener, spec);
  co_return co_await FailTransfer(listener, spec);
}

TEST_P(ReportedTest, CallerGetsTheStatusAndTheRuntimeKeepsServing) {
  Runtime runtime({.num_workers = 1});
  TcpListener listener = BindLoopback();
  const Reported spec = GetParam();
  const absl::Status status = runtime.BlockOn(FailOnce(&listener, spec));
  EXPECT_EQ(status.code(), spec.code) << status;
  EXPECT_NE(status.message().find(spec.operation), absl::string_view::npos) << status;
  const absl::Status echoed = runtime.BlockOn(RoundTrip(&listener));
  EXPECT_TRUE(echoed.ok()) << echoed;
}

INSTANTIATE_TEST_SUITE_P(
    AllReported, ReportedTest,
    ::testing::Values(
        Reported{Syscall::kRead, ECONNRESET, absl::StatusCode::kUnavailable, "recv"},
        Reported{Syscall::kRead, ENOMEM, absl::StatusCode::kResourceExhausted, "recv"},
        Reported{Syscall::kWrite, EPIPE, absl::StatusCode::kFailedPrecondition, "send"},
        Reported{Syscall::kWrite, ECONNRESET, absl::StatusCode::kUnavailable, "send"},
        Reported{Syscall::kWrite, ENOMEM, absl::StatusCode::kResourceExhausted, "send"},
        Reported{Syscall::kConnect, ECONNRESET, absl::StatusCode::kUnavailable, "connect"},
        Reported{Syscall::kConnect, ENOMEM, absl::StatusCode::kResourceExhausted, "connect"},
        Reported{Syscall::kConnect, EAGAIN, absl::StatusCode::kUnavailable, "connect"},
        Reported{Syscall::kAccept, EPERM, absl::StatusCode::kPermissionDenied, "accept4"},
        Reported{Syscall::kEpollCtl, ENOMEM, absl::StatusCode::kResourceExhausted, "epoll_ctl"},
        Reported{Syscall::kEpollCtl, ENOSPC, absl::StatusCode::kResourceExhausted, "epoll_ctl"}));

// A socket whose first wait could not join the epoll set stays usable: the next wait retries.
Task<absl::Status> RegistrationFailureLeavesTheSocketUsable() {
  absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
  if (!pair.ok()) co_return pair.status();
  auto& [a, b] = *pair;
  char buffer[8];
  {
    SyscallFault fault(Syscall::kEpollCtl, ENOSPC);
    absl::StatusOr<size_t> n = co_await a.Read(absl::MakeSpan(buffer));  // Nothing to read: waits.
    EXPECT_TRUE(absl::IsResourceExhausted(n.status())) << n.status();
    EXPECT_EQ(fault.hits(), 1);
  }
  EXPECT_TRUE((co_await b.WriteAll("x")).ok());
  absl::StatusOr<size_t> n = co_await a.Read(absl::MakeSpan(buffer));
  if (!n.ok()) co_return n.status();
  EXPECT_EQ(absl::string_view(buffer, *n), "x");
  co_return absl::OkStatus();
}

TEST(SyscallFaultTest, RegistrationFailureLeavesTheSocketUsable) {
  Runtime runtime({.num_workers = 1});
  EXPECT_TRUE(runtime.BlockOn(RegistrationFailureLeavesTheSocketUsable()).ok());
  TcpListener listener = BindLoopback();
  EXPECT_TRUE(runtime.BlockOn(RoundTrip(&listener)).ok());
}

}  // namespace
}  // namespace coral
