// Copyright 2026 The coral Authors.
//
// Smoke tests of graceful_shutdown: on SIGTERM it stops accepting, answers every request it had
// received, says bye and exits 0; when the drain deadline passes first, it cuts the work off and
// still exits 0.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "examples/example_test_util.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"

namespace coral::examples {
namespace {

void Send(int fd, const std::string& data) {
  ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

// Everything the server sends until it closes the connection.
std::string ReadToEnd(int fd) {
  std::string all;
  char buffer[1024];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof(buffer))) > 0;) all.append(buffer, n);
  ::close(fd);
  return all;
}

// Starts the service and reads its port from the first line.
Subprocess StartService(const std::vector<std::string>& args, int* port) {
  absl::StatusOr<Subprocess> service = Subprocess::Start("examples/graceful_shutdown", args, {});
  EXPECT_TRUE(service.ok()) << service.status();
  std::optional<std::string> first = service->ReadLine();
  EXPECT_TRUE(first.has_value());
  std::printf("%s\n", first.value_or("").c_str());
  const size_t colon = first.value_or("").find("127.0.0.1:");
  EXPECT_NE(colon, std::string::npos);
  const std::string rest = first->substr(colon + 10);
  EXPECT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(' ')), port)) << *first;
  return *std::move(service);
}

// Reads the service's lines until one contains `text`; returns everything read.
std::string ReadUntil(Subprocess& service, const std::string& text, int times = 1) {
  std::string seen;
  int found = 0;
  while (found < times) {
    std::optional<std::string> line = service.ReadLine();
    if (!line) break;
    std::printf("%s\n", line->c_str());
    absl::StrAppend(&seen, *line, "\n");
    if (absl::StrContains(*line, text)) ++found;
  }
  return seen;
}

TEST(GracefulShutdown, SigtermDrainsEveryReceivedRequestAndExitsZero) {
  int port = 0;
  Subprocess service = StartService({"--work=200ms", "--drain_timeout=10s"}, &port);
  std::vector<int> clients;
  for (int i = 1; i <= 3; ++i) {
    clients.push_back(ConnectLoopback(port));
    ASSERT_GE(clients.back(), 0) << std::strerror(errno);
    Send(clients.back(), absl::StrCat("c", i, "-first\nc", i, "-second\n"));
  }
  // All six requests are in the service's hands (and the first ones being worked on).
  ReadUntil(service, ": received \"", 6);

  ASSERT_EQ(::kill(service.pid(), SIGTERM), 0);
  std::string log = ReadUntil(service, "stopped accepting");
  // The listening socket is closed: a new client is refused.
  EXPECT_EQ(ConnectLoopback(port), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
  // Every client gets both answers, in order, then the goodbye, then end of stream.
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(ReadToEnd(clients[i - 1]),
              absl::StrCat("done: c", i, "-first\ndone: c", i, "-second\n",
                           "bye: the server is shutting down\n"));
  }
  const std::string rest = service.ReadToEnd();
  std::printf("%s", rest.c_str());
  log += rest;
  absl::StatusOr<Subprocess::Exit> exit = service.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited_ok()) << exit->Describe();
  EXPECT_NE(log.find("received SIGTERM: draining 3 connections"), std::string::npos) << log;
  EXPECT_NE(log.find("shutdown: 3 connections drained, 0 cut off at the deadline, 6 requests "
                     "answered"),
            std::string::npos)
      << log;
}

TEST(GracefulShutdown, TheDrainDeadlineCutsOffWorkInProgress) {
  int port = 0;
  Subprocess service = StartService({"--work=30s", "--drain_timeout=300ms"}, &port);
  const int client = ConnectLoopback(port);
  ASSERT_GE(client, 0) << std::strerror(errno);
  Send(client, "endless\n");
  ReadUntil(service, ": received \"endless\"");
  ASSERT_EQ(::kill(service.pid(), SIGTERM), 0);
  // No answer: the connection is closed when its work is cut off.
  EXPECT_EQ(ReadToEnd(client), "");
  const std::string log = service.ReadToEnd();
  std::printf("%s", log.c_str());
  absl::StatusOr<Subprocess::Exit> exit = service.Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_TRUE(exit->exited_ok()) << exit->Describe();
  EXPECT_NE(log.find("the drain deadline passed"), std::string::npos) << log;
  EXPECT_NE(log.find("cut off while working on \"endless\""), std::string::npos) << log;
  EXPECT_NE(log.find("shutdown: 0 connections drained, 1 cut off at the deadline, 0 requests "
                     "answered"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace coral::examples
