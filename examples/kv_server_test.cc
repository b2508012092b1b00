// Copyright 2026 The coral Authors.
//
// kv_server end to end, as a separate process on loopback. Raw sockets: pipelined requests
// answered in order, a request cut into pieces, malformed and oversized requests (an error reply,
// then a clean close, and the server goes on serving), clients vanishing mid-request (the server
// then exits 0 on SIGTERM: under --config=asan, a leak would fail that exit), the idle timeout,
// and the drain.
// redis-cli (Debian's redis-tools, which bazel/bazelw installs): every command through the real
// client, and a short redis-benchmark run for correctness.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/example_test_util.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

constexpr char kServer[] = "examples/kv_server";

bool Send(int fd, absl::string_view data) {
  return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Exactly `n` bytes (fewer if the connection ends first).
std::string Receive(int fd, size_t n) {
  std::string all(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, all.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  all.resize(got);
  return all;
}

// Everything until the server closes the connection; closes it.
std::string ReceiveToEnd(int fd) {
  std::string all;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) all.append(buffer, n);
  ::close(fd);
  return all;
}

// A RESP array of bulk strings.
std::string Command(const std::vector<std::string>& arguments) {
  std::string out = absl::StrCat("*", arguments.size(), "\r\n");
  for (const std::string& argument : arguments) {
    absl::StrAppend(&out, "$", argument.size(), "\r\n", argument, "\r\n");
  }
  return out;
}

// A kv_server on a free port; stopped with SIGTERM by Stop().
class Server {
 public:
  explicit Server(std::vector<std::string> flags = {}) {
    flags.push_back("0");
    absl::StatusOr<Subprocess> process = Subprocess::Start(kServer, flags, {});
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return;
    process_.emplace(*std::move(process));
    const std::optional<std::string> line = process_->ReadLine();
    const size_t colon = line ? line->rfind(':') : std::string::npos;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(*line).substr(colon + 1, 5), &port_)) {
      ADD_FAILURE() << "no port in: " << line.value_or("(nothing)");
    }
  }

  int port() const { return port_; }

  // SIGTERM; returns whether the server drained and exited 0.
  bool Stop() {
    if (!process_) return false;
    ::kill(process_->pid(), SIGTERM);
    const std::string output = process_->ReadToEnd();
    absl::StatusOr<Subprocess::Exit> exit = process_->Wait();
    EXPECT_TRUE(absl::StrContains(output, "kv_server: stopped")) << output;
    return exit.ok() && exit->exited_ok();
  }

 private:
  std::optional<Subprocess> process_;
  int port_ = 0;
};

TEST(KvServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  std::string requests;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string value = absl::StrCat("value-", i);
    requests += Command({"SET", "key", value});
    requests += Command({"GET", "key"});
    requests += Command({"INCR", "counter"});
    absl::StrAppend(&expected, "+OK\r\n$", value.size(), "\r\n", value, "\r\n:", i + 1, "\r\n");
  }
  // An inline command pipelined behind them.
  requests += "PING\r\n";
  expected += "+PONG\r\n";
  ASSERT_TRUE(Send(fd, requests));
  EXPECT_EQ(Receive(fd, expected.size()), expected);
  ::close(fd);
  EXPECT_TRUE(server.Stop());
}

// Each reply is 100 KB: the server sends the batch's replies as it makes them instead of
// accumulating 10 MB.
TEST(KvServerTest, LargeRepliesToAPipelinedBatch) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  const std::string value(100000, 'v');
  std::string requests = Command({"SET", "big", value});
  for (int i = 0; i < 100; ++i) requests += Command({"GET", "big"});
  ASSERT_TRUE(Send(fd, requests));
  std::string expected = "+OK\r\n";
  for (int i = 0; i < 100; ++i) expected += "$100000\r\n" + value + "\r\n";
  EXPECT_EQ(Receive(fd, expected.size()), expected);
  ::close(fd);
  EXPECT_TRUE(server.Stop());
}

TEST(KvServerTest, ARequestCutIntoPieces) {
  Server server;
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  const std::string request =
      Command({"SET", "k", std::string(100000, 'v')}) + Command({"GET", "k"});
  // Pieces of 1, 2, 3... bytes, each sent on its own.
  for (size_t at = 0, piece = 1; at < request.size(); at += piece, ++piece) {
    ASSERT_TRUE(Send(fd, absl::string_view(request).substr(at, piece)));
  }
  const std::string expected = "+OK\r\n$100000\r\n" + std::string(100000, 'v') + "\r\n";
  EXPECT_EQ(Receive(fd, expected.size()), expected);
  ::close(fd);
  EXPECT_TRUE(server.Stop());
}

TEST(KvServerTest, MalformedRequestsGetAnErrorAndACleanClose) {
  Server server;
  // A command error keeps the connection.
  int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Send(fd, Command({"NOSUCH", "x"}) + Command({"GET"}) + Command({"PING"})));
  const std::string expected =
      "-ERR unknown command 'NOSUCH', with args beginning with: 'x' \r\n"
      "-ERR wrong number of arguments for 'get' command\r\n+PONG\r\n";
  EXPECT_EQ(Receive(fd, expected.size()), expected);
  ::close(fd);
  // A protocol error: the requests before it are answered, then the error, then the close.
  const struct {
    std::string input;
    std::string error;
  } cases[] = {
      {"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$'\r\n"},
      {"*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*1\r\n$4\r\nPINGxx", "-ERR Protocol error: bulk string not followed by CRLF\r\n"},
      {"SET k \"v\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
  };
  for (const auto& c : cases) {
    fd = ConnectLoopback(server.port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(Send(fd, Command({"PING"}) + c.input + Command({"PING"})));
    EXPECT_EQ(ReceiveToEnd(fd), "+PONG\r\n" + c.error) << c.input;
  }
  EXPECT_TRUE(server.Stop());
}

TEST(KvServerTest, OversizedRequestsAreRefused) {
  Server server({"--max_request_bytes=1024"});
  // A bulk announced over the limit: refused from its header.
  int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Send(fd, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n"));
  EXPECT_EQ(ReceiveToEnd(fd), "-ERR Protocol error: invalid bulk length\r\n");
  // Many small arguments adding up to more than the limit: refused once 1024 bytes are held.
  fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  std::string request = "*1000\r\n";
  for (int i = 0; i < 1000; ++i) request += "$1\r\na\r\n";
  Send(fd, request);  // The server may close before it has all: a reset is fine.
  EXPECT_EQ(ReceiveToEnd(fd), "-ERR Protocol error: request larger than 1024 bytes\r\n");
  // An endless inline line.
  fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  Send(fd, std::string(4096, 'A'));
  EXPECT_EQ(ReceiveToEnd(fd), "-ERR Protocol error: request larger than 1024 bytes\r\n");
  // The server goes on; a request of exactly the limit passes.
  fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  request = Command({"SET", "k", std::string(996, 'v')});
  ASSERT_EQ(request.size(), 1024u);
  ASSERT_TRUE(Send(fd, request));
  EXPECT_EQ(Receive(fd, 5), "+OK\r\n");
  ::close(fd);
  EXPECT_TRUE(server.Stop());
}

TEST(KvServerTest, ClientsVanishingMidRequestLeakNothing) {
  Server server;
  for (int i = 0; i < 50; ++i) {
    const int fd = ConnectLoopback(server.port());
    ASSERT_GE(fd, 0);
    // Cut in the header, in the middle of a large announced value, or after a whole request
    // whose reply is never read; half of them reset instead of closing.
    const std::string requests[] = {"*3\r\n$3\r\nSE",
                                    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000\r\nvvvv",
                                    Command({"GET", "k"}) + "*2\r\n$3\r\nGET"};
    ASSERT_TRUE(Send(fd, requests[i % 3]));
    if (i % 2 == 0) {
      const linger reset{.l_onoff = 1, .l_linger = 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    }
    ::close(fd);
  }
  const int fd = ConnectLoopback(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(Send(fd, Command({"PING"})));
  EXPECT_EQ(Receive(fd, 7), "+PONG\r\n");
  ::close(fd);
  EXPECT_TRUE(server.Stop());  // Exits 0: under asan, no leak report.
}

TEST(KvServerTest, SigtermDrainsConnections) {
  Server server;
  const int idle = ConnectLoopback(server.port());
  ASSERT_GE(idle, 0);
  const int busy = ConnectLoopback(server.port());
  ASSERT_GE(busy, 0);
  ASSERT_TRUE(Send(busy, Command({"SET", "k", "v"})));
  EXPECT_EQ(Receive(busy, 5), "+OK\r\n");
  EXPECT_TRUE(server.Stop());
  // Both were closed by the server.
  EXPECT_EQ(ReceiveToEnd(idle), "");
  EXPECT_EQ(ReceiveToEnd(busy), "");
}

// Whether the server closed the connection: a read sees end of stream (not a timeout).
bool ClosedByServer(int fd) {
  char byte;
  const ssize_t n = ::read(fd, &byte, 1);
  ::close(fd);
  return n == 0;
}

TEST(KvServerTest, IdleConnectionsAreClosedActiveOnesKept) {
  Server server({"--idle_timeout=1s"});
  const int idle = ConnectLoopback(server.port());
  ASSERT_GE(idle, 0);
  const int active = ConnectLoopback(server.port());
  ASSERT_GE(active, 0);
  // Two and a half timeouts long, a request every 50 ms: never idle for a whole timeout.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Send(active, Command({"PING"})));
    ASSERT_EQ(Receive(active, 7), "+PONG\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (i == 5) {  // Well within the first timeout: the idle connection is still open.
      pollfd closed{.fd = idle, .events = POLLIN, .revents = 0};
      EXPECT_EQ(::poll(&closed, 1, 0), 0);
    }
  }
  EXPECT_TRUE(ClosedByServer(idle));  // Within two timeouts (the read gives up after 20 s).
  ASSERT_TRUE(Send(active, Command({"PING"})));
  EXPECT_EQ(Receive(active, 7), "+PONG\r\n");
  ::close(active);
  EXPECT_TRUE(server.Stop());
}

// redis-cli's output for one command (its reply as redis-cli prints it without a terminal).
std::string RedisCli(int port, std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"-p", absl::StrCat(port)});
  absl::StatusOr<Subprocess> cli = Subprocess::Start("/usr/bin/redis-cli", arguments, {});
  EXPECT_TRUE(cli.ok()) << cli.status();
  if (!cli.ok()) return "";
  std::string output = cli->ReadToEnd();
  absl::StatusOr<Subprocess::Exit> exit = cli->Wait();
  EXPECT_TRUE(exit.ok() && exit->exited_ok());
  return output;
}

TEST(KvServerRedisCliTest, EveryCommandThroughRedisCli) {
  ASSERT_EQ(::access("/usr/bin/redis-cli", X_OK), 0)
      << "redis-cli is missing: bazel/bazelw installs Debian's redis-tools";
  Server server;
  const int port = server.port();
  EXPECT_EQ(RedisCli(port, {"PING"}), "PONG\n");
  EXPECT_EQ(RedisCli(port, {"ECHO", "hello world"}), "hello world\n");
  EXPECT_EQ(RedisCli(port, {"SET", "greeting", "hello world"}), "OK\n");
  EXPECT_EQ(RedisCli(port, {"GET", "greeting"}), "hello world\n");
  EXPECT_EQ(RedisCli(port, {"GET", "missing"}), "\n");
  EXPECT_EQ(RedisCli(port, {"SET", "greeting", "x", "NX"}), "\n");
  EXPECT_EQ(RedisCli(port, {"SET", "greeting", "bye", "XX", "EX", "100"}), "OK\n");
  EXPECT_EQ(RedisCli(port, {"TTL", "greeting"}), "100\n");
  EXPECT_EQ(RedisCli(port, {"SET", "short", "x", "PX", "100000"}), "OK\n");
  EXPECT_EQ(RedisCli(port, {"EXPIRE", "short", "50"}), "1\n");
  EXPECT_EQ(RedisCli(port, {"TTL", "short"}), "50\n");
  EXPECT_EQ(RedisCli(port, {"TTL", "missing"}), "-2\n");
  EXPECT_EQ(RedisCli(port, {"INCR", "counter"}), "1\n");
  EXPECT_EQ(RedisCli(port, {"INCRBY", "counter", "41"}), "42\n");
  EXPECT_EQ(RedisCli(port, {"DECR", "counter"}), "41\n");
  EXPECT_EQ(RedisCli(port, {"INCR", "greeting"}),
            "ERR value is not an integer or out of range\n\n");
  EXPECT_EQ(RedisCli(port, {"MSET", "a", "1", "b", "2"}), "OK\n");
  EXPECT_EQ(RedisCli(port, {"MGET", "a", "missing", "b"}), "1\n\n2\n");
  EXPECT_EQ(RedisCli(port, {"EXISTS", "a", "b", "missing"}), "2\n");
  EXPECT_EQ(RedisCli(port, {"DEL", "a", "missing"}), "1\n");
  EXPECT_EQ(RedisCli(port, {"DBSIZE"}), "4\n");
  EXPECT_EQ(RedisCli(port, {"CONFIG", "GET", "appendonly"}), "appendonly\nno\n");
  EXPECT_EQ(RedisCli(port, {"NOSUCH"}),
            "ERR unknown command 'NOSUCH', with args beginning with: \n\n");
  EXPECT_EQ(RedisCli(port, {"FLUSHALL"}), "OK\n");
  EXPECT_EQ(RedisCli(port, {"DBSIZE"}), "0\n");
  EXPECT_TRUE(server.Stop());
}

TEST(KvServerRedisCliTest, RedisBenchmarkRunsCleanly) {
  ASSERT_EQ(::access("/usr/bin/redis-benchmark", X_OK), 0)
      << "redis-benchmark is missing: bazel/bazelw installs Debian's redis-tools";
  Server server;
  for (const char* pipeline : {"1", "16"}) {
    // Correctness only: it stops with a failure at the first error reply.
    absl::StatusOr<Subprocess> benchmark =
        Subprocess::Start("/usr/bin/redis-benchmark",
                          {"-p", absl::StrCat(server.port()), "-t", "set,get", "-n", "2000", "-c",
                           "10", "-P", pipeline, "-d", "64", "--csv"},
                          {});
    ASSERT_TRUE(benchmark.ok()) << benchmark.status();
    const std::string output = benchmark->ReadToEnd();
    absl::StatusOr<Subprocess::Exit> exit = benchmark->Wait();
    EXPECT_TRUE(exit.ok() && exit->exited_ok()) << output;
    EXPECT_TRUE(absl::StrContains(output, "\"SET\"")) << output;
    EXPECT_TRUE(absl::StrContains(output, "\"GET\"")) << output;
  }
  // The SETs stored their 64-byte value under the one key they use.
  EXPECT_EQ(RedisCli(server.port(), {"GET", "key:__rand_int__"}).size(), 64u + 1);
  EXPECT_TRUE(server.Stop());
}

}  // namespace
}  // namespace coral::examples
