// Copyright 2026 The coral Authors.
//
// coral's scheduler: design
// =========================
//
// The measurements behind the choices below are in docs/benchmarks.md, "Design measurements".
//
// Concepts
// --------
// A *task* is a spawned coroutine: one heap block holding a TaskHeader and then the frame of its
// root coral::Task<T>. Every Task frame has room for a header in front, so a plain function whose
// parameters have exactly the types of its decay-copied arguments returns a Task that becomes the
// root itself; any other callable is wrapped in one more Task (RunSpawned) that owns the copies. A
// *worker* is a thread that runs tasks; the *scheduler* owns N workers, a global injection queue,
// a monitor thread and a pool for blocking calls. Each worker owns a LIFO slot (the task it
// spawned or woke last, run next while its data is hot), a local run queue of 256 slots (thieves
// take half at once; a full queue moves half to the global queue), and a reactor: an epoll
// instance, an eventfd that wakes it, and a heap of timers; it parks in epoll_pwait2 with its
// earliest deadline as the timeout. An fd joins the epoll set (edge-triggered) of the worker that
// first waits on it; an accepted connection, the acceptor's at once.
//
// A task suspends only in coral's awaitables. Each records where the task resumes; whoever wakes
// it pushes it onto the waking worker's LIFO slot (the global queue if the waker is not one of
// this runtime's workers), so a task may run on another worker after every suspension. The resume
// point may be a Resumer: an awaitable that runs first on the resuming worker and may wait again
// without resuming the coroutine (AsyncFd's retry after a stale wake-up, a budget retry).
//
// Layers (.ci/check_layers): the scheduler core (workers, queues, parking, reactors, timers, the
// clock, the task header, the frame allocator, a task's cancellation state) knows nothing above
// it; Task, tokens, JoinHandle, sleeps, Interval, SpawnBlocking, TaskGroup and Runtime build on
// it; sync/ and io/ on those. The core calls up once, through OwnedScope (task_header.h): a
// torn-down task's TaskGroups must see their children finish before the frame they borrow from
// is destroyed, and the core never names a TaskGroup.
//
// The worker loop
// ---------------
// Worker::Run repeats until shutdown:
//   0. Every 61st tick, poll its own reactor without sleeping, so a busy worker's fds do not
//      starve; it takes no more fd events than its queue has room for (the rest wait in epoll's
//      ready list). The cap bounds fd events, not wake-ups: every expired timer fires, and one
//      event may wake a reader and a writer, so a poll can still overflow to the global queue.
//   1. Every 61st tick, a global batch first, so injected tasks do not starve either.
//   2. The LIFO slot, at most 3 times in a row while other tasks are queued.
//   3. The local queue.
//   4. A global batch: len / workers + 1, at most half the local queue's capacity.
//   5. Search, unless half the workers already do: from a random victim on, steal half a queue
//      (or the LIFO slot of a worker found stuck), then a global batch, then poll the reactors of
//      workers running a task, then its own; sched_yield between rounds, for up to 20 us.
//   6. Park in its reactor.
// The last searcher to find work wakes a parked worker (where there was work to steal there is
// likely more), so parallelism ramps up a worker at a time; work from its own reactor wakes one
// only if work is left queued. Searchers leave alone the reactor of a worker that runs no task:
// taking its events would move the task and its cache lines to another core.
//
// Parking and its memory-ordering rule
// ------------------------------------
// A submitter (a push onto a queue another worker could take from) calls NotifyParked: if no
// worker searches and one is parked, it wakes that one and counts it as searching. A parker
// decrements the unparked (and searching) counts in Idle's state word; then the last searcher
// re-checks every queue, any other parker the global queue, and wakes a worker if it finds work.
// The lost wake-up this closes (a submitter reads "someone searches" while that worker parks) is
// closed by Go's #StoreLoad rule:
//
//   submitter: push (a release store); seq_cst fence; load Idle's state word.
//   parker:    seq_cst read-modify-write of the state word; seq_cst loads of the queues.
//
// In the seq_cst total order either the RMW precedes the fence, and the submitter's load sees it,
// or the fence precedes the RMW, and the parker's loads see the push (a parker's load that missed
// the release push is coherence-ordered before it, hence before the fence; [atomics.order] p4).
// TSan does not model fences, so TSan builds use fetch_add(0) on the word instead: two RMWs of one
// word are ordered by its modification order. Both variants are model-checked (tests/model).
//
// Pushes are announced on an edge only: a worker parks only with its own slot and queue empty and
// the last searcher re-checks every queue, so a push onto the worker's own slot or queue notifies
// only when the worker goes from holding at most the task it runs next to holding more, or when
// it overflowed (a fence per push cost yield_many 14%). Tasks woken by its own reactor move the
// edge by one: the polling worker reaches a backlog of one before a woken worker would. Searching
// spins for about what a park and unpark cost (ski rental: at most twice the optimum); while a
// worker searches, submitters write no eventfd, and a reactor remembers an Unpark that precedes
// its Park. An idle runtime uses no CPU.
//
// Stuck workers
// -------------
// One long task would strand its worker's fd events, timers and queued tasks. The Monitor (the
// part of Go's sysmon needed here) reads each worker's count of tasks started every 1 ms, backing
// off to 8 ms while all make progress; a worker still on the task of the last look, with work
// behind it, gets a parked worker sent to search, which steals its tasks and polls its reactor.
// Its LIFO slot then becomes stealable (as Go's runnext) until it starts another task. With every
// worker parked the monitor sleeps until one unparks (a StoreLoad handshake against Idle's word).
//
// Task state and references
// -------------------------
// TaskHeader::state_ is one atomic word: flag bits, and a reference count above them.
//
//   kScheduled       in a run queue, or notified while running (requeued when it suspends).
//   kRunning         a worker is resuming or tearing it down; only it touches the frame.
//   kComplete        returned, threw, or was torn down. Terminal.
//   kCancelled       aborted: the worker that would resume it destroys the frame instead.
//   kJoinInterest    the JoinHandle still exists.
//   kJoinWaiter      a task awaiting the JoinHandle is registered, to be woken at completion.
//   kFrameDestroyed  torn down before completion: there is no output.
//   kRegistered      in the registry of suspended tasks ("Shutdown").
//
// The count is the number of owners of the block: the run queue while kScheduled (then the
// running worker); the JoinHandle; a task awaiting it; each outstanding waker (a join_waiter_
// slot, an fd waiter, an armed timer, a wait-queue entry, a blocking call). Waking hands the
// waker's reference to a queue, or drops it if the task is queued, running or complete. Whoever
// drops the last reference frees the block, on any thread: the frame first if it still exists,
// then the task's own token (the frame's locals may use it). The header sits in front of the
// frame, not in the promise, because an aborted frame is destroyed at once while wakers may still
// hold references. Who touches what: the frame and resume point, the worker holding kRunning
// (handed on by queue pushes and pops and the acq_rel transitions of state_); the output, the
// completer before kComplete and the handle's owner after; join_waiter_, claimed by one CAS from
// null (a second waiter aborts), emptied by the completer, which keeps its running reference until
// the waiter is woken.
//
// Cooperative budget
// ------------------
// An await whose resource is ready does not suspend, so a task receiving from a channel that
// always has values would hold its worker for ever. Each turn grants 128 units; every awaitable
// that can complete at once spends one before its operation, and when none is left it yields
// behind its worker's queue with a Resumer that retries the operation on the next turn: a task
// that yields holds no value, permit or lock. It still awaits its object, so channel, Select,
// Oneshot and JoinHandle awaits hold a reference across the yield, and the primitives, AsyncFd
// and TaskGroup::Join count the task in a BudgetYielders that their destructors check.
//
// Cancellation
// ------------
// Every task runs under a token inherited at Spawn (a TaskGroup child: the group's). A token's
// state is a flag, a parent and a list of callbacks under a spin lock; Cancel runs them, children's
// too, on the cancelling thread, outside the lock. Cancelling never touches a task's state word:
// every suspending awaitable embeds a CancellableWait, a callback node armed after its waker is
// registered; whichever of completion and callback takes the registration back owns the waker
// reference, so a task is woken once and a grant is never lost. The awaitable disarms on resuming
// or teardown, waiting out a callback running on another thread.
//
// WithCancellation, Shielded and Timeout run the task in place with the header's token swapped,
// and restore it after; a teardown destroys frames outermost first, so each scope destroys its
// sub-task before restoring the token it replaced. Timeout's token is a child with a deadline (a
// timer entry in the token's block, no task). A wait cut short or refused by the deadline is
// recorded for the task the Timeout runs in (WhenAll and WhenAny children forward theirs), so
// Timeout tells a deadline that interrupted its task from one that fired as it finished.
//
// The forceful form is JoinHandle::Abort (kCancelled): a task not yet started never runs; a
// queued or running one is torn down by the next worker that would resume it; an idle one is
// queued by the abort itself. A task owning a TaskGroup with live children cannot lose its frame
// (they may borrow its locals): its teardown cancels the group, and the last child to finish runs
// the teardown again (OwnedScope); the owner stays kRunning meanwhile.
//
// Timers and the clock
// --------------------
// Deadlines are coral::Instants on CLOCK_MONOTONIC (an absl::Time argument is converted once). A
// worker's timers are a binary heap under a mutex, armed on the task's worker and fired by turns
// of that reactor. Paused time (Options::start_paused) makes the clock virtual: it moves only when
// the last worker to park finds the runtime idle (every worker parked, no blocking call, the
// global queue empty, a non-blocking poll of every reactor waking nothing, confirmed once more
// after waking the others); then it jumps to the earliest deadline within its limit (an
// AdvanceTime's target) and the timers due fire in deadline order, each at its deadline.
//
// Synchronization primitives and channels
// ---------------------------------------
// AsyncMutex, AsyncSharedMutex, Semaphore, Event, Notify, Latch and the waiting side of channels
// share one wait queue: a FIFO of waiters under the primitive's spin lock. Exactly one of
// "granted" and "removed by its cancellation callback" takes a waiter out, under the lock, and
// wakes the task after releasing it. Granting is a hand-off (the lock, permits or value are the
// waiter's before it runs), so nobody barges past the queue, a cancelled waiter never holds what
// it waited for, and one torn down gives it back.
//
// A bounded channel's buffer is a lock-free ring (Vyukov's bounded MPMC queue); an unbounded
// one's, a deque under its own spin lock. Values move without the waiters' lock: a task that finds
// the buffer full (or empty) counts itself waiting, tries once more and links itself; a peer
// changes the buffer, then reads the count, both seq_cst, so one of the two sees the other. Close
// closes the buffer: the ring's producers' cursor takes a closed bit (a claim then fails), and a
// pop of a closed ring waits for claims made before it, so "closed" reaches a receiver only after
// every value sent. Select has its own claim protocol: one waiter per branch, all sharing a claim
// word that whoever hands a branch a value or a close must first win by CAS.
//
// One intrusive list (internal/intrusive_list.h), one SpinWait. The lock-free cores take their
// atomics, fences and mutex from internal/sync_primitives.h, Relacy's under CORAL_MODEL_CHECK,
// so tests/model checks the shipped code (docs/reliability.md).
//
// Shutdown
// --------
//   1. Mark the runtime shutting down, stop the monitor, unpark every worker.
//   2. Each worker finishes its running task (until it suspends or completes) and exits; join them.
//   3. Close the global queue: a later spawn, wake or abort tears the task down on its own thread.
//   4. Tear down every queued task; completing one wakes its join waiter, torn down in turn.
//   5. Shut the reactors down: waits on fds and timers end (their tasks are torn down).
//   6. Tear down every idle task in the registry of suspended tasks (waiting on a primitive, a
//      channel, another runtime, a blocking call); leave one another thread holds to it; repeat
//      until the registry is empty.
//   7. Let the blocking pool finish its calls; wait for outside threads still waking a task.
// Handles then report CancelledError, and a later wake, abort or drop touches nothing of the
// scheduler. A task joins the registry (sharded by address) at its first suspension that is not
// a yield: its wakers may live outside the runtime (an Event owned by main).
//
// The order of teardowns is arbitrary, and a task may have lent a primitive of its frame to a
// task it spawned and joins (std::ref). A primitive's destructor that finds itself in use during
// Shutdown therefore first has Shutdown tear down every remaining task but this thread's teardowns
// in progress (LetBorrowersGoAtShutdown), and only then checks for misuse.
//
// Seeded schedules and the deterministic mode
// -------------------------------------------
// With a seed (Options::schedule_seed, else CORAL_SCHEDULE_SEED), each worker draws its free
// choices from a generator seeded with MixSeed(seed + index): whether a spawned or woken task
// skips the LIFO slot (one in four; TSan builds do so unseeded, after Go's randomizeScheduler);
// the first victim and, in half the rounds, a steal of 1 to 4 tasks; a global batch of 1 to its
// share; in half the turns a budget of 0 to 7 (a yield injected at a ready await); the order of
// one reactor turn's wakes. None changes what a correct program may observe. The threads still
// race, so a seed fixes the choices, not the run. Unseeded, each choice point is one predictable
// branch. The deterministic mode (one worker, paused clock) removes the race: every ready task
// joins one vector from which the seed picks the next, and the worker never searches (a spin timed
// in real time would draw a varying number of times), so a test replays exactly from its seed.
//
// Tunables
// --------
//   Local queue: 256 slots          tokio's: bursts rarely overflow; stealing half is a short copy.
//   kTaskBudget = 128               tokio's: a yield per 128 ready awaits is cheap, and prompt.
//   kMaxLifoPolls = 3               tokio's: request/response pairs run back to back.
//   kGlobalQueueInterval = 61       Go's (and tokio's former default): a prime does not beat.
//   Searchers: at most half         Go's and tokio's: more thieves only contend.
//   Global batch: len/workers + 1   Go's globrunqget: a fair share.
//   kSearchSpin = 20 us             about one park and unpark; longer spins measured no better.
//   kUnannouncedFromOwnIo = 2       (1 otherwise) the polling worker beats a woken one to the task.
//   Monitor: 1 ms, backing off to 8 a stall stays inside a p99; 1 ms throughout cost 3% of a core.
//   Spin locks                      for a few pointer writes; a futex cost a spawning thread 6%.
//   Reactor: 256 events a turn      a local queue's worth; fewer when the queue has less room.
//   Accept back-off: 1 to 100 ms    at the fd limit: prompt recovery, retries under 1% of a core.
//   Blocking pool: 512, 10 s        threads and idle keep-alive: tokio's defaults.
//   Frame cache: 64 blocks a class  16-byte classes to 2 KiB, 1 MiB a thread: a third of a hop.
//   Frame depot: 32-block batches   frames freed on another worker skip malloc's arena lock.
//   Frame blocks: at least 128 B    smaller ones are glibc fastbins: spawn_outside ran 20% slower.
//   TaskGroup errors: first 256     an accept loop's group must not grow.
//   Channel senders: at half        let in once half the buffer is free: one lock per half buffer.
//   Seeded yields: 0-7, half turns  often enough to move every await, and tasks still progress.
//
// Alternatives rejected
// ---------------------
//   - One shared run queue: every push and pop contends on one lock or cache line.
//   - Chase-Lev deques with LIFO owner pops: old tasks starve under a steady spawn load.
//   - Condition variables or futexes for parking: a worker waits for I/O too; epoll waits for both.
//   - Symmetric transfer for Task<T> completion: gcc 12 does not make it a tail call at -O0 or
//     under the sanitizers, and a loop awaiting a million completed tasks overflows the stack.
//   - A separate root frame around every spawned Task: two allocations per spawn.
//   - One epoll instance for all workers (tokio's driver): every wake then crosses threads.
//   - Spreading one accept loop's connections over the workers' instances: it splits their ready
//     lists (the echo p99 at 100 connections doubled); run an accept loop per worker instead.
//   - A timerfd per worker: a syscall per change of the earliest deadline. A timer wheel: coarse,
//     with cascading work; a heap is exact.
//   - A cancellation node allocated per wait: every wait of a TaskGroup child would allocate.
//   - A list of every live task, for shutdown: a lock on both hot paths, 16 bytes in every frame.
//   - A CAS on every fill and take of the LIFO slot, to keep it always stealable as Go does: over
//     a quarter of a chained_spawn hop.

#include "runtime/scheduler.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <new>
#include <thread>

#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/schedule_seed.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/yield.h"

namespace coral::internal {
namespace {

// Under ThreadSanitizer, a quarter of the tasks spawned or woken on a worker skip the LIFO slot,
// so that the tests explore orders a real load would produce (after Go's randomizeScheduler); with
// a seed, every free choice is perturbed ("Seeded schedules and the deterministic mode").
#if defined(__SANITIZE_THREAD__)
constexpr bool kRandomizeScheduling = true;
#else
constexpr bool kRandomizeScheduling = false;
#endif

constexpr int kMaxLifoPolls = 3;
constexpr uint32_t kGlobalQueueInterval = 61;
constexpr std::chrono::microseconds kSearchSpin(20);

thread_local Worker* current_worker = nullptr;
// True while this thread destroys the frame of a task being torn down (TaskGroup's misuse check).
thread_local bool in_teardown = false;
// The scheduler whose Shutdown this thread is running, while it tears tasks down.
thread_local Scheduler* shutdown_on_this_thread = nullptr;
// The running task's cooperative budget ("Cooperative budget"): reset at each turn, -1 once spent.
// Off a task's turn it starts so high that SpendBudget's slow path, which resets it, is rare.
constexpr int32_t kNoBudget = INT32_MAX;
thread_local int32_t budget = kNoBudget;

}  // namespace

Worker* CurrentWorker() noexcept { return current_worker; }

// --- Worker -------------------------------------------------------------------------------------

Worker::Worker(Scheduler* scheduler, int index)
    : scheduler_(scheduler),
      index_(index),
      perturbed_(scheduler->schedule_seed().has_value()),
      deterministic_(scheduler->deterministic()),
      reactor_(&scheduler->clock(), /*shuffle_wakes=*/perturbed_),
      // xorshift needs a non-zero state.
      random_state_(perturbed_
                        ? MixSeed(*scheduler->schedule_seed() + static_cast<uint64_t>(index)) | 1
                        : 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1)) {}

void Worker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Worker::Join() { thread_.join(); }

uint32_t Worker::NextRandom() {
  // xorshift64*: victim selection needs speed, not quality.
  random_state_ ^= random_state_ >> 12;
  random_state_ ^= random_state_ << 25;
  random_state_ ^= random_state_ >> 27;
  return static_cast<uint32_t>((random_state_ * 0x2545F4914F6CDD1Dull) >> 32);
}

uint32_t Worker::RunnableHere() const {
  // relaxed: only the owner makes the slot non-empty; a theft can only lower the count.
  return queue_.Size() + (lifo_slot_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
}

void Worker::NotifyIfCrossed(uint32_t before) {
  const uint32_t after = RunnableHere();
  // Notify on the edges only (see "Parking"): when this worker starts holding more than it runs
  // soon anyway, and when an overflow moved tasks to the global queue. The count includes the
  // LIFO slot, so filling the slot is an edge like any push.
  const uint32_t unannounced = polling_own_reactor_ ? kUnannouncedFromOwnIo : kUnannounced;
  if ((before <= unannounced && after > unannounced) || after < before) {
    scheduler_->NotifyParked();
  }
}

int Worker::PollOwnReactor(int max_events) {
  polling_own_reactor_ = true;
  const int events = reactor_.Poll(max_events);
  polling_own_reactor_ = false;
  return events;
}

void Worker::ParkInOwnReactor() {
  polling_own_reactor_ = true;
  reactor_.Park();
  polling_own_reactor_ = false;
}

void Worker::PushBack(TaskHeader* task) {
  if (deterministic_) {
    ready_.push_back(task);
    return;
  }
  const uint32_t before = RunnableHere();
  queue_.PushBack(task, scheduler_->global_queue());
  NotifyIfCrossed(before);
}

void Worker::ScheduleLocal(TaskHeader* task) {
  // Outside TSan builds, one predictable branch unless the schedule is seeded.
  if (kRandomizeScheduling || perturbed_) {
    if (deterministic_) {
      ready_.push_back(task);
      return;
    }
    if (NextRandom() % 4 == 0) {
      // Shake out code that assumes a woken task runs next.
      PushBack(task);
      return;
    }
  }
  const uint32_t before = RunnableHere();
  if (lifo_slot_.load(std::memory_order_relaxed) == nullptr) {
    // A plain store suffices: only this thread fills the slot, so it stays empty until then.
    // (relaxed load: this thread's own write, or a thief's exchange, which only empties it.)
    // release: a thief that takes the task (acquire) sees it as this thread left it.
    lifo_slot_.store(task, std::memory_order_release);
  } else if (TaskHeader* displaced = lifo_slot_.exchange(task, std::memory_order_release)) {
    // release: as the store above. The displaced task is null if a thief took it meanwhile.
    queue_.PushBack(displaced, scheduler_->global_queue());
  }
  NotifyIfCrossed(before);
}

void Worker::Run() {
  current_worker = this;
  while (!scheduler_->is_shutting_down()) {
    ++tick_;
    // Like the global queue, the reactor is checked every kGlobalQueueInterval ticks even when
    // there is local work, so I/O and timers are not starved by a busy worker; it takes no more
    // events than the local queue has room for (see "The worker loop", step 0).
    if (tick_ % kGlobalQueueInterval == 0) {
      const int room = static_cast<int>(LocalQueue::kCapacity - queue_.Size()) - 1;
      if (room > 0) PollOwnReactor(std::min(room, Reactor::kMaxEvents));
    }
    TaskHeader* task = NextLocalTask();
    if (task == nullptr) task = Search();
    if (task != nullptr) {
      RunTask(task);
    } else {
      Park();
    }
  }
  if (searching_) {
    searching_ = false;
    scheduler_->idle().TransitionFromSearching();
  }
  current_worker = nullptr;
}

TaskHeader* Worker::PopGlobalBatch() {
  GlobalQueue& global = scheduler_->global_queue();
  if (!global.MaybeHasTasks()) return nullptr;
  const uint32_t fair_share =
      static_cast<uint32_t>(global.ApproximateSize() / scheduler_->num_workers()) + 1;
  uint32_t batch = std::min<uint32_t>(LocalQueue::kCapacity / 2, fair_share);
  if (perturbed_) batch = 1 + NextRandom() % batch;
  return global.PopBatchInto(queue_, batch);
}

TaskHeader* Worker::NextLocalTask() {
  if (deterministic_) {
    while (TaskHeader* task = PopGlobalBatch()) ready_.push_back(task);
    return TakeReadyTask();
  }
  if (tick_ % kGlobalQueueInterval == 0) {
    if (TaskHeader* task = PopGlobalBatch()) return task;
  }
  // relaxed: see RunnableHere.
  if (lifo_slot_.load(std::memory_order_relaxed) != nullptr) {
    // The bound protects queued tasks; with none queued, running the slot starves nobody.
    const bool run_slot = lifo_polls_ < kMaxLifoPolls || queue_.Size() == 0;
    if (TaskHeader* task = TakeLifoTask()) {
      if (run_slot) {
        ++lifo_polls_;
        return task;
      }
      PushBack(task);
    }
  }
  lifo_polls_ = 0;
  if (TaskHeader* task = queue_.Pop()) return task;
  return PopGlobalBatch();
}

TaskHeader* Worker::Search() {
  // The deterministic mode's one worker has nobody to steal from, and a spin counted in real time
  // would draw from the generator a varying number of times.
  if (deterministic_) return nullptr;
  // relaxed: see watching_own_reactor().
  watching_own_reactor_.store(true, std::memory_order_relaxed);
  if (!searching_) searching_ = scheduler_->idle().TransitionToSearching();
  // A worker that may not search still watches its own fds for the spin (see "Parking").
  if (!searching_ && !reactor_.core()->HasRegistrations()) return nullptr;
  const auto deadline = std::chrono::steady_clock::now() + kSearchSpin;
  for (;;) {
    if (searching_) {
      if (TaskHeader* task = StealOnce()) return task;
    }
    if (PollOwnReactor(Reactor::kMaxEvents) > 0) {
      if (TaskHeader* task = TakeLocalTask()) {
        StopSearchingForOwnIo();
        return task;
      }
    }
    if (std::chrono::steady_clock::now() >= deadline || scheduler_->is_shutting_down()) {
      return nullptr;
    }
    sched_yield();
  }
}

void Worker::StopSearchingForOwnIo() {
  if (!searching_) return;
  searching_ = false;
  if (!scheduler_->idle().TransitionFromSearching()) return;
  // The task it took counts: it runs now.
  if (RunnableHere() + 1 > kUnannouncedFromOwnIo) {
    scheduler_->NotifyParked();
  } else {
    scheduler_->NotifyIfWorkPending(this);
  }
}

TaskHeader* Worker::StealOnce() {
  const int n = scheduler_->num_workers();
  const int start = static_cast<int>(NextRandom() % static_cast<uint32_t>(n));
  // Seeded: every other round takes a few tasks instead of half a queue.
  const uint32_t most =
      perturbed_ && NextRandom() % 2 == 0 ? 1 + NextRandom() % 4 : LocalQueue::kCapacity;
  for (int i = 0; i < n; ++i) {
    const int victim = (start + i) % n;
    if (victim == index_) continue;
    Worker& other = scheduler_->worker(victim);
    if (TaskHeader* task = other.queue().StealHalfInto(queue_, most)) return task;
    if (TaskHeader* task = other.StealLifoTask()) return task;
  }
  if (TaskHeader* task = PopGlobalBatch()) return task;
  // No queued work anywhere: take the I/O and timers that busy workers have not polled yet.
  for (int i = 0; i < n; ++i) {
    const int victim = (start + i) % n;
    if (victim == index_ || scheduler_->worker(victim).watching_own_reactor()) continue;
    if (scheduler_->worker(victim).reactor().PollFromOtherWorker(&steal_scratch_) > 0) {
      return TakeLocalTask();
    }
  }
  return nullptr;
}

TaskHeader* Worker::TakeLocalTask() {
  if (deterministic_) return TakeReadyTask();
  // relaxed: see RunnableHere.
  if (lifo_slot_.load(std::memory_order_relaxed) != nullptr) {
    if (TaskHeader* task = TakeLifoTask()) return task;
  }
  return queue_.Pop();
}

void Worker::RunTask(TaskHeader* task) {
  // relaxed: see watching_own_reactor(). Written on the change only: searchers read the line.
  if (watching_own_reactor_.load(std::memory_order_relaxed)) {
    watching_own_reactor_.store(false, std::memory_order_relaxed);
  }
  // relaxed: see tasks_started(); only this thread writes it.
  tasks_started_.store(tasks_started_.load(std::memory_order_relaxed) + 1,
                       std::memory_order_relaxed);
  // relaxed: a hint (see MakeLifoSlotStealable). Written on the change only, as above.
  if (slot_stealable_.load(std::memory_order_relaxed)) {
    slot_stealable_.store(false, std::memory_order_relaxed);
  }
  if (searching_) {
    searching_ = false;
    if (scheduler_->idle().TransitionFromSearching()) scheduler_->NotifyParked();
  }
  if (!task->TransitionToRunning()) {
    Scheduler::TearDown(task);
    return;
  }
  current_task_ = task;
  budget = perturbed_ ? TurnBudget() : kTaskBudget;
  task->Resume();
  current_task_ = nullptr;
  if (task->root().done()) {
    task->Complete(/*frame_destroyed=*/false);
    return;
  }
  switch (task->TransitionToIdle(std::exchange(yield_requested_, false))) {
    case TaskHeader::AfterRun::kIdle:
      return;
    case TaskHeader::AfterRun::kReschedule:
      PushBack(task);
      return;
    case TaskHeader::AfterRun::kCancel:
      Scheduler::TearDown(task);
      return;
  }
}

TaskHeader* Worker::TakeReadyTask() {
  // Tasks that a global batch or a search left in the queue join the ready ones first.
  while (TaskHeader* task = queue_.Pop()) ready_.push_back(task);
  if (ready_.empty()) return nullptr;
  std::swap(ready_[NextRandom() % ready_.size()], ready_.back());
  TaskHeader* task = ready_.back();
  ready_.pop_back();
  return task;
}

int32_t Worker::TurnBudget() {
  // Half the turns end at one of their first eight ready awaits: a yield injected where the task
  // would have run on.
  if (NextRandom() % 2 == 0) return kTaskBudget;
  return static_cast<int32_t>(NextRandom() % 8);
}

void Worker::ShuffleWoken(std::vector<TaskHeader*>* woken) {
  // Fisher-Yates, on this worker's generator.
  for (size_t i = woken->size(); i > 1; --i) std::swap((*woken)[i - 1], (*woken)[NextRandom() % i]);
}

void Worker::Park() {
  Idle& idle = scheduler_->idle();
  if (idle.TransitionToParked(index_, std::exchange(searching_, false))) {
    scheduler_->NotifyIfWorkPending();
  } else if (scheduler_->global_queue().MaybeHasTasks()) {
    scheduler_->NotifyParked();
  }
  // A paused clock advances only when every worker is idle: the last to park checks.
  if (!scheduler_->clock().paused() || !scheduler_->AdvancePausedClock(this, &searching_)) {
    if (!scheduler_->is_shutting_down()) ParkInOwnReactor();
    searching_ = idle.TransitionFromParked(index_);
  }
  scheduler_->monitor().WorkerUnparked();
}

// --- SuspendedTasks -----------------------------------------------------------------------------

SuspendedTasks::SuspendedTasks(int num_workers) {
  // About four shards per worker: two threads rarely meet on one lock.
  uint32_t shards = 4;
  while (shards < 4u * static_cast<uint32_t>(num_workers) && shards < 1024) shards *= 2;
  shards_ = std::make_unique<Shard[]>(shards);
  mask_ = shards - 1;
}

SuspendedTasks::Shard& SuspendedTasks::ShardOf(const TaskHeader* task) {
  // Fibonacci hashing: frames are at least 128-byte blocks, so the low bits say little.
  const uint64_t hash = reinterpret_cast<uintptr_t>(task) * 0x9E3779B97F4A7C15ull;
  return shards_[static_cast<uint32_t>(hash >> 40) & mask_];
}

void SuspendedTasks::Add(TaskHeader* task) {
  Shard& shard = ShardOf(task);
  SpinLockHolder hold(&shard.lock);
  CORAL_CHECK(shard.tasks.size() < UINT32_MAX, "over 4 billion suspended coral tasks");
  task->set_registry_slot(static_cast<uint32_t>(shard.tasks.size()));
  try {
    shard.tasks.push_back(task);
  } catch (const std::bad_alloc&) {
    // The task has already suspended (TransitionToIdle): no caller is left to take the failure.
    FatalOutOfMemory("registering a suspended task for shutdown", __FILE__, __LINE__);
  }
}

void SuspendedTasks::Remove(TaskHeader* task) {
  Shard& shard = ShardOf(task);
  SpinLockHolder hold(&shard.lock);
  TaskHeader* last = shard.tasks.back();
  last->set_registry_slot(task->registry_slot());
  shard.tasks[task->registry_slot()] = last;
  shard.tasks.pop_back();
}

// --- Scheduler ----------------------------------------------------------------------------------

Scheduler::Scheduler(int num_workers, bool start_paused, bool auto_advance,
                     std::optional<uint64_t> schedule_seed, bool deterministic)
    : schedule_seed_(schedule_seed.has_value() ? schedule_seed
                     : deterministic           ? ProcessScheduleSeed().value_or(0)
                                               : ProcessScheduleSeed()),
      deterministic_(deterministic),
      clock_(start_paused, auto_advance),
      idle_(num_workers),
      blocking_pool_(start_paused ? std::function<void()>([this] { RequestIdleCheck(); })
                                  : nullptr),
      suspended_(num_workers) {
  CORAL_CHECK(num_workers > 0 && num_workers < (1 << 15),
              "coral::Runtime needs between 1 and 32767 workers");
  CORAL_CHECK(!deterministic || (num_workers == 1 && start_paused),
              "coral::Runtime::Options::deterministic needs num_workers = 1 and start_paused");
  workers_.reserve(num_workers);
  for (int i = 0; i < num_workers; ++i) workers_.push_back(std::make_unique<Worker>(this, i));
  for (auto& worker : workers_) worker->Start();
  if (num_workers > 1) monitor_.Start();  // A lone worker has nobody to send to its reactor.
}

Scheduler::~Scheduler() { Shutdown(); }

void Scheduler::Submit(TaskHeader* task) {
  Worker* worker = current_worker;
  if (worker != nullptr && worker->scheduler() == this && !is_shutting_down()) {
    worker->ScheduleLocal(task);
    return;
  }
  if (!global_queue_.Push(task)) {
    TearDown(task);
    return;
  }
  NotifyParked();
}

void Scheduler::SubmitWoken(TaskHeader* task) {
  Worker* worker = current_worker;
  if (worker != nullptr && worker->scheduler() == this && !is_shutting_down()) {
    worker->ScheduleLocal(task);
    return;
  }
  // The task was idle, hence registered (see "Shutdown"), and is ours until we push it: Shutdown
  // cannot have returned yet. relaxed: our push (or the teardown, after the queue closed) orders
  // the increment before Shutdown's registry reaches empty, and so before its load of the count.
  foreign_submits_.fetch_add(1, std::memory_order_relaxed);
  Submit(task);
  // release: our reads of the scheduler (notifying a parked worker) happen before Shutdown's
  // acquire load sees the count drop, and so before the scheduler is freed.
  foreign_submits_.fetch_sub(1, std::memory_order_release);
}

void Scheduler::NotifyParked() {
  const int worker = idle_.WorkerToNotify();
  if (worker >= 0) workers_[worker]->reactor().Unpark();
}

void Scheduler::NotifyIfWorkPending(const Worker* except) {
  bool pending = global_queue_.MaybeHasTasks();
  for (auto& worker : workers_) {
    if (worker.get() != except) pending = pending || worker->queue().MaybeHasTasks();
  }
  if (pending) NotifyParked();
}

void Scheduler::RequestIdleCheck() {
  // A parked worker woken as a searcher finds nothing, parks again, and so checks.
  if (!is_shutting_down() && idle_.AllParked()) NotifyParked();
}

bool Scheduler::AdvancePausedClock(Worker* self, bool* searching) {
  std::lock_guard<std::mutex> lock(clock_.mu());
  if (is_shutting_down()) return false;
  // In this order: a blocking call wakes its task (which unparks a worker) before it leaves
  // in_flight, so a zero read here means that wake-up shows in the state word read next.
  if (blocking_pool_.in_flight() > 0) return false;
  if (!idle_.AllParked() || global_queue_.MaybeHasTasks()) return false;
  // Ready fds are progress without the clock: their tasks come onto this worker.
  int woken = 0;
  std::vector<TaskHeader*> scratch;
  for (auto& worker : workers_) woken += worker->reactor().PollFromOtherWorker(&scratch);
  std::optional<Instant> earliest;
  if (woken == 0) {
    // Another worker counted parked may have taken fd events from its epoll and not yet woken
    // their tasks. Only a round in which every other worker woke and parked again, with no task
    // started meanwhile, proves the runtime idle.
    const uint64_t epoch = TasksStarted();
    if (num_workers() > 1 && (!confirming_ || epoch != confirm_epoch_)) {
      confirming_ = true;
      confirm_epoch_ = epoch;
      for (int worker : idle_.NotifyAllParked(self->index())) workers_[worker]->reactor().Unpark();
      return false;
    }
    confirming_ = false;
    for (auto& worker : workers_) {
      std::optional<Instant> next = worker->reactor().timers().NextDeadline();
      if (next.has_value() && (!earliest.has_value() || *next < *earliest)) earliest = next;
    }
    if (!earliest.has_value() || *earliest == Instant::InfiniteFuture() ||
        *earliest > clock_.limit()) {
      // Idle for good: nothing is due within the limit. Move on to AdvanceTime's target, if
      // the clock is not there yet.
      if (clock_.advance_to() > clock_.Now()) clock_.Set(clock_.advance_to());
      clock_.ReportIdle();
      return false;
    }
    clock_.ReportIdle();
  }
  // This worker runs again before any timer fires, so that no later check under this lock can
  // count it parked while it holds the woken tasks.
  *searching = idle_.TransitionFromParked(self->index());
  if (earliest.has_value()) {
    if (*earliest > clock_.Now()) clock_.Set(*earliest);
    for (auto& worker : workers_) worker->reactor().timers().FireExpired(clock_.Now());
  }
  return true;
}

uint64_t Scheduler::TasksStarted() const {
  uint64_t sum = 0;
  for (const auto& worker : workers_) sum += worker->tasks_started();
  return sum;
}

void Scheduler::TearDown(TaskHeader* task) {
  if ((task->LoadState() & task_state::kRunning) == 0) task->TransitionToRunning();
  // A task that owns TaskGroups with live children: its frame holds what they may borrow. The
  // groups are cancelled and the last child finishes this teardown (OwnedScope, task_header.h).
  for (OwnedScope* scope = task->scopes(); scope != nullptr; scope = scope->next_owned) {
    if (scope->DeferOwnerTeardown(task)) return;
  }
  const bool outer = !in_teardown;
  in_teardown = true;
  task->root().destroy();
  if (outer) in_teardown = false;
  task->Complete(/*frame_destroyed=*/true);
}

void Scheduler::Shutdown() {
  CORAL_CHECK(current_worker == nullptr || current_worker->scheduler() != this,
              "coral::Runtime shut down or destroyed from one of its own worker threads");
  // seq_cst exchange: concurrent Shutdown calls agree on one winner.
  if (shut_down_.exchange(true)) return;
  // release: pairs with is_shutting_down's acquire.
  shutting_down_.store(true, std::memory_order_release);
  monitor_.Stop();
  clock_.Shutdown();
  for (auto& worker : workers_) worker->reactor().Unpark();
  for (auto& worker : workers_) worker->Join();
  shutdown_on_this_thread = this;
  TaskHeader* queued = global_queue_.Close();
  for (; queued != nullptr; queued = queued->queue_next) queued_at_shutdown_.push_back(queued);
  for (auto& worker : workers_) {
    while (TaskHeader* task = worker->TakeLocalTask()) queued_at_shutdown_.push_back(task);
  }
  TearDownQueued();
  // Tasks waiting for I/O or timers: waking them now tears them down (the queue is closed).
  for (auto& worker : workers_) worker->reactor().Shutdown();
  // Tasks waiting on anything else (a primitive, a channel, another runtime's task or fd, a
  // blocking call): only the registry knows them.
  TearDownSuspended();
  shutdown_on_this_thread = nullptr;
  // Blocking calls still running finish; the tasks that awaited them are gone.
  blocking_pool_.Shutdown();
  // A thread that queued a woken task just before the queue closed may still be notifying a
  // worker. acquire: pairs with SubmitWoken's release.
  while (foreign_submits_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void Scheduler::TearDownQueued() {
  // By index, not by iterator: a teardown may come back here (TearDownRemainingAtShutdown).
  while (next_queued_at_shutdown_ < queued_at_shutdown_.size()) {
    TearDown(queued_at_shutdown_[next_queued_at_shutdown_++]);
  }
}

size_t Scheduler::TearDownIdleSuspended() {
  // An idle task becomes ours as an abort makes it the queue's (kCancelled, kScheduled, one
  // reference): queued, as far as Shutdown is concerned. A task that is not idle is in another
  // thread's hands: a waker (or an abort) that is submitting it tears it down itself, since the
  // queue is closed; a TaskGroup's owner is finished by its last child; a task whose last
  // reference was just dropped is being destroyed; a task this thread is tearing down already
  // holds kRunning.
  size_t claimed = 0;
  const size_t registered = suspended_.ForEach([this, &claimed](TaskHeader* task) {
    if (!task->TransitionToCancelled()) return;
    queued_at_shutdown_.push_back(task);
    ++claimed;
  });
  // Each teardown leaves the registry (in Complete), after we released its shard's lock.
  TearDownQueued();
  return registered - claimed;
}

void Scheduler::TearDownSuspended() {
  // Until none is left; while only other threads' tasks are, wait for them to finish theirs.
  while (TearDownIdleSuspended() != 0) std::this_thread::yield();
}

void Scheduler::TearDownRemaining() {
  TearDownQueued();
  TearDownIdleSuspended();
}

// --- Entry points for the public templates (coral/internal/scheduling.h) ------------------------

Scheduler* CurrentScheduler() noexcept {
  return current_worker != nullptr ? current_worker->scheduler() : nullptr;
}

bool InTeardown() { return in_teardown; }

bool ShutdownOnThisThread() { return shutdown_on_this_thread != nullptr; }

void TearDownRemainingAtShutdown() {
  if (shutdown_on_this_thread != nullptr) shutdown_on_this_thread->TearDownRemaining();
}

TaskHeader* CurrentTask() noexcept {
  return current_worker != nullptr ? current_worker->current_task() : nullptr;
}

void SubmitNewTask(Scheduler* scheduler, TaskHeader* task) { scheduler->Submit(task); }

void Wake(TaskHeader* task) {
  if (task->TransitionToScheduled()) task->scheduler()->SubmitWoken(task);
}

std::shared_ptr<ReactorCore> CurrentReactorCore() {
  return current_worker != nullptr ? current_worker->reactor().core() : nullptr;
}

TimerQueue& CurrentTimers() {
  CORAL_CHECK(current_worker != nullptr, "a coral timer was awaited outside a coral worker");
  return current_worker->reactor().timers();
}

bool SpendBudget() noexcept {
  if (--budget >= 0) return true;
  if (CurrentTask() == nullptr) {  // Not a task's turn: nothing is counted.
    budget = kNoBudget;
    return true;
  }
  budget = -1;  // Spent until the task's next turn (the awaitable yields).
  return false;
}

bool YieldIfBudgetSpent(Resumer* resumer) noexcept {
  if (budget >= 0) return false;
  Worker* worker = current_worker;
  TaskHeader* task = worker != nullptr ? worker->current_task() : nullptr;
  if (task == nullptr) return false;  // The awaitable reports its misuse itself.
  task->set_resumer(resumer);
  worker->RequestYield();
  return true;
}

void YieldAwaiter::await_suspend(std::coroutine_handle<> self) noexcept {
  Worker* worker = current_worker;
  TaskHeader* task = worker != nullptr ? worker->current_task() : nullptr;
  CORAL_CHECK(task != nullptr, "coral::Yield() awaited outside a coral task");
  task->set_resume_point(self);
  worker->RequestYield();
}

}  // namespace coral::internal
