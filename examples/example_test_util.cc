// Copyright 2026 The coral Authors.

#include "examples/example_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "absl/status/statusor.h"
#include "examples/subprocess.h"
#include "gtest/gtest.h"

namespace coral::examples {

std::optional<std::string> RunToEnd(const std::string& binary,
                                    const std::vector<std::string>& args) {
  absl::StatusOr<Subprocess> example = Subprocess::Start(binary, args, {});
  if (!example.ok()) {
    ADD_FAILURE() << binary << ": " << example.status();
    return std::nullopt;
  }
  std::string output = example->ReadToEnd();
  absl::StatusOr<Subprocess::Exit> exit = example->Wait();
  if (!exit.ok()) {
    ADD_FAILURE() << binary << ": " << exit.status();
    return std::nullopt;
  }
  std::printf("%s", output.c_str());
  EXPECT_TRUE(exit->exited_ok()) << binary << ": " << exit->Describe();
  return output;
}

int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  const timeval timeout{.tv_sec = 20, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

}  // namespace coral::examples
