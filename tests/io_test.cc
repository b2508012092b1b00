// Copyright 2026 The coral Authors.
//
// Sockets and AsyncFd over loopback: TCP (IPv4, IPv6), vectored writes, SO_REUSEPORT, half-close,
// resets without SIGPIPE, refused and timed-out connects, connects to several candidates and by
// host name, Unix-domain streams, UDP, pipes, fd-number reuse, SpawnBlocking and Resolve, and
// shutdown with tasks waiting on I/O.

#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "coral/async_fd.h"
#include "coral/clock.h"
#include "coral/join_handle.h"
#include "coral/resolve.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/spawn_blocking.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "coral/udp.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace coral {
namespace {

using ::coral::testing::Eventually;

class IoTest : public ::testing::Test {
 protected:
  Runtime runtime_{{.num_workers = 2}};
};

// Accepts one connection and echoes until end of stream; returns the bytes echoed.
Task<absl::StatusOr<size_t>> EchoOnce(TcpListener* listener) {
  absl::StatusOr<TcpStream> stream = co_await listener->Accept();
  if (!stream.ok()) co_return stream.status();
  std::array<char, 1024> buffer;
  size_t total = 0;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream->Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return total;
    total += *n;
    absl::Status written = co_await stream->WriteAll(absl::string_view(buffer.data(), *n));
    if (!written.ok()) co_return written;
  }
}

Task<absl::Status> EchoRoundTrips(SocketAddress address, int rounds) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(address);
  if (!listener.ok()) co_return listener.status();
  absl::StatusOr<SocketAddress> bound = listener->LocalAddress();
  if (!bound.ok()) co_return bound.status();
  JoinHandle<absl::StatusOr<size_t>> server = Spawn(EchoOnce, &*listener);
  absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*bound, absl::Seconds(5));
  if (!client.ok()) co_return client.status();
  EXPECT_TRUE(client->SetNoDelay(true).ok());
  absl::StatusOr<SocketAddress> peer = client->PeerAddress();
  EXPECT_TRUE(peer.ok() && *peer == *bound);
  for (int i = 0; i < rounds; ++i) {
    const std::string message = absl::StrCat("message ", i);
    absl::Status written = co_await client->WriteAll(message);
    if (!written.ok()) co_return written;
    std::string echoed(message.size(), '\0');
    absl::Status read = co_await client->ReadExact(absl::MakeSpan(echoed));
    if (!read.ok()) co_return read;
    EXPECT_EQ(echoed, message);
  }
  EXPECT_TRUE(client->ShutdownWrite().ok());
  absl::StatusOr<size_t> echoed = co_await std::move(server);
  if (!echoed.ok()) co_return echoed.status();
  EXPECT_GT(*echoed, 0u);
  co_return absl::OkStatus();
}

TEST_F(IoTest, TcpEchoIpv4) {
  EXPECT_TRUE(runtime_.BlockOn(EchoRoundTrips(SocketAddress::Loopback(0), 200)).ok());
}

TEST_F(IoTest, TcpEchoIpv6) {
  absl::Status status = runtime_.BlockOn(EchoRoundTrips(SocketAddress::Loopback(0, true), 50));
  if (absl::IsUnavailable(status) || status.message().find("bind") != absl::string_view::npos) {
    GTEST_SKIP() << "no IPv6 loopback here: " << status;
  }
  EXPECT_TRUE(status.ok()) << status;
}

Task<absl::Status> WriteAllThenShutDown(TcpStream* stream, const std::string* data) {
  absl::Status written = co_await stream->WriteAll(*data);
  if (!written.ok()) co_return written;
  co_return stream->ShutdownWrite();
}

Task<absl::Status> ReadExactInto(TcpStream* stream, std::string* out) {
  co_return co_await stream->ReadExact(absl::MakeSpan(*out));
}

TEST_F(IoTest, OneTaskReadsWhileAnotherWritesTheSameStream) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    JoinHandle<absl::StatusOr<size_t>> server = Spawn(EchoOnce, &*listener);
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
    if (!client.ok()) co_return client.status();
    // 8 MiB: far more than the socket buffers hold, so writing all of it before reading would
    // stall once the echo fills them; only a reader running meanwhile lets the writer finish.
    std::string payload(8 << 20, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 4096);
    std::string echoed(payload.size(), '\0');
    TaskGroup group;
    group.Spawn(WriteAllThenShutDown, &*client, &payload);
    group.Spawn(ReadExactInto, &*client, &echoed);
    absl::Status joined = co_await group.Join();
    if (!joined.ok()) co_return joined;
    EXPECT_TRUE(echoed == payload) << "the echo differs from what was written";
    absl::StatusOr<size_t> served = co_await std::move(server);
    if (!served.ok()) co_return served.status();
    EXPECT_EQ(*served, payload.size());
    co_return absl::OkStatus();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(IoTest, HalfCloseReadsEndOfStreamAndStillWrites) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
    absl::StatusOr<TcpStream> server = co_await listener->Accept();
    if (!client.ok() || !server.ok()) co_return absl::InternalError("connect/accept failed");
    EXPECT_TRUE(client->ShutdownWrite().ok());
    std::array<char, 16> buffer;
    absl::StatusOr<size_t> n = co_await server->Read(absl::MakeSpan(buffer));
    EXPECT_TRUE(n.ok() && *n == 0) << "the server sees end of stream";
    EXPECT_TRUE((co_await server->WriteAll("after half-close")).ok());
    std::string reply(16, '\0');
    EXPECT_TRUE((co_await client->ReadExact(absl::MakeSpan(reply))).ok());
    EXPECT_EQ(reply, "after half-close");
    co_return absl::OkStatus();
  };
  EXPECT_TRUE(runtime_.BlockOn(body()).ok());
}

// Reads until end of stream.
Task<absl::StatusOr<std::string>> ReadToEnd(TcpStream stream) {
  std::string all;
  std::array<char, 4096> buffer;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));
    if (!n.ok()) co_return n.status();
    if (*n == 0) co_return all;
    all.append(buffer.data(), *n);
  }
}

TEST_F(IoTest, WriteVectoredSendsEveryBufferInOrder) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
    absl::StatusOr<TcpStream> server = co_await listener->Accept();
    if (!client.ok() || !server.ok()) co_return absl::InternalError("connect/accept failed");
    JoinHandle<absl::StatusOr<std::string>> reader = Spawn(ReadToEnd, *std::move(server));

    // Four 256 KiB buffers (and an empty one), more than one call may take: each call reports
    // how much it sent, and the caller goes on from there.
    std::vector<std::string> parts;
    for (char fill : {'a', 'b', 'c', 'd'}) {
      parts.emplace_back(256 * 1024, fill);
      parts.emplace_back();
    }
    std::string expected;
    for (const std::string& part : parts) expected += part;
    size_t sent = 0;
    while (sent < expected.size()) {
      std::vector<iovec> remaining;
      size_t offset = 0;
      for (std::string& part : parts) {
        const size_t skip = std::min(part.size(), sent > offset ? sent - offset : 0);
        remaining.push_back(iovec{part.data() + skip, part.size() - skip});
        offset += part.size();
      }
      absl::StatusOr<size_t> n = co_await client->WriteVectored(remaining);
      if (!n.ok()) co_return n.status();
      EXPECT_GT(*n, 0u);
      EXPECT_LE(*n, expected.size() - sent);
      sent += *n;
    }
    EXPECT_TRUE(client->ShutdownWrite().ok());
    absl::StatusOr<std::string> received = co_await std::move(reader);
    if (!received.ok()) co_return received.status();
    EXPECT_TRUE(*received == expected) << "received " << received->size() << " of "
                                       << expected.size() << " bytes, or out of order";
    co_return absl::OkStatus();
  };
  EXPECT_TRUE(runtime_.BlockOn(body()).ok());
}

TEST_F(IoTest, WriteVectoredRefusesMoreBuffersThanTheKernelTakes) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
    if (!client.ok()) co_return client.status();
    char byte = 'x';
    std::vector<iovec> too_many(IOV_MAX + 1, iovec{&byte, 1});
    absl::StatusOr<size_t> n = co_await client->WriteVectored(too_many);
    co_return n.status();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("sendmsg"), absl::string_view::npos) << status;
}

// Accepts connections, counting them, until its group is cancelled.
Task<absl::Status> CountAccepted(TcpListener* listener, std::atomic<int>* accepted) {
  for (;;) {
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    if (absl::IsCancelled(stream.status())) co_return absl::OkStatus();
    if (!stream.ok()) co_return stream.status();
    accepted->fetch_add(1);
  }
}

TEST_F(IoTest, ReusePortLetsListenersShareAPort) {
  auto body = []() -> Task<absl::Status> {
    const TcpListenOptions shared{.reuse_port = true};
    absl::StatusOr<TcpListener> first = TcpListener::Bind(SocketAddress::Loopback(0), shared);
    if (!first.ok()) co_return first.status();
    const SocketAddress address = *first->LocalAddress();
    absl::StatusOr<TcpListener> second = TcpListener::Bind(address, shared);
    if (!second.ok()) co_return second.status();
    EXPECT_EQ(*second->LocalAddress(), address);

    // Without the option the port is taken: a clear error, naming the call.
    absl::StatusOr<TcpListener> exclusive = TcpListener::Bind(address);
    EXPECT_FALSE(exclusive.ok());
    EXPECT_NE(exclusive.status().message().find("bind"), absl::string_view::npos)
        << exclusive.status();

    // Every connection to the port is accepted by one of the two.
    constexpr int kConnections = 20;
    std::atomic<int> accepted{0};
    TaskGroup group;
    group.Spawn(CountAccepted, &*first, &accepted);
    group.Spawn(CountAccepted, &*second, &accepted);
    std::vector<TcpStream> clients;
    for (int i = 0; i < kConnections; ++i) {
      absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(address, absl::Seconds(5));
      if (!client.ok()) co_return client.status();
      clients.push_back(*std::move(client));
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (accepted.load() < kConnections && absl::Now() < deadline) {
      co_await SleepFor(absl::Milliseconds(1));
    }
    group.Cancel();
    absl::Status joined = co_await group.Join();
    EXPECT_EQ(accepted.load(), kConnections);
    co_return joined;
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(IoTest, WriteToResetPeerReturnsErrorWithoutSigpipe) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(*listener->LocalAddress());
    {
      absl::StatusOr<TcpStream> server = co_await listener->Accept();
      linger abortive{.l_onoff = 1, .l_linger = 0};
      setsockopt(server->fd(), SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
    }  // Closed with RST.
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 100; ++i) {
      absl::Status status = co_await client->WriteAll(chunk);
      if (!status.ok()) co_return status;
    }
    co_return absl::OkStatus();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("send"), absl::string_view::npos) << status;
}

TEST_F(IoTest, ConnectRefused) {
  auto body = []() -> Task<absl::Status> {
    // Bind a port, then close it so nothing listens there.
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    const SocketAddress address = *listener->LocalAddress();
    listener->Close();
    co_return (co_await TcpStream::Connect(address, absl::Seconds(5))).status();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("refused"), absl::string_view::npos) << status;
}

// Connects to `address` until a connect times out (at most `max` times), keeping the connections
// open, and returns the status that ended the loop. For a listener with backlog 0 that never
// accepts, the timeout comes once the backlog is full: further SYNs are dropped.
Task<absl::Status> ConnectUntilTimeout(SocketAddress address, int max,
                                       std::vector<TcpStream>* connections) {
  for (int i = 0; i < max; ++i) {
    absl::StatusOr<TcpStream> s = co_await TcpStream::Connect(address, absl::Milliseconds(150));
    if (!s.ok()) co_return s.status();
    connections->push_back(*std::move(s));
  }
  co_return absl::OkStatus();
}

// On a paused clock (clock.h): the connects that succeed take no virtual time (loopback
// completes them within the syscall), and the one that times out takes exactly its 150 ms.
TEST(IoPausedTest, ConnectTimesOut) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<std::pair<absl::Status, absl::Duration>> {
    absl::StatusOr<TcpListener> listener =
        TcpListener::Bind(SocketAddress::Loopback(0), {.backlog = 0});
    std::vector<TcpStream> fillers;
    const Instant start = Now();
    absl::Status status = co_await ConnectUntilTimeout(*listener->LocalAddress(), 8, &fillers);
    co_return std::make_pair(status, Now() - start);
  };
  auto [status, took] = runtime.BlockOn(body());
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_EQ(took, absl::Milliseconds(150));
}

// An address nothing listens on: bound, then closed.
SocketAddress RefusingAddress() {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
  const SocketAddress address = *listener->LocalAddress();
  listener->Close();
  return address;
}

TEST_F(IoTest, ConnectToCandidatesTakesTheFirstThatAccepts) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    const SocketAddress listening = *listener->LocalAddress();
    std::vector<SocketAddress> candidates = {RefusingAddress(), listening};
    absl::StatusOr<TcpStream> client =
        co_await TcpStream::Connect(std::move(candidates), absl::Seconds(5));
    if (!client.ok()) co_return client.status();
    EXPECT_EQ(*client->PeerAddress(), listening);
    co_return absl::OkStatus();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(IoTest, ConnectToCandidatesReportsTheLastFailure) {
  auto body = []() -> Task<std::pair<absl::Status, std::string>> {
    const SocketAddress first = RefusingAddress();
    const SocketAddress second = RefusingAddress();
    std::vector<SocketAddress> candidates = {first, second};
    absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(std::move(candidates));
    co_return std::make_pair(client.status(), second.ToString());
  };
  auto [status, last_address] = runtime_.BlockOn(body());
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;  // ECONNREFUSED.
  EXPECT_NE(status.message().find("tried 2 of 2"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find(last_address), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("refused"), absl::string_view::npos) << status;

  auto empty = []() -> Task<absl::Status> {
    co_return (co_await TcpStream::Connect(std::vector<SocketAddress>())).status();
  };
  EXPECT_TRUE(absl::IsInvalidArgument(runtime_.BlockOn(empty())));
}

TEST(IoPausedTest, ConnectToCandidatesSharesTheTimeout) {
  Runtime runtime({.num_workers = 2, .start_paused = true});
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> full =
        TcpListener::Bind(SocketAddress::Loopback(0), {.backlog = 0});
    const SocketAddress full_address = *full->LocalAddress();
    std::vector<TcpStream> fillers;
    absl::Status filled = co_await ConnectUntilTimeout(full_address, 16, &fillers);
    if (!absl::IsDeadlineExceeded(filled)) co_return absl::InternalError("backlog never filled");
    absl::StatusOr<TcpListener> open = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!open.ok()) co_return open.status();
    // The first address may take half of the timeout: it times out, and the second still has
    // the rest.
    const Instant start = Now();
    std::vector<SocketAddress> candidates = {full_address, *open->LocalAddress()};
    absl::StatusOr<TcpStream> client =
        co_await TcpStream::Connect(std::move(candidates), absl::Seconds(4));
    const absl::Duration elapsed = Now() - start;
    if (!client.ok()) co_return client.status();
    EXPECT_EQ(elapsed, absl::Seconds(2));  // Paused clock: exact.
    co_return absl::OkStatus();
  };
  absl::Status status = runtime.BlockOn(body());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(IoTest, ConnectByHostName) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
    if (!listener.ok()) co_return listener.status();
    const uint16_t port = listener->LocalAddress()->port();
    // "localhost" may name ::1 first, where nothing listens: the IPv4 address is tried next.
    const std::vector<std::string> hosts = {"localhost", "127.0.0.1"};
    for (const std::string& host : hosts) {
      absl::StatusOr<TcpStream> client = co_await TcpStream::Connect(host, port, absl::Seconds(5));
      if (!client.ok()) co_return client.status();
      EXPECT_EQ(*client->PeerAddress(), *listener->LocalAddress()) << host;
    }
    co_return absl::OkStatus();
  };
  absl::Status status = runtime_.BlockOn(body());
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(IoTest, UnixStreamEcho) {
  // Not TempDir(): Bazel's sandbox paths exceed a Unix socket path's 107 bytes.
  const std::string path = absl::StrCat("/tmp/coral_io_test_", getpid(), ".sock");
  unlink(path.c_str());
  auto body = [path]() -> Task<std::string> {
    absl::StatusOr<UnixListener> listener = UnixListener::Bind(path);
    if (!listener.ok()) co_return listener.status().ToString();
    JoinHandle<std::string> server = Spawn([&listener]() -> Task<std::string> {
      absl::StatusOr<UnixStream> stream = co_await listener->Accept();
      std::string got(5, '\0');
      if (!(co_await stream->ReadExact(absl::MakeSpan(got))).ok()) co_return "read failed";
      co_return got;
    });
    absl::StatusOr<UnixStream> client = co_await UnixStream::Connect(path);
    if (!client.ok()) co_return client.status().ToString();
    (void)co_await client->WriteAll("hello");
    co_return *co_await std::move(server);
  };
  EXPECT_EQ(runtime_.BlockOn(body()), "hello");
  unlink(path.c_str());
}

TEST_F(IoTest, UnixPair) {
  auto body = []() -> Task<std::string> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    (void)co_await pair->first.WriteAll("ping");
    std::string got(4, '\0');
    (void)co_await pair->second.ReadExact(absl::MakeSpan(got));
    co_return got;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), "ping");
}

TEST_F(IoTest, UdpSendToRecvFromAndConnected) {
  auto body = []() -> Task<absl::Status> {
    absl::StatusOr<UdpSocket> a = UdpSocket::Bind(SocketAddress::Loopback(0));
    absl::StatusOr<UdpSocket> b = UdpSocket::Bind(SocketAddress::Loopback(0));
    if (!a.ok() || !b.ok()) co_return absl::InternalError("bind failed");
    const SocketAddress b_address = *b->LocalAddress();
    EXPECT_EQ(*(co_await a->SendTo("datagram", b_address)), 8u);
    std::array<char, 4> small;
    absl::StatusOr<UdpSocket::Datagram> d = co_await b->RecvFrom(absl::MakeSpan(small));
    if (!d.ok()) co_return d.status();
    EXPECT_TRUE(d->truncated);
    EXPECT_EQ(std::string(small.data(), d->size), "data");
    EXPECT_TRUE(d->from == *a->LocalAddress());
    EXPECT_TRUE(a->Connect(b_address).ok());
    EXPECT_TRUE(b->Connect(*a->LocalAddress()).ok());
    EXPECT_EQ(*(co_await a->Send("connected")), 9u);
    std::array<char, 64> buffer;
    absl::StatusOr<size_t> n = co_await b->Recv(absl::MakeSpan(buffer));
    EXPECT_EQ(std::string(buffer.data(), *n), "connected");
    co_return absl::OkStatus();
  };
  EXPECT_TRUE(runtime_.BlockOn(body()).ok());
}

TEST_F(IoTest, AsyncFdOnAPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  auto body = [](int read_end, int write_end) -> Task<std::string> {
    absl::StatusOr<AsyncFd> reader = AsyncFd::Create(read_end);
    absl::StatusOr<AsyncFd> writer = AsyncFd::Create(write_end);
    JoinHandle<void> producer = Spawn([&writer]() -> Task<void> {
      co_await SleepFor(absl::Milliseconds(10));  // The reader waits first.
      (void)co_await writer->WriteSome([&] { return ::write(writer->fd(), "pipe!", 5); });
    });
    std::array<char, 16> buffer;
    absl::StatusOr<size_t> n = co_await reader->ReadSome(
        [&] { return ::read(reader->fd(), buffer.data(), buffer.size()); });
    co_await std::move(producer);
    co_return std::string(buffer.data(), n.ok() ? *n : 0);
  };
  EXPECT_EQ(runtime_.BlockOn(body(fds[0], fds[1])), "pipe!");
}

// An fd epoll refuses (a regular file: EPERM) fails every wait with the registration's error,
// naming epoll_ctl and the fd, whether awaited directly or inside an operation that must wait.
TEST_F(IoTest, AnFdEpollRefusesFailsItsWaits) {
  const int file = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  auto body = [](int fd) -> Task<std::vector<absl::Status>> {
    absl::StatusOr<AsyncFd> async_fd = AsyncFd::Create(fd);
    if (!async_fd.ok()) co_return std::vector<absl::Status>{async_fd.status()};
    absl::StatusOr<Readiness> readable = co_await async_fd->Readable();
    absl::StatusOr<size_t> read = co_await async_fd->ReadSome([] {
      errno = EAGAIN;  // As if the fd had nothing to give: the operation must wait.
      return ssize_t{-1};
    });
    co_return std::vector<absl::Status>{readable.status(), read.status(),
                                        async_fd->RegisterOnThisWorker()};
  };
  const std::vector<absl::Status> statuses = runtime_.BlockOn(body(file));
  ASSERT_EQ(statuses.size(), 3u);
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
    EXPECT_NE(status.message().find(absl::StrCat("epoll_ctl(ADD) of fd ", file)),
              absl::string_view::npos)
        << status;
  }
}

// An fd number closed and reused by a new socket never wakes the old waiter's task: each wait
// belongs to its registration.
TEST_F(IoTest, FdNumberReuseDoesNotCrossWakeups) {
  auto body = []() -> Task<absl::Status> {
    for (int i = 0; i < 200; ++i) {
      absl::StatusOr<std::pair<UnixStream, UnixStream>> first = UnixStream::Pair();
      const int number = first->first.fd();
      // Register and abandon: a reader waits, then is aborted, then the fd closes.
      JoinHandle<void> waiter = Spawn([&first]() -> Task<void> {
        std::array<char, 1> b;
        (void)co_await first->first.Read(absl::MakeSpan(b));
      });
      co_await Yield();
      waiter.Abort();
      (void)co_await std::move(waiter);
      first->first.Close();
      absl::StatusOr<std::pair<UnixStream, UnixStream>> second = UnixStream::Pair();
      (void)number;
      // The new pair works normally whatever number it got.
      (void)co_await second->second.WriteAll("x");
      std::array<char, 1> b;
      absl::StatusOr<size_t> n = co_await second->first.Read(absl::MakeSpan(b));
      if (!n.ok() || *n != 1) co_return absl::InternalError("read on the reused fd failed");
    }
    co_return absl::OkStatus();
  };
  EXPECT_TRUE(runtime_.BlockOn(body()).ok());
}

// Two readers of one socket are both woken by one byte; the one that finds it gone (EAGAIN) waits
// again, without its awaiting coroutine seeing anything, and reads the next byte.
TEST_F(IoTest, AReaderWokenForBytesAnotherTookWaitsAgain) {
  auto body = []() -> Task<bool> {
    absl::StatusOr<std::pair<UnixStream, UnixStream>> pair = UnixStream::Pair();
    std::atomic<int> finished{0};
    auto read_one = [&]() -> Task<char> {
      std::array<char, 1> byte;
      absl::StatusOr<size_t> n = co_await pair->first.Read(absl::MakeSpan(byte));
      ++finished;
      co_return n.ok() && *n == 1 ? byte[0] : '!';
    };
    JoinHandle<char> first = Spawn(read_one);
    JoinHandle<char> second = Spawn(read_one);
    co_await SleepFor(absl::Milliseconds(10));  // Both wait.
    (void)co_await pair->second.WriteAll("x");
    for (int i = 0; i < 500 && finished.load() == 0; ++i) co_await SleepFor(absl::Milliseconds(10));
    co_await SleepFor(absl::Milliseconds(50));  // The other reader had its wake-up by now.
    const int finished_after_one_byte = finished.load();
    (void)co_await pair->second.WriteAll("y");
    const absl::StatusOr<char> a = co_await std::move(first);
    const absl::StatusOr<char> b = co_await std::move(second);
    EXPECT_EQ(finished_after_one_byte, 1);
    EXPECT_TRUE(a.ok() && b.ok());
    co_return a.ok() && b.ok() && ((*a == 'x' && *b == 'y') || (*a == 'y' && *b == 'x'));
  };
  EXPECT_TRUE(runtime_.BlockOn(body()));
}

TEST_F(IoTest, SpawnBlockingRunsOffTheWorkers) {
  auto body = []() -> Task<bool> {
    const std::thread::id worker = std::this_thread::get_id();
    absl::StatusOr<std::thread::id> other = co_await SpawnBlocking([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return std::this_thread::get_id();
    });
    co_return other.ok() && *other != worker;
  };
  EXPECT_TRUE(runtime_.BlockOn(body()));
}

TEST_F(IoTest, SpawnBlockingCopiesANamedCallable) {
  auto body = []() -> Task<int> {
    auto job = [owned = std::make_shared<int>(41)] { return ++*owned; };
    absl::StatusOr<int> first = co_await SpawnBlocking(job);
    absl::StatusOr<int> second = co_await SpawnBlocking(job);  // `job` is still whole.
    co_return first.ok() && second.ok() ? *first + *second : -1;
  };
  EXPECT_EQ(runtime_.BlockOn(body()), 42 + 43);
}

TEST_F(IoTest, SpawnBlockingRethrows) {
  auto body = []() -> Task<absl::Status> {
    co_return co_await SpawnBlocking([] { throw std::runtime_error("blocking failure"); });
  };
  EXPECT_THROW(runtime_.BlockOn(body()), std::runtime_error);
}

TEST_F(IoTest, ResolveLocalhostAndNumeric) {
  auto body = []() -> Task<std::vector<SocketAddress>> {
    absl::StatusOr<std::vector<SocketAddress>> found = co_await Resolve("localhost", 8080);
    EXPECT_TRUE(found.ok()) << found.status();
    co_return found.ok() ? *found : std::vector<SocketAddress>{};
  };
  std::vector<SocketAddress> addresses = runtime_.BlockOn(body());
  ASSERT_FALSE(addresses.empty());
  for (const SocketAddress& a : addresses) EXPECT_EQ(a.port(), 8080);
  auto unknown = []() -> Task<absl::Status> {
    co_return (co_await Resolve("no-such-host.invalid", 1)).status();
  };
  absl::Status status = runtime_.BlockOn(unknown());
  EXPECT_FALSE(status.ok());
}

// A worker stuck in a long task must not strand the readiness events and timers of the tasks that
// last waited on it: an idle worker takes them. A task spawns a busy task (into its worker's LIFO
// slot, so it runs there next) and then runs `wait`; the busy task keeps the worker until `wait`
// returns, for at most 2 s. `fire` (called on this thread once the busy task runs and the other
// worker had time to fall asleep) makes the wait end, or may do nothing for a wait that ends by
// itself after more than those 5 ms. Returns how many attempts had the busy task on the waiter's
// worker (TSan builds sometimes queue it where the other worker steals it: such an attempt proves
// nothing), and fails if in one of them the wait did not end while the busy task ran.
int ExpectServedWhileItsWorkerIsBusy(const std::function<Task<void>()>& wait,
                                     const std::function<void()>& fire) {
  Runtime runtime({.num_workers = 2});
  int conclusive = 0;
  for (int attempt = 0; attempt < 10 && conclusive < 3; ++attempt) {
    std::atomic<std::thread::id> waiter_thread{};
    std::atomic<std::thread::id> busy_thread{};
    std::atomic<bool> waited{false};
    std::atomic<bool> busy_done{false};
    std::atomic<bool> served{false};
    auto busy = [&]() -> Task<void> {
      busy_thread = std::this_thread::get_id();
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!waited && std::chrono::steady_clock::now() < until) {
      }
      served = waited.load();
      busy_done = true;
      co_return;
    };
    JoinHandle<void> waiter = runtime.Spawn([&]() -> Task<void> {
      waiter_thread = std::this_thread::get_id();
      Spawn(busy).Detach();
      co_await wait();
      waited = true;
    });
    EXPECT_TRUE(Eventually([&] { return busy_thread.load() != std::thread::id(); }));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // The other worker parks.
    fire();
    // No new task until the busy one is done: a submission would wake the other worker.
    EXPECT_TRUE(Eventually([&] { return busy_done.load(); }));
    auto join = [&]() -> Task<void> { EXPECT_TRUE((co_await std::move(waiter)).ok()); };
    runtime.BlockOn(join());
    if (busy_thread.load() != waiter_thread.load()) continue;
    ++conclusive;
    if (!served) {
      ADD_FAILURE() << "attempt " << attempt << ": the wait ended only after the busy task";
      break;
    }
  }
  return conclusive;
}

TEST(IoStuckWorkerTest, AnIdleWorkerServesTheFdsOfABusyOne) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  absl::StatusOr<AsyncFd> reader = AsyncFd::Create(fds[0]);
  ASSERT_TRUE(reader.ok());
  const int conclusive = ExpectServedWhileItsWorkerIsBusy(
      [&]() -> Task<void> {
        std::array<char, 1> byte;
        absl::StatusOr<size_t> n =
            co_await reader->ReadSome([&] { return ::read(reader->fd(), byte.data(), 1); });
        EXPECT_TRUE(n.ok() && *n == 1);
      },
      [&] { ASSERT_EQ(::write(fds[1], "x", 1), 1); });
  EXPECT_GT(conclusive, 0);
  close(fds[1]);
}

TEST(IoStuckWorkerTest, AnIdleWorkerFiresTheTimersOfABusyOne) {
  const int conclusive = ExpectServedWhileItsWorkerIsBusy(
      []() -> Task<void> { co_await SleepFor(absl::Milliseconds(20)); }, [] {});
  EXPECT_GT(conclusive, 0);
}

// Two tasks woken by one poll of a worker's reactor (here: timers with one deadline): the worker
// runs one and keeps the other queued without waking anybody (it reaches it sooner than a
// sleeping worker would wake). When the one it runs proves long, an idle worker takes the other
// from its queue, though the busy worker has no fds or timers left for anyone to poll. Attempts
// where the two slept on different workers prove nothing and are not counted.
TEST(IoStuckWorkerTest, AnIdleWorkerTakesTheQueuedTaskOfABusyOne) {
  Runtime runtime({.num_workers = 2});
  int conclusive = 0;
  for (int attempt = 0; attempt < 10 && conclusive < 3; ++attempt) {
    std::atomic<int> started{0};
    std::atomic<int> finished{0};
    std::atomic<bool> other_finished_meanwhile{false};
    std::array<std::atomic<std::thread::id>, 2> slept_on{};
    const absl::Time deadline = absl::Now() + absl::Milliseconds(30);
    auto sleep_then_maybe_hog = [&](int index) -> Task<void> {
      slept_on[index] = std::this_thread::get_id();
      co_await SleepUntil(deadline);
      if (started.fetch_add(1) == 0) {  // The first to run keeps its worker for up to 2 s.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (finished.load() == 0 && std::chrono::steady_clock::now() < until) {
        }
        other_finished_meanwhile = finished.load() > 0;
      }
      finished.fetch_add(1);
    };
    auto run_both = [&]() -> Task<void> {
      JoinHandle<void> first = Spawn(sleep_then_maybe_hog, 0);
      JoinHandle<void> second = Spawn(sleep_then_maybe_hog, 1);
      EXPECT_TRUE((co_await std::move(first)).ok());
      EXPECT_TRUE((co_await std::move(second)).ok());
    };
    runtime.BlockOn(run_both());
    if (slept_on[0].load() != slept_on[1].load()) continue;
    ++conclusive;
    EXPECT_TRUE(other_finished_meanwhile) << "attempt " << attempt;
  }
  EXPECT_GT(conclusive, 0);
}

TEST(IoShutdownTest, ShutdownTearsDownTasksWaitingOnIo) {
  std::atomic<int> finished{0};
  std::pair<UnixStream, UnixStream> pair;
  {
    Runtime runtime({.num_workers = 2});
    auto make = []() -> Task<std::pair<UnixStream, UnixStream>> { co_return *UnixStream::Pair(); };
    pair = runtime.BlockOn(make());
    for (int i = 0; i < 2; ++i) {
      runtime
          .Spawn([&pair, &finished]() -> Task<void> {
            struct Done {
              std::atomic<int>* count;
              ~Done() { count->fetch_add(1); }
            } done{&finished};
            std::array<char, 1> b;
            (void)co_await pair.first.Read(absl::MakeSpan(b));
          })
          .Detach();
      break;  // One reader per stream.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(finished.load(), 1);
}

TEST(SocketAddressTest, ParseAndFormat) {
  EXPECT_EQ(SocketAddress::Parse("127.0.0.1:80")->ToString(), "127.0.0.1:80");
  EXPECT_EQ(SocketAddress::Parse("[::1]:443")->ToString(), "[::1]:443");
  EXPECT_EQ(SocketAddress::Loopback(9).port(), 9);
  EXPECT_FALSE(SocketAddress::Parse("localhost:80").ok());
  EXPECT_FALSE(SocketAddress::Parse("1.2.3.4").ok());
  EXPECT_FALSE(SocketAddress::Parse("1.2.3.4:99999").ok());
  // Found by tests/fuzz/socket_address_fuzzer: only digits make a port, and a NUL does not end
  // the host early.
  EXPECT_FALSE(SocketAddress::Parse("1.2.3.4:+80").ok());
  EXPECT_FALSE(SocketAddress::Parse("1.2.3.4: 80").ok());
  EXPECT_FALSE(SocketAddress::Parse("1.2.3.4:80\n").ok());
  EXPECT_FALSE(SocketAddress::Parse(absl::string_view("1.2.3.4\0junk:80", 15)).ok());
  EXPECT_FALSE(SocketAddress::Parse(absl::string_view("[::1\0junk]:80", 14)).ok());
  EXPECT_EQ(SocketAddress::Unix("/tmp/x")->ToString(), "unix:/tmp/x");
}

}  // namespace
}  // namespace coral
