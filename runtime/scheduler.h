// Copyright 2026 The coral Authors.
//
// Scheduler and Worker: coral's work-stealing runtime. The design is explained at the top of
// scheduler.cc.

#ifndef CORAL_RUNTIME_SCHEDULER_H_
#define CORAL_RUNTIME_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "coral/internal/scheduler_entry.h"
#include "coral/internal/spin_lock.h"
#include "coral/internal/task_header.h"
#include "runtime/blocking_pool.h"
#include "runtime/clock.h"
#include "runtime/global_queue.h"
#include "runtime/idle.h"
#include "runtime/local_queue.h"
#include "runtime/monitor.h"
#include "runtime/reactor.h"

namespace coral::internal {

class Scheduler;

class Worker {
 public:
  Worker(Scheduler* scheduler, int index);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  void Join();

  // --- Called on this worker's own thread. ---
  // A task spawned or woken here: into the LIFO slot, displacing its occupant to the queue.
  void ScheduleLocal(TaskHeader* task);
  void RequestYield() { yield_requested_ = true; }
  TaskHeader* current_task() const { return current_task_; }
  Scheduler* scheduler() const { return scheduler_; }
  int index() const { return index_; }
  // Seeded schedules: shuffles the tasks one turn of a reactor woke, before they are scheduled.
  void ShuffleWoken(std::vector<TaskHeader*>* woken);

  // --- Any thread. ---
  LocalQueue& queue() { return queue_; }
  Reactor& reactor() { return reactor_; }
  // True while the worker runs no task: it searches, polls its own reactor, or sleeps in it. Its
  // fd events then reach it without help, so other workers leave its reactor alone.
  bool watching_own_reactor() const {
    // relaxed: a hint. A stale true delays another worker's help by one search round; a stale
    // false costs a redundant poll. Either way the owner still sees every event itself.
    return watching_own_reactor_.load(std::memory_order_relaxed);
  }
  // How many tasks this worker has started running (wrapping): the monitor's sign of progress.
  uint32_t tasks_started() const {
    // relaxed: a hint, like watching_own_reactor(); a stale count delays help by one look.
    return tasks_started_.load(std::memory_order_relaxed);
  }
  // Whether a task waits in the LIFO slot (a hint: the owner may take it at any moment).
  bool HasLifoTask() const {
    // relaxed: a hint for the monitor; StealLifoTask's exchange decides.
    return lifo_slot_.load(std::memory_order_relaxed) != nullptr;
  }
  // The monitor found this worker stuck in one task: its LIFO slot may be stolen until the
  // worker starts another task ("Stuck workers" in scheduler.cc).
  void MakeLifoSlotStealable() {
    // relaxed: a hint for searchers; the slot's exchange is what hands the task over, and the
    // searcher the monitor wakes is ordered after this store by Idle's read-modify-writes.
    slot_stealable_.store(true, std::memory_order_relaxed);
  }
  // Another worker takes the task in the slot, if the slot is stealable; or null.
  TaskHeader* StealLifoTask() {
    // relaxed loads: hints, as above; a stale false delays the theft to the next search round.
    if (!slot_stealable_.load(std::memory_order_relaxed) ||
        lifo_slot_.load(std::memory_order_relaxed) == nullptr) {
      return nullptr;
    }
    // acquire: pairs with the owner's release when it put the task there.
    return lifo_slot_.exchange(nullptr, std::memory_order_acquire);
  }

  // --- On this worker's thread, or after it has been joined (shutdown): takes the task in the
  // LIFO slot, else the local queue's head, or null. ---
  TaskHeader* TakeLocalTask();

 private:
  void Run();
  TaskHeader* NextLocalTask();
  TaskHeader* PopGlobalBatch();
  // The deterministic mode's pick: a ready task chosen by the seeded generator, or null.
  TaskHeader* TakeReadyTask();
  // The cooperative budget of a turn about to start.
  int32_t TurnBudget();
  TaskHeader* Search();
  TaskHeader* StealOnce();
  void RunTask(TaskHeader* task);
  void Park();
  void PushBack(TaskHeader* task);
  // Tasks this worker holds: its local queue plus its LIFO slot.
  uint32_t RunnableHere() const;
  // The owner's take from the LIFO slot: an exchange, since a thief may take it at the same
  // moment (StealLifoTask); null if empty or stolen.
  TaskHeader* TakeLifoTask() {
    // relaxed: the owner takes only tasks it put there itself.
    return lifo_slot_.exchange(nullptr, std::memory_order_relaxed);
  }
  // How many of them it holds without waking a thief: the one it runs next, and while it
  // dispatches its own reactor's events, one more (see "Parking" in scheduler.cc).
  static constexpr uint32_t kUnannounced = 1;
  static constexpr uint32_t kUnannouncedFromOwnIo = 2;
  // Wakes a thief if the count crossed the bound that applies since `before`.
  void NotifyIfCrossed(uint32_t before);
  // Its own reactor, polled (or slept in) with polling_own_reactor_ set.
  int PollOwnReactor(int max_events);
  void ParkInOwnReactor();
  void StopSearchingForOwnIo();
  uint32_t NextRandom();

  Scheduler* const scheduler_;
  const int index_;
  // Seeded schedules ("Seeded schedules and the deterministic mode" in scheduler.cc): whether the
  // free choices follow random_state_, seeded by the runtime's seed; and in the deterministic
  // mode, the ready tasks (they bypass the slot and queues: the seed alone orders them).
  const bool perturbed_;
  const bool deterministic_;
  std::vector<TaskHeader*> ready_;
  LocalQueue queue_;
  Reactor reactor_;
  std::thread thread_;
  // The LIFO slot: the owner puts tasks there and takes them (TakeLifoTask); others only take,
  // with StealLifoTask, while the monitor has marked the worker stuck.
  std::atomic<TaskHeader*> lifo_slot_{nullptr};
  // The fields below belong to the worker's thread.
  int lifo_polls_ = 0;
  uint32_t tick_ = 0;
  bool searching_ = false;
  bool polling_own_reactor_ = false;
  bool yield_requested_ = false;
  TaskHeader* current_task_ = nullptr;
  uint64_t random_state_;
  std::vector<TaskHeader*> steal_scratch_;  // For polling other workers' reactors.
  // Written by the owner, read by searchers and the monitor: on a cache line of their own, away
  // from the owner's other per-task fields.
  alignas(64) std::atomic<uint32_t> tasks_started_{0};
  std::atomic<bool> watching_own_reactor_{false};
  // Set by the monitor while the worker is stuck in one task; cleared when it starts another.
  std::atomic<bool> slot_stealable_{false};
};

// Every task of one scheduler that has suspended at least once and not finished (kRegistered):
// what Shutdown walks to tear down the tasks whose wakers (an Event, a channel, a JoinHandle of
// another runtime...) live outside the runtime, where nothing else would find them. A task joins
// at its first suspension, not at spawn, so the tasks that never suspend (most short ones) pay
// nothing. Sharded by the header's address, each shard a vector under a spin lock: joining is a
// push_back, leaving a swap with the last entry (TaskHeader::registry_slot says where a task is).
class SuspendedTasks {
 public:
  explicit SuspendedTasks(int num_workers);

  void Add(TaskHeader* task);
  void Remove(TaskHeader* task);
  // Calls `visit(task)` for every registered task, under its shard's lock (`visit` must not
  // leave the registry or take another shard's lock); returns how many it visited.
  template <typename Visit>
  size_t ForEach(Visit visit) {
    size_t visited = 0;
    for (uint32_t i = 0; i <= mask_; ++i) {
      SpinLockHolder hold(&shards_[i].lock);
      for (TaskHeader* task : shards_[i].tasks) visit(task);
      visited += shards_[i].tasks.size();
    }
    return visited;
  }

 private:
  struct alignas(64) Shard {
    SpinLock lock;
    std::vector<TaskHeader*> tasks;  // Guarded by lock.
  };
  Shard& ShardOf(const TaskHeader* task);

  std::unique_ptr<Shard[]> shards_;
  uint32_t mask_;  // Number of shards minus one (a power of two).
};

class Scheduler {
 public:
  // A paused clock (`start_paused`) is a test clock: see coral/clock.h. A seed (else the process's,
  // coral/internal/schedule_seed.h) perturbs the workers' free choices; `deterministic` (one
  // worker, a paused clock) makes the seed order every ready task. See "Seeded schedules and the
  // deterministic mode" in scheduler.cc.
  explicit Scheduler(int num_workers, bool start_paused = false, bool auto_advance = true,
                     std::optional<uint64_t> schedule_seed = std::nullopt,
                     bool deterministic = false);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  int num_workers() const { return static_cast<int>(workers_.size()); }
  Clock& clock() { return clock_; }
  // The seed the workers' free choices follow; none: they are not perturbed.
  std::optional<uint64_t> schedule_seed() const { return schedule_seed_; }
  bool deterministic() const { return deterministic_; }

  // Queues a task that holds one queue reference: on the calling worker if it is one of ours,
  // else on the global queue. After shutdown, tears it down instead.
  void Submit(TaskHeader* task);
  // Submit for a woken or aborted task, which the caller may hold with nothing else of the
  // runtime (an Event set from main, a wake from another runtime): Shutdown waits for the call
  // to return before the scheduler can be freed.
  void SubmitWoken(TaskHeader* task);
  // Stops the workers and tears down every unfinished task. Idempotent; not from a worker.
  void Shutdown();

  // --- For workers. ---
  bool is_shutting_down() const {
    // acquire: pairs with Shutdown's release; nothing else is published through it.
    return shutting_down_.load(std::memory_order_acquire);
  }
  GlobalQueue& global_queue() { return global_queue_; }
  BlockingPool& blocking_pool() { return blocking_pool_; }
  Idle& idle() { return idle_; }
  Monitor& monitor() { return monitor_; }
  Worker& worker(int index) { return *workers_[index]; }
  // Wakes a parked worker if none is searching.
  void NotifyParked();
  // The last searcher is going to sleep (or to run its own I/O): wake someone if any queue still
  // holds work. `except`, if set, is a worker whose own queue the caller has judged itself.
  void NotifyIfWorkPending(const Worker* except = nullptr);

  // Paused clock: runs the idle check soon (wakes a worker for it if every worker is parked).
  void RequestIdleCheck();
  // Paused clock, a worker that has just counted itself parked: if the runtime is idle, advances
  // the clock to the earliest deadline within its limit and fires the timers due then, onto the
  // calling worker, which then counts as unparked again (true; *searching says whether it counts
  // as searching). Otherwise (false) the caller sleeps. See "Timers and the clock".
  bool AdvancePausedClock(Worker* self, bool* searching);

  // Destroys the frame of a task that holds a queue reference (or kRunning), and completes it.
  static void TearDown(TaskHeader* task);
  // Shutdown, on its thread: tears down every queued task not torn down yet and every idle
  // registered task (TearDownRemainingAtShutdown, scheduler_entry.h).
  void TearDownRemaining();

  // TaskHeader: a task suspends for the first time (it holds kRunning) / a registered task
  // completes, or is destroyed unfinished. Any thread.
  void RegisterSuspended(TaskHeader* task) { suspended_.Add(task); }
  void UnregisterSuspended(TaskHeader* task) { suspended_.Remove(task); }

 private:
  // Shutdown, once no worker runs: tears down every registered task, and returns once none is
  // left (the ones other threads are tearing down meanwhile included).
  void TearDownSuspended();
  // Shutdown: tears down the tasks found in the queues, in queue order, from where it left off.
  void TearDownQueued();
  // One pass over the registry: claims every idle task onto the list of queued ones and tears
  // them down; returns how many were left to other threads.
  size_t TearDownIdleSuspended();

  // Sum of the workers' tasks_started(): a paused clock's sign of progress.
  uint64_t TasksStarted() const;

  const std::optional<uint64_t> schedule_seed_;
  const bool deterministic_;
  Clock clock_;
  // A paused clock's confirmation round (see "Timers and the clock"), guarded by clock_.mu().
  bool confirming_ = false;
  uint64_t confirm_epoch_ = 0;
  GlobalQueue global_queue_;
  Idle idle_;
  std::vector<std::unique_ptr<Worker>> workers_;
  Monitor monitor_{this};
  BlockingPool blocking_pool_;
  SuspendedTasks suspended_;
  // The tasks Shutdown took from the queues, and how many of them it has torn down. Only the
  // thread running Shutdown touches them.
  std::vector<TaskHeader*> queued_at_shutdown_;
  size_t next_queued_at_shutdown_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> shut_down_{false};
  // SubmitWoken calls from threads that are not this runtime's running workers, in progress. On
  // a line of its own: the workers read shutting_down_ on every turn.
  alignas(64) std::atomic<uint32_t> foreign_submits_{0};
};

// The worker whose thread is calling, or null.
Worker* CurrentWorker() noexcept;

// The reactor core and timers of the calling worker (null / aborts off the workers).
std::shared_ptr<ReactorCore> CurrentReactorCore();
TimerQueue& CurrentTimers();

}  // namespace coral::internal

#endif  // CORAL_RUNTIME_SCHEDULER_H_
