// Copyright 2026 The coral Authors.

#include "runtime/reactor.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/scheduler.h"

namespace coral::internal {
namespace {

[[noreturn]] void FatalErrno(const char* what) {
  std::fprintf(stderr, "coral: %s failed: %s\n", what, std::strerror(errno));
  std::abort();
}

uint32_t ReadinessBits(uint32_t events) {
  uint32_t bits = 0;
  if (events & EPOLLIN) bits |= readiness::kReadable;
  if (events & EPOLLOUT) bits |= readiness::kWritable;
  if (events & EPOLLRDHUP) bits |= readiness::kReadClosed;
  if (events & EPOLLHUP) bits |= readiness::kHangUp;
  if (events & EPOLLERR) bits |= readiness::kError;
  return bits;
}

// epoll_pwait2 (Linux 5.11) takes a nanosecond timeout. Where it is missing (older kernels, and
// tools such as valgrind 3.19 that do not know the system call), epoll_wait with the timeout
// rounded up to whole milliseconds does the same job, 1 ms coarser.
std::atomic<bool> have_epoll_pwait2{true};

int Wait(int epoll_fd, epoll_event* events, int max_events, int64_t timeout_ns) {
  // relaxed: a capability flag; every thread may discover ENOSYS on its own.
  if (have_epoll_pwait2.load(std::memory_order_relaxed)) {
    timespec timeout{};
    if (timeout_ns >= 0) {
      timeout.tv_sec = timeout_ns / 1'000'000'000;
      timeout.tv_nsec = timeout_ns % 1'000'000'000;
    }
    const int n =
        epoll_pwait2(epoll_fd, events, max_events, timeout_ns >= 0 ? &timeout : nullptr, nullptr);
    if (n >= 0 || errno != ENOSYS) return n;
    have_epoll_pwait2.store(false, std::memory_order_relaxed);
  }
  const int timeout_ms =
      timeout_ns < 0
          ? -1
          : static_cast<int>(std::min<int64_t>((timeout_ns + 999'999) / 1'000'000, INT32_MAX));
  return epoll_wait(epoll_fd, events, max_events, timeout_ms);
}

}  // namespace

Reactor::Reactor(const Clock* clock, bool shuffle_wakes)
    : clock_(clock), shuffle_wakes_(shuffle_wakes) {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) FatalErrno("epoll_create1");
  core_ = std::make_shared<ReactorCore>(epoll_fd);
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) FatalErrno("eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // Registrations are never null: null means the eventfd.
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, event_fd_, &event) != 0) FatalErrno("epoll_ctl");
}

Reactor::~Reactor() { close(event_fd_); }

int Reactor::Turn(int64_t timeout_ns, bool owner, int max_events, std::vector<TaskHeader*>* woken) {
  core_->FreeReleased();
  epoll_event events[kMaxEvents];
  woken->clear();
  {
    ReactorCore::PollScope scope(*core_);
    int n;
    do {
      n = Wait(core_->epoll_fd(), events, std::clamp(max_events, 1, kMaxEvents), timeout_ns);
    } while (n < 0 && errno == EINTR);
    if (n < 0) FatalErrno("epoll_pwait2");
    if (n > 0) core_->AcquireAdditions();
    for (int i = 0; i < n; ++i) {
      auto* registration = static_cast<IoRegistration*>(events[i].data.ptr);
      if (registration == nullptr) {
        // Resets the counter; EAGAIN (already read) is fine. The eventfd is level-triggered, so
        // when another worker skips it here the owner still sees it.
        if (owner) {
          uint64_t count;
          [[maybe_unused]] ssize_t r = read(event_fd_, &count, sizeof(count));
        }
        continue;
      }
      registration->SetReadiness(ReadinessBits(events[i].events), woken);
    }
  }
  if (shuffle_wakes_ && woken->size() > 1) {
    if (Worker* worker = CurrentWorker()) worker->ShuffleWoken(woken);
  }
  for (TaskHeader* task : *woken) Wake(task);
  return static_cast<int>(woken->size()) + FireExpiredTimers();
}

int Reactor::FireExpiredTimers() {
  if (clock_->paused()) return 0;
  return timers_.FireExpired(clock_->Now());
}

int Reactor::Poll(int max_events) {
  if (core_->HasRegistrations()) return Turn(0, /*owner=*/true, max_events, &woken_);
  core_->FreeReleased();
  return FireExpiredTimers();
}

int Reactor::PollFromOtherWorker(std::vector<TaskHeader*>* scratch) {
  if (core_->HasRegistrations()) return Turn(0, /*owner=*/false, kMaxEvents, scratch);
  return FireExpiredTimers();
}

void Reactor::Park() {
  int expected = kEmpty;
  // acq_rel: acquire pairs with Unpark's release (a consumed notification makes the notifier's
  // writes visible); release is harmless.
  if (!state_.compare_exchange_strong(expected, kParked, std::memory_order_acq_rel)) {
    state_.store(kEmpty, std::memory_order_relaxed);  // relaxed: only the owner writes kEmpty.
    Poll(kMaxEvents);
    return;
  }
  int64_t timeout_ns = -1;
  std::optional<Instant> deadline;
  if (!clock_->paused()) deadline = timers_.NextDeadline();
  if (deadline.has_value() && *deadline != Instant::InfiniteFuture()) {
    timeout_ns = std::max<int64_t>(0, absl::ToInt64Nanoseconds(*deadline - clock_->Now()));
  }
  Turn(timeout_ns, /*owner=*/true, kMaxEvents, &woken_);
  // acquire: pairs with Unpark's release.
  state_.exchange(kEmpty, std::memory_order_acquire);
}

void Reactor::Unpark() {
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

void Reactor::Shutdown() {
  for (TaskHeader* task : core_->Close()) Wake(task);
  timers_.FireAll();
}

}  // namespace coral::internal
