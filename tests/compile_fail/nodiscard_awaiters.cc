// Copyright 2026 The coral Authors.
//
// Must not compile with CORAL_DISCARD defined: each of coral's awaitables, and each Task, does
// nothing unless awaited, so calling it as a statement is an error under -Werror=unused-result
// ([[nodiscard]] on the class), one per line marked expect-nodiscard. Without CORAL_DISCARD, the
// same calls awaited compile (the control).

#include "coral/coral.h"

namespace {

coral::Task<int> Answer() { co_return 42; }

coral::Task<void> Everything(coral::AsyncMutex& mutex, coral::AsyncSharedMutex& shared,
                             coral::Semaphore& semaphore, coral::Event& event,
                             coral::Notify& notify, coral::Sender<int>& tx,
                             coral::Receiver<int>& rx, coral::JoinHandle<int>& handle) {
  coral::CancellationToken token = coral::CurrentCancellationToken();
  auto job = [] { return 1; };
#ifdef CORAL_DISCARD
  coral::SleepFor(absl::Milliseconds(1));  // expect-nodiscard
  coral::Yield();                          // expect-nodiscard
  mutex.Lock();                            // expect-nodiscard
  shared.LockShared();                     // expect-nodiscard
  semaphore.Acquire();                     // expect-nodiscard
  event.Wait();                            // expect-nodiscard
  notify.Notified();                       // expect-nodiscard
  tx.Send(1);                              // expect-nodiscard
  rx.Recv();                               // expect-nodiscard
  token.Cancelled();                       // expect-nodiscard
  coral::SpawnBlocking(std::move(job));    // expect-nodiscard
  Answer();                                // expect-nodiscard
  std::move(handle).operator co_await();   // expect-nodiscard
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
