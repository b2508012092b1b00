// Copyright 2026 The coral Authors.
//
// blocking_vs_async: blocking versus non-blocking I/O, measured side by side. The same echo
// service (64-byte messages, one in flight per connection) is served two ways, each in a child
// process of its own (this program run again in a server role): a thread per connection doing
// blocking read and write, and coral (one task per connection on a few workers, the sockets
// non-blocking, readiness from epoll). This process drives each with the same closed-loop load
// from coral's load generator and prints, for both, the round trips per second, the server's CPU
// time per round trip (its whole life's CPU, from wait4, over the measured round trips) and how
// many threads the server ran.
//
//   bazel/bazelw run //examples:blocking_vs_async -- --connections=100 --duration=2s
//
// Threads are simple and, for a few connections, fast; each costs a kernel thread and a stack,
// and every message is a context switch. coral multiplexes the connections on its workers.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "coral/runtime.h"
#include "coral/tcp.h"
#include "examples/echo_load.h"
#include "examples/echo_service.h"
#include "examples/subprocess.h"

ABSL_FLAG(int, connections, 100, "concurrent client connections against each server");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(2), "measured time against each server");
ABSL_FLAG(int, workers, 2, "coral's worker threads");
ABSL_FLAG(std::string, serve, "",
          "internal: run as the server (threads or coral) until stdin ends (the child process)");

namespace {

// Blocks until this process's stdin ends: the parent closes it to stop a server.
void WaitForStdinToEnd() {
  char byte;
  while (::read(STDIN_FILENO, &byte, 1) > 0 || errno == EINTR) {
  }
}

// One thread per connection: blocking reads and writes until the client closes.
void EchoOnThread(int fd) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t sent = 0; sent < n;) {
      const ssize_t m = ::send(fd, buffer + sent, n - sent, MSG_NOSIGNAL);
      if (m < 0 && errno == EINTR) continue;
      if (m < 0) {
        ::close(fd);
        return;
      }
      sent += m;
    }
  }
  ::close(fd);
}

int ServeWithThreads() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener, 4096) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("blocking_vs_async: listen");
    return 1;
  }
  std::printf("port %d\n", ntohs(address.sin_port));
  std::fflush(stdout);

  std::mutex mu;
  std::vector<std::thread> connections;
  std::thread acceptor([&] {
    for (;;) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // The listener was shut down.
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard<std::mutex> lock(mu);
      connections.emplace_back(EchoOnThread, fd);
    }
  });
  WaitForStdinToEnd();
  ::shutdown(listener, SHUT_RDWR);  // Wakes the blocked accept.
  acceptor.join();
  ::close(listener);
  // The load closed every connection before the parent closed our stdin.
  for (std::thread& connection : connections) connection.join();
  return 0;
}

int ServeWithCoral() {
  absl::StatusOr<coral::TcpListener> listener =
      coral::TcpListener::Bind(coral::SocketAddress::Loopback(0));
  if (!listener.ok()) {
    std::fprintf(stderr, "blocking_vs_async: %s\n", listener.status().ToString().c_str());
    return 1;
  }
  std::printf("port %d\n", listener->LocalAddress()->port());
  std::fflush(stdout);
  coral::Runtime runtime({.num_workers = absl::GetFlag(FLAGS_workers)});
  runtime
      .Spawn(coral::examples::RunEchoServer, *std::move(listener),
             coral::examples::EchoMode::kBuffered, nullptr)
      .Detach();
  WaitForStdinToEnd();
  runtime.Shutdown();
  return 0;
}

// The most threads a process had, sampled every 2 ms until destroyed.
class ThreadCountSampler {
 public:
  explicit ThreadCountSampler(pid_t pid)
      : sampler_([this, pid] {
          while (!stop_.load()) {
            std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
            std::string line;
            while (std::getline(status, line)) {
              int threads;
              if (absl::StartsWith(line, "Threads:") &&
                  absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(8)), &threads)) {
                peak_.store(std::max(peak_.load(), threads));
              }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
          }
        }) {}
  ~ThreadCountSampler() {
    stop_.store(true);
    sampler_.join();
  }
  int peak() const { return peak_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread sampler_;
};

struct Measurement {
  coral::examples::EchoLoadReport load;
  double server_cpu_seconds = 0;
  int server_threads = 0;
};

// Starts this program as the `kind` server, drives it with the load, then stops it.
std::optional<Measurement> Measure(coral::Runtime& clients, const std::string& kind) {
  absl::StatusOr<coral::examples::Subprocess> server = coral::examples::Subprocess::Start(
      coral::examples::Subprocess::SelfPath(),
      {absl::StrCat("--serve=", kind), absl::StrCat("--workers=", absl::GetFlag(FLAGS_workers))},
      {});
  if (!server.ok()) {
    std::fprintf(stderr, "blocking_vs_async: %s\n", server.status().ToString().c_str());
    return std::nullopt;
  }
  std::optional<std::string> port_line = server->ReadLine();
  int port = 0;
  if (!port_line || !absl::StartsWith(*port_line, "port ") ||
      !absl::SimpleAtoi(port_line->substr(5), &port)) {
    std::fprintf(stderr, "blocking_vs_async: the %s server did not start\n", kind.c_str());
    return std::nullopt;
  }
  coral::examples::EchoLoadOptions options;
  options.connections = absl::GetFlag(FLAGS_connections);
  options.warmup = absl::ZeroDuration();  // The server's CPU is counted over its whole life.
  options.duration = absl::GetFlag(FLAGS_duration);
  Measurement measurement;
  absl::StatusOr<coral::examples::EchoLoadReport> report;
  {
    ThreadCountSampler threads(server->pid());
    report = clients.BlockOn(
        coral::examples::RunEchoLoad(coral::SocketAddress::Loopback(port), options));
    measurement.server_threads = threads.peak();
  }
  absl::StatusOr<coral::examples::Subprocess::Exit> exit = server->Wait();
  if (!report.ok() || !exit.ok() || !exit->exited_ok()) {
    std::fprintf(stderr, "blocking_vs_async: %s server: load %s, server %s\n", kind.c_str(),
                 report.status().ToString().c_str(),
                 exit.ok() ? exit->Describe().c_str() : exit.status().ToString().c_str());
    return std::nullopt;
  }
  measurement.load = *report;
  measurement.server_cpu_seconds = exit->cpu_seconds();
  return measurement;
}

void Print(const char* name, const Measurement& m) {
  const double cpu_us_per_round_trip =
      m.load.round_trips == 0 ? 0 : m.server_cpu_seconds * 1e6 / m.load.round_trips;
  std::printf(
      "%s: %.0f round trips/s, %.1f us server CPU per round trip, %d server threads, "
      "latency p50 %.0f us p99 %.0f us\n",
      name, m.load.round_trips_per_second, cpu_us_per_round_trip, m.server_threads,
      absl::ToDoubleMicroseconds(m.load.p50), absl::ToDoubleMicroseconds(m.load.p99));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string serve = absl::GetFlag(FLAGS_serve);
  const int connections = absl::GetFlag(FLAGS_connections);
  if (absl::Status limit = coral::examples::RaiseOpenFileLimit(connections + 64); !limit.ok()) {
    std::fprintf(stderr, "blocking_vs_async: %s\n", std::string(limit.message()).c_str());
    return 2;
  }
  if (serve == "threads") return ServeWithThreads();
  if (serve == "coral") return ServeWithCoral();

  std::printf(
      "the same echo served two ways, each driven by %d connections for %s "
      "(64-byte messages, one in flight per connection)\n",
      connections, absl::FormatDuration(absl::GetFlag(FLAGS_duration)).c_str());
  std::fflush(stdout);
  coral::Runtime clients({.num_workers = 1});
  const std::optional<Measurement> threads = Measure(clients, "threads");
  if (!threads) return 3;
  Print("thread per connection", *threads);
  std::fflush(stdout);
  const std::optional<Measurement> coral = Measure(clients, "coral");
  if (!coral) return 3;
  Print(absl::StrCat("coral, ", absl::GetFlag(FLAGS_workers), " worker(s)").c_str(), *coral);
  return 0;
}
