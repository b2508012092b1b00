// Copyright 2026 The coral Authors.
//
// 10,000 loopback connections churned through an echo server, a third of them reset abruptly
// (SO_LINGER 0) by the client mid-exchange: every connection is accounted for, the server survives
// every reset, and the process's open-fd count returns to its baseline.

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <vector>

#include "coral/coral.h"
#include "gtest/gtest.h"
#include "stress/stress_util.h"
#include "tests/test_util.h"

namespace coral::stress {
namespace {

Task<void> Echo(TcpStream stream, std::atomic<int64_t>* served) {
  std::array<char, 256> buffer;
  for (;;) {
    absl::StatusOr<size_t> n = co_await stream.Read(absl::MakeSpan(buffer));
    if (!n.ok() || *n == 0) break;
    if (!(co_await stream.WriteAll(absl::string_view(buffer.data(), *n))).ok()) break;
  }
  served->fetch_add(1);
}

Task<void> Serve(TcpListener* listener, int64_t connections, std::atomic<int64_t>* served) {
  for (int64_t i = 0; i < connections; ++i) {
    absl::StatusOr<TcpStream> stream = co_await listener->Accept();
    if (stream.ok()) Spawn(Echo, *std::move(stream), served).Detach();
  }
}

// One client connection; `mode` 0: clean close, 1: reset after a round trip, 2: reset at once.
Task<bool> Client(SocketAddress address, int mode) {
  absl::StatusOr<TcpStream> stream = co_await TcpStream::Connect(address, absl::Seconds(10));
  if (!stream.ok()) co_return false;
  if (mode != 2) {
    if (!(co_await stream->WriteAll("0123456789")).ok()) co_return false;
    std::array<char, 10> reply;
    if (!(co_await stream->ReadExact(absl::MakeSpan(reply))).ok()) co_return false;
  }
  if (mode != 0) {
    linger abortive{.l_onoff = 1, .l_linger = 0};
    setsockopt(stream->fd(), SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
  }
  co_return true;  // Closed (or reset) here.
}

TEST(IoStress, TenThousandConnectionsWithResets) {
  constexpr int64_t kConnections = 10'000;
  constexpr int kInFlight = 64;
  const int baseline = ::coral::testing::OpenFdCount();
  std::atomic<int64_t> served{0};
  int64_t ok_clients = 0;
  {
    Runtime runtime({.num_workers = 2});
    auto body = [&]() -> Task<void> {
      absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
      EXPECT_TRUE(listener.ok());
      const SocketAddress address = *listener->LocalAddress();
      JoinHandle<void> server = Spawn(Serve, &*listener, kConnections, &served);
      for (int64_t next = 0; next < kConnections;) {
        std::vector<JoinHandle<bool>> batch;
        for (int i = 0; i < kInFlight && next < kConnections; ++i, ++next) {
          batch.push_back(Spawn(Client, address, static_cast<int>(next % 3)));
        }
        for (auto& client : batch) {
          absl::StatusOr<bool> ok = co_await std::move(client);
          ok_clients += ok.ok() && *ok;
        }
      }
      co_await std::move(server);
      // Let the server's connection tasks see their resets and finish.
      for (int i = 0; i < 200 && served.load() < kConnections; ++i) {
        co_await SleepFor(absl::Milliseconds(10));
      }
    };
    runtime.BlockOn(body());
  }
  EXPECT_EQ(ok_clients, kConnections);
  EXPECT_EQ(served.load(), kConnections);
  EXPECT_EQ(::coral::testing::OpenFdCount(), baseline);
}

}  // namespace
}  // namespace coral::stress
