// Copyright 2026 The coral Authors.
//
// Must not compile with CORAL_DISCARD=n (one case at a time): each of coral's awaitables, and each
// Task, does nothing unless awaited, so calling it as a statement is an error under
// -Werror=unused-result ([[nodiscard]] on the class). Without CORAL_DISCARD, the same calls
// awaited compile (the control).
// cases: 13

#include "coral/coral.h"

namespace {

coral::Task<int> Answer() { co_return 42; }

coral::Task<void> Everything(coral::AsyncMutex& mutex, coral::AsyncSharedMutex& shared,
                             coral::Semaphore& semaphore, coral::Event& event,
                             coral::Notify& notify, coral::Sender<int>& tx,
                             coral::Receiver<int>& rx, coral::JoinHandle<int>& handle) {
  coral::CancellationToken token = coral::CurrentCancellationToken();
  auto job = [] { return 1; };
#if CORAL_DISCARD == 1
  coral::SleepFor(absl::Milliseconds(1));
#elif CORAL_DISCARD == 2
  coral::Yield();
#elif CORAL_DISCARD == 3
  mutex.Lock();
#elif CORAL_DISCARD == 4
  shared.LockShared();
#elif CORAL_DISCARD == 5
  semaphore.Acquire();
#elif CORAL_DISCARD == 6
  event.Wait();
#elif CORAL_DISCARD == 7
  notify.Notified();
#elif CORAL_DISCARD == 8
  tx.Send(1);
#elif CORAL_DISCARD == 9
  rx.Recv();
#elif CORAL_DISCARD == 10
  token.Cancelled();
#elif CORAL_DISCARD == 11
  coral::SpawnBlocking(std::move(job));
#elif CORAL_DISCARD == 12
  Answer();
#elif CORAL_DISCARD == 13
  std::move(handle).operator co_await();
#endif
  (void)co_await coral::SleepFor(absl::Milliseconds(1));
  co_await coral::Yield();
  { auto guard = co_await mutex.Lock(); }
  { auto guard = co_await shared.LockShared(); }
  (void)co_await semaphore.Acquire();
  semaphore.Release();
  (void)co_await event.Wait();
  (void)co_await notify.Notified();
  (void)co_await tx.Send(1);
  (void)co_await rx.Recv();
  (void)co_await token.Cancelled();
  (void)co_await coral::SpawnBlocking(std::move(job));
  (void)co_await Answer();
  (void)co_await handle;
}

}  // namespace

// Referenced, so that -Wunused-function stays quiet.
coral::Task<void> (*const kEverything)(coral::AsyncMutex&, coral::AsyncSharedMutex&,
                                       coral::Semaphore&, coral::Event&, coral::Notify&,
                                       coral::Sender<int>&, coral::Receiver<int>&,
                                       coral::JoinHandle<int>&) = &Everything;
