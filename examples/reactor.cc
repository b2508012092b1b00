// Copyright 2026 The coral Authors.
//
// reactor: the event loop under coral's tasks. Three kinds of file descriptor, each wrapped in a
// coral::AsyncFd and watched by a task of its own, on a runtime of one worker: a pipe fed by
// another thread, an eventfd that thread signals, and a periodic timerfd. The worker's reactor
// (one epoll set) waits for all three at once; whichever becomes readable wakes the task watching
// it, which reads what arrived and prints it, with the time since the start. No thread blocks in
// read(): the fds are non-blocking and each task suspends until its fd is ready.
//
//   bazel/bazelw run //examples:reactor -- --ticks=5 --tick=100ms --messages=3 --signals=3
//
// Worth seeing: eventfd writes that land between two reads coalesce into one counter value, and
// a timer that fired twice before it was read reports two expirations in one read.

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coral/async_fd.h"
#include "coral/runtime.h"
#include "coral/task_group.h"

ABSL_FLAG(int, ticks, 5, "timerfd expirations to wait for");
ABSL_FLAG(absl::Duration, tick, absl::Milliseconds(100), "the timerfd's period");
ABSL_FLAG(int, messages, 3, "lines the producer thread writes into the pipe");
ABSL_FLAG(int, signals, 3, "increments the producer thread adds to the eventfd");
ABSL_FLAG(absl::Duration, pace, absl::Milliseconds(70), "the producer thread's pause per step");

namespace {

const std::chrono::steady_clock::time_point kStart = std::chrono::steady_clock::now();

// Prints one event with the milliseconds since the start, noting the thread that handled it.
class EventLog {
 public:
  void Print(const std::string& event) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - kStart)
            .count();
    std::printf("[%7.1f ms] %s\n", ms, event.c_str());
    std::fflush(stdout);
    threads_.insert(static_cast<long>(::syscall(SYS_gettid)));
  }
  size_t threads() const { return threads_.size(); }

 private:
  std::set<long> threads_;  // Only the one worker writes it.
};

coral::Task<absl::Status> WatchPipe(coral::AsyncFd pipe, EventLog* log, int* messages) {
  std::string pending;
  for (;;) {
    char buffer[256];
    absl::StatusOr<size_t> n =
        co_await pipe.ReadSome([&] { return ::read(pipe.fd(), buffer, sizeof(buffer)); });
    if (!n.ok()) co_return n.status();
    if (*n == 0) {
      log->Print("pipe: end of stream (the writer closed it)");
      co_return absl::OkStatus();
    }
    pending.append(buffer, *n);
    // One read may carry several lines, or part of one.
    for (size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
      log->Print(absl::StrCat("pipe: \"", absl::string_view(pending).substr(0, newline), "\""));
      pending.erase(0, newline + 1);
      ++*messages;
    }
  }
}

coral::Task<absl::Status> WatchEventfd(coral::AsyncFd eventfd, int expected, EventLog* log,
                                       int* total) {
  while (*total < expected) {
    uint64_t counter = 0;
    absl::StatusOr<size_t> n =
        co_await eventfd.ReadSome([&] { return ::read(eventfd.fd(), &counter, sizeof(counter)); });
    if (!n.ok()) co_return n.status();
    *total += static_cast<int>(counter);
    log->Print(
        absl::StrCat("eventfd: counter ", counter, " (total ", *total, " of ", expected, ")"));
  }
  co_return absl::OkStatus();
}

coral::Task<absl::Status> WatchTimer(coral::AsyncFd timer, int ticks, EventLog* log, int* seen) {
  while (*seen < ticks) {
    uint64_t expirations = 0;
    absl::StatusOr<size_t> n = co_await timer.ReadSome(
        [&] { return ::read(timer.fd(), &expirations, sizeof(expirations)); });
    if (!n.ok()) co_return n.status();
    *seen += static_cast<int>(expirations);
    log->Print(absl::StrCat("timerfd: tick ", *seen, " (", expirations, " expiration",
                            expirations == 1 ? "" : "s", " in this read)"));
  }
  co_return absl::OkStatus();
}

struct Fds {
  int pipe_read;
  int eventfd;
  int timerfd;
};

struct Counts {
  int messages = 0;
  int signals = 0;
  int ticks = 0;
};

coral::Task<absl::Status> EventLoop(Fds fds, EventLog* log, Counts* counts) {
  absl::StatusOr<coral::AsyncFd> pipe = coral::AsyncFd::Create(fds.pipe_read);
  absl::StatusOr<coral::AsyncFd> eventfd = coral::AsyncFd::Create(fds.eventfd);
  absl::StatusOr<coral::AsyncFd> timer = coral::AsyncFd::Create(fds.timerfd);
  if (!pipe.ok()) co_return pipe.status();
  if (!eventfd.ok()) co_return eventfd.status();
  if (!timer.ok()) co_return timer.status();
  coral::TaskGroup watchers;
  watchers.Spawn(WatchPipe, *std::move(pipe), log, &counts->messages);
  watchers.Spawn(WatchEventfd, *std::move(eventfd), absl::GetFlag(FLAGS_signals), log,
                 &counts->signals);
  watchers.Spawn(WatchTimer, *std::move(timer), absl::GetFlag(FLAGS_ticks), log, &counts->ticks);
  co_return co_await watchers.Join();
}

// Another thread, as a source of events from outside the runtime: a pipe line and an eventfd
// increment per step, then the pipe closed.
void Produce(int pipe_write, int eventfd) {
  const int messages = absl::GetFlag(FLAGS_messages);
  const int signals = absl::GetFlag(FLAGS_signals);
  for (int i = 1; i <= std::max(messages, signals); ++i) {
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(absl::GetFlag(FLAGS_pace)));
    if (i <= messages) {
      const std::string line = absl::StrCat("message ", i, " from the producer thread\n");
      (void)!::write(pipe_write, line.data(), line.size());
    }
    if (i <= signals) {
      const uint64_t one = 1;
      (void)!::write(eventfd, &one, sizeof(one));
    }
  }
  ::close(pipe_write);
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  int pipe_fds[2];
  const int eventfd = ::eventfd(0, EFD_CLOEXEC);
  const int timerfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0 || eventfd < 0 || timerfd < 0) {
    std::perror("reactor: creating the fds");
    return 1;
  }
  const timespec period = absl::ToTimespec(absl::GetFlag(FLAGS_tick));
  const itimerspec every{.it_interval = period, .it_value = period};
  ::timerfd_settime(timerfd, 0, &every, nullptr);
  std::printf(
      "one worker waits on a pipe, an eventfd and a timerfd (every %s); a producer "
      "thread writes %d lines and %d increments\n",
      absl::FormatDuration(absl::GetFlag(FLAGS_tick)).c_str(), absl::GetFlag(FLAGS_messages),
      absl::GetFlag(FLAGS_signals));

  EventLog log;
  Counts counts;
  absl::Status status;
  {
    coral::Runtime runtime({.num_workers = 1});
    std::thread producer(Produce, pipe_fds[1], eventfd);
    status = runtime.BlockOn(EventLoop({pipe_fds[0], eventfd, timerfd}, &log, &counts));
    producer.join();
  }
  if (!status.ok()) {
    std::fprintf(stderr, "reactor: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf(
      "done: %d timer ticks, %d pipe lines and end of stream, %d eventfd increments; "
      "handled on %zu thread(s)\n",
      counts.ticks, counts.messages, counts.signals, log.threads());
  return 0;
}
