// Copyright 2026 The coral Authors.
//
// A child process for the examples and their smoke tests: started with posix_spawn (safe in a
// process that already runs threads), its stdin a pipe from this process, its stdout a pipe to
// this process or this process's own stdout, its stderr this process's.

#ifndef CORAL_EXAMPLES_SUBPROCESS_H_
#define CORAL_EXAMPLES_SUBPROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coral::examples {

class Subprocess {
 public:
  struct Options {
    // Whether the child's stdout comes to ReadLine (else it shares this process's stdout).
    bool capture_stdout = true;
  };

  // How the child ended: its wait status and the CPU it used (wait4's rusage).
  struct Exit {
    int status = 0;
    rusage usage{};

    bool exited_ok() const;
    double cpu_seconds() const;
    std::string Describe() const;  // "exit 0", "exit 3", "killed by signal 9".
  };

  // Runs `binary` with `args` as argv[1..].
  static absl::StatusOr<Subprocess> Start(const std::string& binary,
                                          const std::vector<std::string>& args, Options options);
  // The running program's own binary (/proc/self/exe), to run itself in another role.
  static std::string SelfPath();

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // A child not yet waited for is killed (SIGKILL) and reaped.
  ~Subprocess();

  pid_t pid() const { return pid_; }

  // The next line of the child's captured stdout, without its newline; nullopt at end of stream.
  std::optional<std::string> ReadLine();
  // Everything the child writes to stdout from here to its end.
  std::string ReadToEnd();
  // Closes the child's stdin: it reads end of stream.
  void CloseStdin();
  // Waits for the child to end (closing its stdin first).
  absl::StatusOr<Exit> Wait();

 private:
  Subprocess(pid_t pid, int stdin_fd, int stdout_fd)
      : pid_(pid), stdin_fd_(stdin_fd), stdout_fd_(stdout_fd) {}

  pid_t pid_ = -1;  // -1 once waited for.
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;  // Read from stdout_fd_, not yet returned.
};

}  // namespace coral::examples

#endif  // CORAL_EXAMPLES_SUBPROCESS_H_
