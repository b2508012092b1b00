// Copyright 2026 The coral Authors.

#include "coral/async_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduling.h"
#include "runtime/io_registration.h"
#include "runtime/scheduler.h"

namespace coral {
namespace internal {

absl::Status ErrnoStatus(int error, const char* operation) {
  return absl::Status(absl::ErrnoToStatusCode(error),
                      absl::StrCat(operation, ": ", std::strerror(error)));
}

namespace {

uint32_t InterestBits(Interest interest) {
  return interest == Interest::kRead ? readiness::kReadInterest : readiness::kWriteInterest;
}

}  // namespace

ReadinessAwaiter::ReadinessAwaiter(AsyncFd* fd, Interest interest) : fd_(fd) {
  CORAL_CHECK(fd_->registration_ != nullptr, "readiness awaited on a closed or moved-from AsyncFd");
  waiter_.interest = static_cast<uint16_t>(InterestBits(interest));
}

ReadinessAwaiter::~ReadinessAwaiter() {
  Disarm();  // The callback is not running after this.
  // Destroyed while waiting: the task is being torn down; take our waker reference back.
  if (waiter_.owner_waiting && registration()->RemoveWaiter(&waiter_)) {
    waiter_.task->DropReference();
  }
}

BudgetYielders* ReadinessAwaiter::budget_yielders() const {
  return registration()->budget_yielders();
}

IoRegistration* ReadinessAwaiter::registration() const {
  CORAL_CHECK(fd_->registration_ != nullptr, "an AsyncFd moved or closed while a task waits on it");
  return fd_->registration_;
}

bool ReadinessAwaiter::await_ready() {
  waiter_.owner_register_error = registration()->EnsureRegistered(fd_->fd_);
  if (waiter_.owner_register_error != 0) return true;
  return IoRegistration::Bits(registration()->Readiness()) & waiter_.interest;
}

bool ReadinessAwaiter::await_suspend(std::coroutine_handle<> self) {
  TaskHeader* task = CurrentTask();
  CORAL_CHECK(task != nullptr, "AsyncFd readiness awaited outside a coral task");
  task->set_resume_point(self);
  return Suspend(task);
}

bool ReadinessAwaiter::Suspend(TaskHeader* task) {
  if (CancellableWait::AlreadyCancelled(task)) {
    MarkCancelled();
    return false;
  }
  task->AddReference();  // The waker reference the reactor hands back when it wakes us.
  waiter_.task = task;
  if (!registration()->AddWaiter(&waiter_)) {
    task->DropReference();
    return false;
  }
  waiter_.owner_waiting = true;
  Arm(task, &OnCancel);
  return true;
}

void ReadinessAwaiter::OnCancel(CancellationNode* node) {
  auto* self = static_cast<ReadinessAwaiter*>(FromNode(node));
  if (self->registration()->RemoveWaiter(&self->waiter_)) {
    self->MarkCancelled(self->waiter_.task);
    Wake(self->waiter_.task);  // The waker reference, taken back from the registration.
  }
}

absl::StatusOr<Readiness> ReadinessAwaiter::await_resume() {
  waiter_.owner_waiting = false;
  Disarm();
  if (cancelled()) return absl::CancelledError("the waiting task was cancelled");
  if (waiter_.owner_register_error != 0) {
    return IoRegistration::RegistrationStatus(fd_->fd_, waiter_.owner_register_error);
  }
  const uint64_t snapshot = registration()->Readiness();
  if (IoRegistration::Bits(snapshot) & readiness::kShutdown) {
    return absl::CancelledError("the coral runtime is shut down");
  }
  return Readiness(snapshot);
}

void ReadinessAwaiter::Restart() {
  Reset();
  waiter_.owner_register_error = 0;
}

}  // namespace internal

absl::StatusOr<AsyncFd> AsyncFd::Create(int fd) {
  if (fd < 0) return absl::InvalidArgumentError("AsyncFd::Create: negative fd");
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int error = errno;
    ::close(fd);
    return internal::ErrnoStatus(error, "fcntl(O_NONBLOCK)");
  }
  return AsyncFd(fd);
}

AsyncFd::AsyncFd(int fd) : fd_(fd), registration_(new internal::IoRegistration()) {}

// A task awaiting `other` holds its address, which is about to own nothing (and may be freed).
AsyncFd::AsyncFd(AsyncFd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      registration_(std::exchange(other.registration_, nullptr)) {
  CORAL_CHECK(registration_ == nullptr || !registration_->Awaited(),
              "an AsyncFd moved or closed while a task waits on it");
}

AsyncFd& AsyncFd::operator=(AsyncFd&& other) noexcept {
  if (this != &other) {
    CORAL_CHECK(other.registration_ == nullptr || !other.registration_->Awaited(),
                "an AsyncFd moved or closed while a task waits on it");
    Close();
    fd_ = std::exchange(other.fd_, -1);
    registration_ = std::exchange(other.registration_, nullptr);
  }
  return *this;
}

Readiness AsyncFd::CurrentReadiness() const {
  CORAL_CHECK(registration_ != nullptr,
              "CurrentReadiness on a closed or moved-from coral::AsyncFd");
  return Readiness(registration_->Readiness());
}

void AsyncFd::ClearReady(Readiness observed, Interest interest) {
  CORAL_CHECK(registration_ != nullptr, "ClearReady on a closed or moved-from coral::AsyncFd");
  registration_->ClearReadiness(observed.snapshot_, interest == Interest::kRead
                                                        ? internal::readiness::kReadable
                                                        : internal::readiness::kWritable);
}

bool AsyncFd::ShouldAttempt(Readiness seen, Interest interest) const {
  return !registration_->registered() || (seen.bits() & internal::InterestBits(interest));
}

absl::Status AsyncFd::RegisterOnThisWorker() {
  CORAL_CHECK(registration_ != nullptr,
              "RegisterOnThisWorker on a closed or moved-from coral::AsyncFd");
  return internal::IoRegistration::RegistrationStatus(fd_, registration_->EnsureRegistered(fd_));
}

void AsyncFd::Close() {
  if (fd_ < 0) return;
  registration_->Release(fd_);
  registration_ = nullptr;
  ::close(std::exchange(fd_, -1));
}

int AsyncFd::Release() {
  if (fd_ >= 0) {
    registration_->Release(fd_);
    registration_ = nullptr;
  }
  return std::exchange(fd_, -1);
}

}  // namespace coral
