// Copyright 2026 The coral Authors.

#include "examples/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace coral::examples {
namespace {

absl::Status ErrnoError(int error, const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

void CloseIfOpen(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

bool Subprocess::Exit::exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

double Subprocess::Exit::cpu_seconds() const {
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Subprocess::Exit::Describe() const {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

absl::StatusOr<Subprocess> Subprocess::Start(const std::string& binary,
                                             const std::vector<std::string>& args,
                                             Options options) {
  int in[2];
  int out[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2");
  if (options.capture_stdout && ::pipe2(out, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(in[0]);
    ::close(in[1]);
    return ErrnoError(error, "pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  if (options.capture_stdout) posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);

  std::vector<std::string> owned = {binary};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid;
  const int error = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  if (out[1] >= 0) ::close(out[1]);
  if (error != 0) {
    ::close(in[1]);
    if (out[0] >= 0) ::close(out[0]);
    return ErrnoError(error, "posix_spawn");
  }
  return Subprocess(pid, in[1], out[0]);
}

std::string Subprocess::SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : std::string();
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_fd_(std::exchange(other.stdin_fd_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      buffered_(std::move(other.buffered_)) {}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  CloseIfOpen(stdin_fd_);
  CloseIfOpen(stdout_fd_);
}

std::optional<std::string> Subprocess::ReadLine() {
  for (;;) {
    const size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    char chunk[4096];
    const ssize_t n = stdout_fd_ < 0 ? 0 : ::read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (buffered_.empty()) return std::nullopt;
      return std::exchange(buffered_, std::string());  // A last line without a newline.
    }
    buffered_.append(chunk, n);
  }
}

std::string Subprocess::ReadToEnd() {
  std::string all;
  while (std::optional<std::string> line = ReadLine()) absl::StrAppend(&all, *line, "\n");
  return all;
}

void Subprocess::CloseStdin() { CloseIfOpen(stdin_fd_); }

absl::StatusOr<Subprocess::Exit> Subprocess::Wait() {
  if (pid_ < 0) return absl::FailedPreconditionError("the child was already waited for");
  CloseStdin();
  Exit exit;
  while (::wait4(pid_, &exit.status, 0, &exit.usage) < 0) {
    if (errno != EINTR) return ErrnoError(errno, "wait4");
  }
  pid_ = -1;
  return exit;
}

}  // namespace coral::examples
