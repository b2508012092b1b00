// Copyright 2026 The coral Authors.

#include "runtime/parker.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "coral/internal/check.h"

namespace coral::internal {
namespace {

[[noreturn]] void FatalErrno(const char* what) {
  std::fprintf(stderr, "coral: %s failed: %s\n", what, std::strerror(errno));
  std::abort();
}

}  // namespace

Parker::Parker() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) FatalErrno("epoll_create1");
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) FatalErrno("eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = event_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &event) != 0) FatalErrno("epoll_ctl");
}

Parker::~Parker() {
  close(event_fd_);
  close(epoll_fd_);
}

void Parker::Park() {
  int expected = kEmpty;
  // acq_rel: acquire pairs with Unpark's release (a consumed notification makes the notifier's
  // writes visible); release is harmless.
  if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_acq_rel)) {
    // A notification arrived first; consume it.
    state_.store(kEmpty, std::memory_order_relaxed);  // relaxed: only the owner writes kEmpty.
    return;
  }
  epoll_event events[8];
  int n;
  do {
    n = epoll_wait(epoll_fd_, events, 8, -1);
  } while (n < 0 && errno == EINTR);
  if (n < 0) FatalErrno("epoll_wait");
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == event_fd_) {
      uint64_t count;
      // Resets the counter; EAGAIN (already read) is fine.
      [[maybe_unused]] ssize_t r = read(event_fd_, &count, sizeof(count));
    }
  }
  // acquire: pairs with Unpark's release.
  state_.exchange(kEmpty, std::memory_order_acquire);
}

void Parker::Unpark() {
  // acq_rel: release publishes the notifier's writes (the pushed task) to the parked worker;
  // acquire orders our read of kParked before the eventfd write.
  if (state_.exchange(kNotified, std::memory_order_acq_rel) == kParked) {
    const uint64_t one = 1;
    ssize_t r;
    do {
      r = write(event_fd_, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
    // EAGAIN: the counter is saturated, so the worker is already due to wake.
    if (r < 0 && errno != EAGAIN) FatalErrno("write(eventfd)");
  }
}

}  // namespace coral::internal
