// Copyright 2026 The coral Authors.
//
// Parker: where an idle worker sleeps. Each worker owns an epoll instance (its reactor, which
// issue #3 fills with sockets and timers) watching an eventfd; parking is epoll_wait, and a remote
// Unpark writes the eventfd. A notification that arrives before Park is remembered, so it is never
// lost.

#ifndef CORAL_RUNTIME_PARKER_H_
#define CORAL_RUNTIME_PARKER_H_

#include <atomic>

namespace coral::internal {

class Parker {
 public:
  Parker();
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;
  ~Parker();

  // Owner only. Sleeps until Unpark (possibly one that came before this call) or any event on the
  // epoll instance. May return spuriously.
  void Park();
  // Any thread.
  void Unpark();

  int epoll_fd() const { return epoll_fd_; }

 private:
  enum : int { kEmpty, kParked, kNotified };

  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::atomic<int> state_{kEmpty};
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_PARKER_H_
