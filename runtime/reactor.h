// Copyright 2026 The coral Authors.
//
// Reactor: a worker's epoll instance, its eventfd, its timers, and parking. The worker sleeps in
// the reactor (epoll_pwait2 with the next timer's deadline as timeout); a remote Unpark writes the
// eventfd. A notification that arrives before the worker parks is remembered, so it is never lost.
// Every turn (parked or not) wakes the tasks whose fds became ready and whose timers expired.
// Timers run on the runtime's Clock; a paused clock's timers fire only when the scheduler
// advances it (scheduler.cc, "Timers and the clock"), never in a turn, and a park then has no
// timeout.

#ifndef CORAL_RUNTIME_REACTOR_H_
#define CORAL_RUNTIME_REACTOR_H_

#include <atomic>
#include <memory>
#include <vector>

#include "coral/internal/task_header.h"
#include "runtime/clock.h"
#include "runtime/io_registration.h"
#include "runtime/timer_queue.h"

namespace coral::internal {

class Reactor {
 public:
  // The most fd events one turn takes.
  static constexpr int kMaxEvents = 256;

  // `shuffle_wakes`: a seeded schedule's; a turn's wakes are shuffled by the polling worker's
  // generator ("Seeded schedules and the deterministic mode" in scheduler.cc).
  Reactor(const Clock* clock, bool shuffle_wakes);
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;
  ~Reactor();

  // Owner only. Sleeps until Unpark (possibly one that came before this call), an fd event, or the
  // next timer's deadline; then wakes the tasks that became ready. May return spuriously.
  void Park();
  // Owner only. Wakes the tasks whose fds or timers are ready, taking at most `max_events` fd
  // events (the rest stay in the epoll ready list for the next poll), without sleeping. Returns
  // how many tasks it woke.
  int Poll(int max_events);
  // Another worker with nothing to do: wakes (onto the calling worker) the tasks whose fds or
  // timers on this reactor are ready, without sleeping. `scratch` is the caller's own buffer.
  // Returns how many tasks it woke.
  int PollFromOtherWorker(std::vector<TaskHeader*>* scratch);
  // Any thread.
  void Unpark();

  TimerQueue& timers() { return timers_; }
  // Any thread: whether some fd is registered or some timer armed here (a hint).
  bool HasPendingWaits() { return core_->HasRegistrations() || timers_.size() > 0; }
  const std::shared_ptr<ReactorCore>& core() const { return core_; }

  // Shutdown, after the workers stopped: wakes (and so tears down) every task still waiting on
  // this reactor's fds and timers; later registrations fail.
  void Shutdown();

 private:
  enum : int { kEmpty, kParked, kNotified };

  // One epoll_pwait2 with `timeout_ns` (-1: forever) and the dispatch of what it returned into
  // `woken`. Only the owner (`owner`) consumes the eventfd: another worker leaves the
  // notification for the owner, which may be asleep in epoll_pwait2 on the same instance.
  int Turn(int64_t timeout_ns, bool owner, int max_events, std::vector<TaskHeader*>* woken);
  // Fires the expired timers, unless the clock is paused. Returns how many.
  int FireExpiredTimers();

  const Clock* const clock_;
  const bool shuffle_wakes_;
  int event_fd_ = -1;
  std::shared_ptr<ReactorCore> core_;
  TimerQueue timers_;
  std::atomic<int> state_{kEmpty};
  std::vector<TaskHeader*> woken_;  // The owner's scratch buffer, reused across turns.
};

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_REACTOR_H_
