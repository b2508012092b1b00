// Copyright 2026 The coral Authors.
//
// The signal handler and the process-wide listener table behind coral::SignalListener.
//
// The handler may run on any thread, at any instruction, so it touches only the lock-free slots:
// for each slot whose `wanted` mask has the signal, it sets the signal's bit in `pending` and
// writes the slot's eventfd. Everything else (which slots are taken, how many listeners each
// signal has, the dispositions coral replaced) lives in the registry, under its mutex, and is
// touched only by Create and Stop.
//
// Closing a listener's eventfd while a handler may still write it could hit a reused fd number.
// So Stop first clears the slot's mask, then waits until no handler is running: both sides are
// seq_cst (the handler increments handlers_running and then loads the masks; Stop stores the
// mask and then loads handlers_running), so either the handler sees the cleared mask or Stop
// sees the handler and waits for it. Only then is the eventfd closed and the slot reused.

#include "coral/signal.h"

#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/mutex.h"

namespace coral {
namespace {

// Lock-free: what the handler reads and writes.
struct Slot {
  std::atomic<uint64_t> wanted{0};   // Bit s-1 for signal s.
  std::atomic<uint64_t> pending{0};  // Arrived and not yet taken by Next.
  std::atomic<int> event_fd{-1};
};
std::array<Slot, SignalListener::kMaxListeners> slots;
std::atomic<int> handlers_running{0};

// Signals 1..kMaxSignal fit the 64-bit masks (Linux's SIGRTMAX is 64).
constexpr int kMaxSignal = 64;
int HighestSignal() { return std::min(SIGRTMAX, kMaxSignal); }

uint64_t Bit(int signal) { return uint64_t{1} << (signal - 1); }

void OnSignal(int signal) {
  const int saved_errno = errno;
  // seq_cst, here and on the loads: see the file comment.
  handlers_running.fetch_add(1);
  const uint64_t bit = Bit(signal);
  for (Slot& slot : slots) {
    if ((slot.wanted.load() & bit) == 0) continue;
    slot.pending.fetch_or(bit);
    const uint64_t one = 1;
    // EAGAIN (the counter is saturated) still leaves it readable: nothing is lost.
    [[maybe_unused]] const ssize_t written = write(slot.event_fd.load(), &one, sizeof(one));
  }
  handlers_running.fetch_sub(1);
  errno = saved_errno;
}

// What only Create and Stop touch.
struct Registry {
  internal::Mutex mu;
  std::array<bool, SignalListener::kMaxListeners> taken ABSL_GUARDED_BY(mu) = {};
  std::array<int, kMaxSignal + 1> listeners ABSL_GUARDED_BY(mu) = {};  // Per signal number.
  std::array<struct sigaction, kMaxSignal + 1> replaced ABSL_GUARDED_BY(mu) = {};
};
Registry& registry() {
  static Registry* const instance = new Registry;  // Never destroyed: handlers may outlive main.
  return *instance;
}

absl::Status CheckCatchable(int signal) {
  switch (signal) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
    case SIGTRAP:
    case SIGSYS:
      return absl::InvalidArgumentError(
          absl::StrCat("SignalListener: signal ", signal, " cannot be listened for"));
    default:
      if (signal < 1 || signal > HighestSignal()) {
        return absl::InvalidArgumentError(
            absl::StrCat("SignalListener: ", signal, " is not a signal number"));
      }
      return absl::OkStatus();
  }
}

// Installs the handler for the signals in `mask` that had no listener. On failure, undoes what it
// did and returns why.
absl::Status AddListeners(Registry& r, uint64_t mask) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r.mu) {
  for (int signal = 1; signal <= HighestSignal(); ++signal) {
    if ((mask & Bit(signal)) == 0 || r.listeners[signal]++ > 0) continue;
    struct sigaction action {};
    action.sa_handler = OnSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(signal, &action, &r.replaced[signal]) != 0) {
      const int error = errno;
      --r.listeners[signal];
      for (int done = 1; done < signal; ++done) {
        if ((mask & Bit(done)) != 0 && --r.listeners[done] == 0) {
          sigaction(done, &r.replaced[done], nullptr);
        }
      }
      return absl::Status(absl::ErrnoToStatusCode(error),
                          absl::StrCat("sigaction(", signal, "): ", strerror(error)));
    }
  }
  return absl::OkStatus();
}

void RemoveListeners(Registry& r, uint64_t mask) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r.mu) {
  for (int signal = 1; signal <= HighestSignal(); ++signal) {
    if ((mask & Bit(signal)) != 0 && --r.listeners[signal] == 0) {
      sigaction(signal, &r.replaced[signal], nullptr);
    }
  }
}

}  // namespace

absl::StatusOr<SignalListener> SignalListener::Create(std::initializer_list<int> signals) {
  if (signals.size() == 0) return absl::InvalidArgumentError("SignalListener: no signals");
  uint64_t mask = 0;
  for (int signal : signals) {
    if (absl::Status catchable = CheckCatchable(signal); !catchable.ok()) return catchable;
    mask |= Bit(signal);
  }
  const int event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) return internal::ErrnoStatus(errno, "eventfd");
  absl::StatusOr<AsyncFd> wakeup = AsyncFd::Create(event_fd);
  if (!wakeup.ok()) return wakeup.status();

  Registry& r = registry();
  internal::MutexLock lock(&r.mu);
  int slot = 0;
  while (slot < kMaxListeners && r.taken[slot]) ++slot;
  if (slot == kMaxListeners) {
    return absl::ResourceExhaustedError(
        absl::StrCat("SignalListener: ", kMaxListeners, " listeners exist already"));
  }
  if (absl::Status added = AddListeners(r, mask); !added.ok()) return added;
  r.taken[slot] = true;
  slots[slot].pending.store(0);
  slots[slot].event_fd.store(wakeup->fd());
  slots[slot].wanted.store(mask);  // Last: the handler reads the fd only after seeing the mask.
  return SignalListener(slot, *std::move(wakeup));
}

SignalListener::SignalListener(SignalListener&& other) noexcept
    : slot_(std::exchange(other.slot_, -1)), wakeup_(std::move(other.wakeup_)) {}

SignalListener& SignalListener::operator=(SignalListener&& other) noexcept {
  if (this != &other) {
    Stop();
    slot_ = std::exchange(other.slot_, -1);
    wakeup_ = std::move(other.wakeup_);
  }
  return *this;
}

SignalListener::~SignalListener() { Stop(); }

void SignalListener::Stop() {
  if (slot_ < 0) return;
  Slot& slot = slots[slot_];
  Registry& r = registry();
  {
    internal::MutexLock lock(&r.mu);
    const uint64_t mask = slot.wanted.exchange(0);
    while (handlers_running.load() != 0) sched_yield();  // See the file comment.
    RemoveListeners(r, mask);
    slot.event_fd.store(-1);
    r.taken[slot_] = false;
  }
  slot_ = -1;
  wakeup_.Close();
}

Task<absl::StatusOr<int>> SignalListener::Next() {
  CORAL_CHECK(slot_ >= 0, "SignalListener::Next on a moved-from or default listener");
  Slot& slot = slots[slot_];
  for (;;) {
    // Take the lowest pending signal; fetch_and decides between two tasks taking the same one.
    for (uint64_t pending = slot.pending.load(); pending != 0; pending &= pending - 1) {
      const uint64_t bit = pending & -pending;
      if (slot.pending.fetch_and(~bit) & bit) co_return std::countr_zero(bit) + 1;
    }
    // Nothing pending: wait for the handler's next write. A count already there (from an arrival
    // taken above) only sends us round the loop once more.
    uint64_t count;
    absl::StatusOr<size_t> read = co_await wakeup_.ReadSome(
        [fd = wakeup_.fd(), &count] { return ::read(fd, &count, sizeof(count)); });
    if (!read.ok()) co_return read.status();
  }
}

}  // namespace coral
