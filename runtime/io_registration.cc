// Copyright 2026 The coral Authors.

#include "runtime/io_registration.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/internal/task_header.h"
#include "runtime/scheduler.h"

namespace coral::internal {

// --- ReactorCore --------------------------------------------------------------------------------

ReactorCore::~ReactorCore() { close(epoll_fd_); }

int ReactorCore::Add(IoRegistration* registration, int fd) {
  MutexLock lock(&mu_);
  if (closed_) return ECANCELED;
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.ptr = registration;
  additions_.fetch_add(1, std::memory_order_release);  // release: see additions_.
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return errno;
  live_.PushFront(registration);
  // relaxed: a hint (see HasRegistrations), written under mu_.
  live_count_.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void ReactorCore::RemoveAndRelease(IoRegistration* registration, int fd) {
  MutexLock lock(&mu_);
  if (closed_) {
    delete registration;  // No reactor turns any more, so no event can refer to it.
    return;
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  live_.Remove(registration);
  released_.push_back(registration);
}

void ReactorCore::FreeReleased() {
  std::vector<IoRegistration*> released;
  {
    MutexLock lock(&mu_);
    if (released_.empty()) return;
    // seq_cst (with PollScope's RMWs): this load follows every listed EPOLL_CTL_DEL; zero means
    // every poll that began before them has finished dispatching. The caller is not polling yet.
    if (active_polls_.load() != 0) return;
    released.swap(released_);
  }
  for (IoRegistration* registration : released) delete registration;
  // relaxed: a hint (see HasRegistrations).
  live_count_.fetch_sub(static_cast<int64_t>(released.size()), std::memory_order_relaxed);
}

std::vector<TaskHeader*> ReactorCore::Close() {
  std::vector<TaskHeader*> woken;
  std::vector<IoRegistration*> released;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    while (IoRegistration* registration = live_.PopFront()) {
      registration->SetReadiness(readiness::kShutdown, &woken);
    }
    released.swap(released_);
  }
  for (IoRegistration* registration : released) delete registration;
  return woken;
}

// --- IoRegistration -----------------------------------------------------------------------------

int IoRegistration::EnsureRegistered(int fd) {
  // acquire: pairs with the release below; a caller that sees true sees core_ set.
  if (registered_.load(std::memory_order_acquire)) return 0;
  SpinLockHolder hold(&register_lock_);
  if (core_ != nullptr) return 0;
  std::shared_ptr<ReactorCore> core = CurrentReactorCore();
  CORAL_CHECK(core != nullptr, "coral I/O awaited outside a coral worker");
  if (const int error = core->Add(this, fd); error != 0) return error;
  core_ = std::move(core);
  registered_.store(true, std::memory_order_release);  // release: see the acquire above.
  return 0;
}

absl::Status IoRegistration::RegistrationStatus(int fd, int error) {
  if (error == 0) return absl::OkStatus();
  if (error == ECANCELED) return absl::CancelledError("the runtime is shut down");
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat("epoll_ctl(ADD) of fd ", fd, ": ", strerror(error)));
}

bool IoRegistration::ClearReadiness(uint64_t observed, uint32_t bits) {
  // acq_rel on success: orders the clear with the events recorded around it; relaxed on failure:
  // the caller just retries its operation.
  return readiness_.compare_exchange_strong(observed, observed & ~static_cast<uint64_t>(bits),
                                            std::memory_order_acq_rel, std::memory_order_relaxed);
}

bool IoRegistration::AddWaiter(IoWaiter* waiter) {
  SpinLockHolder hold(&lock_);
  // Checked under the lock that SetReadiness takes after recording bits: either we see the bits,
  // or SetReadiness sees the linked waiter.
  if (Bits(readiness_.load(std::memory_order_acquire)) & waiter->interest) return false;
  waiters_.PushFront(waiter);
  return true;
}

bool IoRegistration::RemoveWaiter(IoWaiter* waiter) {
  SpinLockHolder hold(&lock_);
  if (!waiter->linked) return false;
  waiters_.Remove(waiter);
  return true;
}

void IoRegistration::SetReadiness(uint32_t bits, std::vector<TaskHeader*>* woken) {
  constexpr uint64_t kTickOne = 1 << 16;
  // acq_rel: release publishes the event to tasks that read readiness_ (acquire). The bits and
  // the tick share one word, so OR-and-increment is a CAS loop; its seed load and failure order
  // are relaxed because a stale value only makes the CAS retry.
  uint64_t current = readiness_.load(std::memory_order_relaxed);
  while (!readiness_.compare_exchange_weak(current, (current | bits) + kTickOne,
                                           std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
  SpinLockHolder hold(&lock_);
  for (IoWaiter* waiter : waiters_) {
    if (waiter->interest & bits) {
      waiters_.Remove(waiter);
      // The waiter's reference passes to the caller; the waiter itself must not be touched
      // again (its task may be torn down as soon as we unlock).
      woken->push_back(waiter->task);
    }
  }
}

bool IoRegistration::Awaited() {
  SpinLockHolder hold(&lock_);
  return !waiters_.empty() || !budget_yielders_.none();
}

void IoRegistration::Release(int fd) {
  LetBorrowersGoAtShutdown([this] { return Awaited(); });
  CORAL_CHECK(!Awaited(), "an AsyncFd was closed while a task was waiting on it");
  std::shared_ptr<ReactorCore> core;
  {
    SpinLockHolder hold(&register_lock_);
    core = core_;
  }
  if (core == nullptr) {
    delete this;
    return;
  }
  core->RemoveAndRelease(this, fd);
}

}  // namespace coral::internal
