// Copyright 2026 The coral Authors.
//
// IoRegistration: coral's per-fd readiness state, shared by the AsyncFd that owns the fd and the
// reactor (epoll instance) it is registered with.
//
// Readiness is edge-triggered: the reactor ORs the bits epoll reports into readiness_ and bumps a
// tick; an operation that then fails with EAGAIN clears the bit it relied on, but only if the tick
// is unchanged (ClearReadiness), so an edge that arrived in between is never lost.
//
// Lifetime. The fd is added to the epoll instance of the worker that first waits on it (or that
// calls AsyncFd::RegisterOnThisWorker, as Accept does). Closing removes it from epoll
// (EPOLL_CTL_DEL), then queues the registration on that reactor core, which frees it before a
// later poll once it sees no poll in progress. Any poll that could have fetched
// an event for it began before the removal; a poll that begins after cannot. So "no poll in
// progress, observed after the removal" means no event can still refer to it. (Other workers poll
// a busy worker's instance too, which is why a per-owner "next turn" rule would not do.)

#ifndef CORAL_RUNTIME_IO_REGISTRATION_H_
#define CORAL_RUNTIME_IO_REGISTRATION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "coral/internal/budget.h"
#include "coral/internal/intrusive_list.h"
#include "coral/internal/io_waiter.h"
#include "coral/internal/spin_lock.h"
#include "runtime/mutex.h"

namespace coral::internal {

class TaskHeader;

// The part of a reactor that registrations point to; it outlives the reactor while any
// registration does (an AsyncFd may be destroyed after its runtime).
class ReactorCore {
 public:
  // Takes ownership of `epoll_fd`.
  explicit ReactorCore(int epoll_fd) : epoll_fd_(epoll_fd) {}
  ReactorCore(const ReactorCore&) = delete;
  ReactorCore& operator=(const ReactorCore&) = delete;
  ~ReactorCore();

  int epoll_fd() const { return epoll_fd_; }
  // A hint: false only if no fd is registered (then a turn need not call epoll at all).
  bool HasRegistrations() const {
    // relaxed: a stale answer delays an event by one turn at most; parking always calls epoll.
    return live_count_.load(std::memory_order_relaxed) != 0;
  }

  // Adds `registration` to the epoll set. Returns 0, or epoll_ctl's errno (ECANCELED after
  // shutdown).
  int Add(IoRegistration* registration, int fd);
  // Removes it (if the reactor is alive) and frees it now or at the reactor's next turn.
  void RemoveAndRelease(IoRegistration* registration, int fd);
  // Every epoll_pwait2 on this instance, and the dispatch of its events, runs inside a PollScope.
  class PollScope {
   public:
    explicit PollScope(ReactorCore& core) : core_(core) {
      // seq_cst: see FreeReleased.
      core_.active_polls_.fetch_add(1);
    }
    PollScope(const PollScope&) = delete;
    PollScope& operator=(const PollScope&) = delete;
    ~PollScope() { core_.active_polls_.fetch_sub(1); }

   private:
    ReactorCore& core_;
  };

  // After a poll returned events, before dispatching them: see additions_.
  void AcquireAdditions() const {
    // acquire: pairs with Add's release (see additions_).
    (void)additions_.load(std::memory_order_acquire);
  }

  // Before a poll: frees the released registrations if no poll is in progress, else keeps them
  // for a later turn.
  void FreeReleased();
  // Shutdown: marks every registration shut down; returns the tasks that waited on them.
  std::vector<TaskHeader*> Close();

 private:
  const int epoll_fd_;
  Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Live registrations (for Close); their links are guarded by mu_ too.
  IntrusiveList<IoRegistration, ListEnds::kFrontOnly> live_ ABSL_GUARDED_BY(mu_);
  std::vector<IoRegistration*> released_ ABSL_GUARDED_BY(mu_);
  // Live plus released-but-not-freed registrations; written under mu_.
  std::atomic<int64_t> live_count_{0};
  // Polls in progress (the owner's and other workers').
  std::atomic<int> active_polls_{0};
  // Bumped (release) by Add before its EPOLL_CTL_ADD, read (acquire) by a poll that returned
  // events. The kernel already orders a registration's construction before the first event that
  // carries it, and hardware needs nothing more; but ThreadSanitizer intercepts epoll_wait, not
  // epoll_pwait2, and without this pair reports another worker's first read of a new
  // registration as a race with its allocation.
  std::atomic<uint64_t> additions_{0};
};

class IoRegistration {
 public:
  IoRegistration() = default;
  IoRegistration(const IoRegistration&) = delete;
  IoRegistration& operator=(const IoRegistration&) = delete;

  // Registers `fd` with the calling worker's reactor unless already registered. Returns 0, or
  // why it failed (an errno: see ReactorCore::Add), which RegistrationStatus describes.
  int EnsureRegistered(int fd);
  static absl::Status RegistrationStatus(int fd, int error);
  bool registered() const {
    // acquire: see EnsureRegistered.
    return registered_.load(std::memory_order_acquire);
  }

  // The readiness bits (low 16) and tick (above).
  uint64_t Readiness() const {
    // acquire: a caller that sees a bit also sees what happened before the event was recorded.
    return readiness_.load(std::memory_order_acquire);
  }
  static uint32_t Bits(uint64_t readiness) { return static_cast<uint32_t>(readiness & 0xffff); }
  // Clears `bits` if no event arrived since `observed` was read. Returns false if one did.
  bool ClearReadiness(uint64_t observed, uint32_t bits);

  // Links `waiter` unless its interest is already ready; returns false (not linked) if it is.
  bool AddWaiter(IoWaiter* waiter);
  // Unlinks `waiter` if it is still linked; returns true if it was (the caller owns the
  // waiter's task reference again).
  bool RemoveWaiter(IoWaiter* waiter);

  // Reactor: records `bits` and returns (appends to `woken`) the waiters they satisfy.
  void SetReadiness(uint32_t bits, std::vector<TaskHeader*>* woken);

  // The owner closes the fd: deregisters, then frees this object (now or later). Aborts if the
  // fd is Awaited().
  void Release(int fd);

  // A task waits on the fd, or is in a budget yield inside an await on it.
  bool Awaited();

  // The tasks in a budget yield inside an await on the fd (coral/internal/budget.h): waiters too.
  BudgetYielders* budget_yielders() { return &budget_yielders_; }

 private:
  friend class ReactorCore;

  friend class IntrusiveList<IoRegistration, ListEnds::kFrontOnly>;

  // One per connection, so the layout is packed: 56 bytes, a 64-byte malloc chunk (with a
  // std::mutex for register_lock_ it was 104 bytes, a 112-byte chunk).
  //
  // Bits in the low 16, a tick counting events above.
  std::atomic<uint64_t> readiness_{0};
  SpinLock lock_;
  // Set once, by the first EnsureRegistered; the lock serializes racing first calls (rare: a
  // reader and a writer first waiting at the same moment; held across one epoll_ctl) and
  // registered_ lets every later call skip it.
  std::atomic<bool> registered_{false};
  SpinLock register_lock_;
  // In ReactorCore::live_ (the list's flag), guarded by that core's mu_. In padding, as is:
  bool linked = false;
  BudgetYielders budget_yielders_;
  // Order does not matter (SetReadiness visits them all), the size does: no tail pointer.
  IntrusiveList<IoWaiter, ListEnds::kFrontOnly> waiters_ ABSL_GUARDED_BY(lock_);
  std::shared_ptr<ReactorCore> core_ ABSL_GUARDED_BY(register_lock_);
  // ReactorCore::live_ links, guarded by that core's mu_.
  IoRegistration* prev = nullptr;
  IoRegistration* next = nullptr;
};
static_assert(kModelCheck || sizeof(IoRegistration) == 56,
              "one per connection: keep it in a 64-byte chunk");

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_IO_REGISTRATION_H_
