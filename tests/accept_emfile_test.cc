// Copyright 2026 The coral Authors.
//
// Accept at the descriptor limit: the listener stays up, backs off instead of spinning (under 5%
// of a core while at the limit), and accepts the waiting connections once descriptors free up.
// The clients live in a child process, so only the server's descriptors count against the limit.

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "coral/join_handle.h"
#include "coral/runtime.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/task.h"
#include "coral/tcp.h"
#include "gtest/gtest.h"

namespace coral {
namespace {

constexpr int kClients = 40;

int64_t CpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1'000'000L + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

// Child: opens kClients connections and holds them until the parent closes `hold`.
[[noreturn]] void RunClients(uint16_t port, int hold) {
  std::vector<int> sockets;
  for (int i = 0; i < kClients; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) _exit(3);
    sockets.push_back(fd);
  }
  char byte;
  [[maybe_unused]] ssize_t r = read(hold, &byte, 1);  // Returns when the parent closes its end.
  _exit(0);
}

TEST(AcceptEmfileTest, BacksOffAtTheLimitAndRecovers) {
  absl::StatusOr<TcpListener> listener = TcpListener::Bind(SocketAddress::Loopback(0));
  ASSERT_TRUE(listener.ok());
  const uint16_t port = listener->LocalAddress()->port();
  int hold[2];
  ASSERT_EQ(pipe(hold), 0);
  const pid_t child = fork();
  if (child == 0) {
    close(hold[1]);
    RunClients(port, hold[0]);
  }
  close(hold[0]);

  Runtime runtime({.num_workers = 2});
  std::mutex mu;
  std::vector<TcpStream> accepted;  // Guarded by mu.
  std::atomic<int> total_accepted{0};

  // The back-off sleeps once before the limit is lowered: UBSan's vptr check (the asan config)
  // opens a pipe to probe memory the first time it meets a polymorphic type, and at the limit it
  // cannot, and reports the sleep's awaiter as an invalid object.
  runtime.BlockOn([]() -> Task<void> { (void)co_await SleepFor(absl::Milliseconds(1)); }());

  // Leave room for about half of the clients.
  rlimit original{};
  getrlimit(RLIMIT_NOFILE, &original);
  int open_now = 0;
  for (int fd = 0; fd < 4096; ++fd) open_now += fcntl(fd, F_GETFD) != -1;
  rlimit lowered = original;
  lowered.rlim_cur = open_now + kClients / 2;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);

  // Only now start accepting, so that the limit is reached.
  runtime
      .Spawn([&]() -> Task<void> {
        while (total_accepted.load() < kClients) {
          absl::StatusOr<TcpStream> stream = co_await listener->Accept();
          if (!stream.ok()) continue;
          std::lock_guard<std::mutex> lock(mu);
          accepted.push_back(*std::move(stream));
          total_accepted.fetch_add(1);
        }
      })
      .Detach();

  // Wait until accepting stalls at the limit.
  int last = -1;
  for (int i = 0; i < 100 && total_accepted.load() != last; ++i) {
    last = total_accepted.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_LT(total_accepted.load(), kClients) << "the limit was never reached";
  // At the limit: the listener sleeps between attempts instead of spinning.
  const int64_t cpu_before = CpuMicros();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(CpuMicros() - cpu_before, 50'000) << "more than 5% of a core at the fd limit";

  // Free descriptors: accepting resumes and takes every waiting client.
  {
    std::lock_guard<std::mutex> lock(mu);
    accepted.clear();
  }
  for (int i = 0; i < 50 && total_accepted.load() < kClients; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(total_accepted.load(), kClients);

  setrlimit(RLIMIT_NOFILE, &original);
  close(hold[1]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  runtime.Shutdown();
  std::lock_guard<std::mutex> lock(mu);
  accepted.clear();
}

}  // namespace
}  // namespace coral
