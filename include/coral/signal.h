// Copyright 2026 The coral Authors.
//
// coral::SignalListener: POSIX signals as awaitable events, for a service's graceful shutdown
// (SIGTERM, SIGINT) or reload (SIGHUP).
//
//   absl::StatusOr<coral::SignalListener> signals =
//       coral::SignalListener::Create({SIGINT, SIGTERM});
//   absl::StatusOr<int> received = co_await signals->Next();  // SIGINT or SIGTERM
//   connections.Cancel();                                     // Then drain and exit.
//
// While a listener for a signal exists, coral's handler replaces that signal's disposition (so
// SIGTERM no longer ends the process); when the last listener for it goes, the disposition it
// replaced comes back. The handler is async-signal-safe: it marks the signal pending in each
// listener that wants it and writes that listener's eventfd; tasks see it at Next. No signal
// mask is involved, so it works whichever thread the kernel picks, and with threads created
// before the listener.
//
// Delivery. Every listener for a signal sees each arrival (broadcast). Arrivals that a listener
// has not taken yet coalesce: Next returns the signal once for all of them, as the kernel
// coalesces pending signals; with several signals pending, the lowest-numbered comes first. One
// arrival is taken by one Next, even if two tasks wait on the same listener.
//
// Limits. SIGKILL and SIGSTOP cannot be caught, and the signals the kernel raises for a faulting
// instruction (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) must not be: Create refuses them
// (and numbers outside 1..SIGRTMAX, SIGRTMAX being 64 on Linux) with absl::InvalidArgumentError. At
// most kMaxListeners listeners exist at once (absl::ResourceExhaustedError beyond). A signal that
// arrives while the last listener for it is being destroyed may be dropped. Another library
// installing its own handler for the same signal while a listener exists takes the signal over.
//
// Next must be awaited inside a coral task, and the listener must outlive it: destroying a
// listener that a task is waiting on aborts with a message (as closing any AsyncFd a task waits
// on does).
//
// Cancellation: a Next waiting when the task's token is cancelled returns absl::CancelledError
// and takes no signal; a task aborted there is torn down at its wait.

#ifndef CORAL_SIGNAL_H_
#define CORAL_SIGNAL_H_

#include <initializer_list>

#include "absl/status/statusor.h"
#include "coral/async_fd.h"
#include "coral/task.h"

namespace coral {

class SignalListener {
 public:
  static constexpr int kMaxListeners = 64;

  // Starts listening for `signals` (at least one). Must not be called from a signal handler.
  static absl::StatusOr<SignalListener> Create(std::initializer_list<int> signals);

  SignalListener() = default;
  SignalListener(SignalListener&& other) noexcept;
  SignalListener& operator=(SignalListener&& other) noexcept;
  SignalListener(const SignalListener&) = delete;
  SignalListener& operator=(const SignalListener&) = delete;
  // Stops listening (restoring the dispositions this was the last listener for).
  ~SignalListener();

  // Waits for the next arrival of one of the signals; returns its number.
  Task<absl::StatusOr<int>> Next();

 private:
  SignalListener(int slot, AsyncFd wakeup) : slot_(slot), wakeup_(std::move(wakeup)) {}
  void Stop();

  int slot_ = -1;   // Index in the process-wide listener table (io/signal.cc), or -1.
  AsyncFd wakeup_;  // The eventfd the handler writes.
};

}  // namespace coral

#endif  // CORAL_SIGNAL_H_
