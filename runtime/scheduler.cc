// Copyright 2026 The coral Authors.
//
// coral's scheduler: design
// =========================
//
// Concepts
// --------
// A *task* is a spawned coroutine: one heap block holding a TaskHeader followed by the frame of
// its root coral::Task<T>. Every Task frame is allocated with room for the header in front, so
// spawning needs no second frame when it can be avoided: if the callable is a plain function
// whose every parameter has exactly the type of its decay-copied argument, the Task it returns
// already owns those copies and becomes the root itself. Otherwise (a lambda's captures, a
// reference parameter bound to std::ref, a std::string_view parameter given a std::string, which
// would view the spawner's string) a small wrapper Task (RunSpawned) owns the decay-copied
// callable and arguments and awaits the user's Task. Plain Task<T> coroutines awaited inside a task are not tasks: they run
// as part of it, and their header space stays unused. A *worker* is a thread that runs tasks;
// the *scheduler* owns N workers and a *global injection queue*. Each worker owns:
//
//   - a LIFO slot: the task most recently spawned or woken on this worker, run next (its data is
//     hot in cache, and a spawn-then-await or wake-then-run pair runs back to back);
//   - a local run queue (LocalQueue, 256 slots): the owner pushes at the tail and pops at the
//     head; idle workers steal half of it at once; when full, half of it moves to the global
//     queue in one batch;
//   - a Reactor (runtime/reactor.h): an epoll instance, an eventfd and a timer heap. Parking is
//     epoll_pwait2 with the earliest timer's deadline as timeout; waking a worker from another
//     thread writes its eventfd. An fd joins the epoll set of the worker on which it is first
//     awaited (edge-triggered, all events at once), except that an accepted connection joins
//     the accepting worker's at once (see "Alternatives rejected"); a readiness event or an
//     expired timer wakes the waiting task onto the worker that observed it, where any worker
//     may steal it.
//
// Tasks submitted from outside the workers (Runtime::Spawn from main, a JoinHandle::Abort from
// another thread) go to the global queue. A task suspends only in coral's awaitables; each records
// where the task resumes (TaskHeader::set_resume_point) before suspending, and whoever wakes it
// schedules it on the waking worker's LIFO slot, or the global queue if the waker is not a worker.
// A task may therefore run on a different worker after every suspension.
//
// The resume point is usually the awaiting coroutine. It may instead be a Resumer, an awaitable
// that runs first on the resuming worker (TaskHeader::set_resumer and Resume). AsyncFd's I/O
// awaiter is one: it retries its system call there, and when a wake-up proved stale (EAGAIN:
// another reader took the bytes) it registers again and returns, so the task goes idle without
// its coroutine having run. That is what lets the awaiter keep its state in the awaiting frame:
// a coroutine can suspend only once per co_await, and a loop of "wait, retry" otherwise needs a
// frame of its own per pending operation (392 bytes, most of what an idle connection cost beyond
// its buffer: idle_memory fell from 4,872 to 4,696 bytes per connection).
//
// The worker loop
// ---------------
// Worker::Run repeats, until shutdown:
//   0. Every kGlobalQueueInterval-th tick, poll the reactor without sleeping (I/O events and
//      expired timers), so that a worker busy with runnable tasks does not starve its fds. The
//      poll takes no more fd events than the local queue has room for; the rest wait in the
//      epoll ready list, in order, for the next poll. A full batch into a long queue would
//      overflow it, and the overflow moves the queue's oldest tasks to the global queue, behind
//      newer ones: measured at 10,000 echo connections, p99 ~370 ms with full batches against
//      ~210 ms capped (and 1,000 connections: 24 ms against 15 ms).
//   1. Every kGlobalQueueInterval-th tick, take a batch from the global queue first, so that
//      tasks there are not starved by a worker whose local work never runs out.
//   2. The LIFO slot, at most kMaxLifoPolls times in a row while other tasks are queued (then its
//      occupant goes to the back of the local queue: two tasks waking each other through the slot
//      would starve the queue). With nothing queued there is nobody to starve, and the slot runs
//      on: a chain of spawns stays on one worker without a round trip through the queue.
//   3. The local queue.
//   4. A batch from the global queue (up to half the local queue's capacity, and no more than a
//      fair share: its length divided by the number of workers, plus one).
//   5. Search: if fewer than half the workers are searching, become a searcher and try to steal
//      half of another worker's queue (or, if the monitor found that worker stuck, the task in its
//      LIFO slot: "Stuck workers"), visiting victims from a random start, then the global
//      queue, then poll the reactors of the other workers that are running a task, without
//      sleeping (a busy worker polls its own only every kGlobalQueueInterval tasks; an idle one
//      should not wait for that), then its own reactor; repeat, yielding the CPU in between, for
//      up to kSearchSpin. A worker that may not search (enough already do) but has fds
//      registered still polls its own reactor for that long before parking.
//   6. Park in the reactor.
// A searcher that finds work stops searching; if it was the last searcher, it wakes another
// parked worker, since where there was work to steal there is likely more ("the last searcher to
// find work wakes one more"). Together with the bound on searchers, this ramps parallelism up one
// worker at a time without a thundering herd. Work from the searcher's own reactor is the
// exception: its own fds becoming ready say nothing of a surplus elsewhere (it is where a tokio
// worker woken by its driver stands, and that one is not searching), so the last searcher leaving
// for it wakes a worker only if some queue holds work, the re-check of a parker (below; its own
// queue counts only beyond the one I/O task it may keep unannounced, see the edge rule). Before,
// with two hot connections on two workers, every round trip woke the other worker to search for
// nothing and park again: 23.7k context switches a second against tokio's 7.9k in the same run;
// after, 8.5k, and 45.9k round trips/s against 34.8k (medians of 5; 100 and 1,000 connections
// unchanged: 88.6k against 88.9k, 78.0k against 76.0k).
//
// Parking and its memory-ordering rule
// ------------------------------------
// A submitter (a push onto any queue another worker could take from) calls NotifyParked: if no
// worker is searching and some worker is parked, it wakes one and counts it as searching. A worker
// that goes to park decrements the unparked (and searching) counts in Idle's state word; if it was
// the last searcher, it then re-checks every queue and wakes a worker if any holds work. Any other
// parker re-checks the global queue. The race to close is the classic lost wake-up: the submitter
// reads "someone is searching" (or "nobody is parked"), while that worker has already looked at
// the queues and is about to park. A task in a local queue has an owner that will run it; one in
// the global queue, pushed while every worker counted as running, has none, and a worker that
// was not searching would otherwise park past it (tokio's parkers re-check only as the last
// searcher; coral's non-searching workers spin on their own reactors first, which would widen
// that window from a few instructions to the whole spin). Re-checking every local queue at every
// park, tried too, woke idle workers to steal from busy ones (chained_spawn's hops took 17%
// longer, median of 3 rounds, and up to 42% in one).
// The rule (Go's "#StoreLoad"):
//
//   submitter: push the task; seq_cst fence; load Idle's state word.
//   parker:    seq_cst read-modify-write of Idle's state word; then seq_cst loads of every queue.
//
// In the single total order of seq_cst operations either the parker's RMW precedes the
// submitter's fence, and then the submitter's load sees the decremented counts and wakes a
// worker; or the fence precedes the RMW, and then the parker's later seq_cst loads see the push
// (which is sequenced before the fence) and it wakes a worker itself. Either way the task is not
// stranded. The fence is one mfence and leaves the shared cache line in the Shared state, which
// matters because every spawn pays it. ThreadSanitizer does not model fences, so TSan builds use a
// fetch_add(0) on the state word instead: two RMWs on one word are ordered in its modification
// order and the later one reads from the earlier, which gives the same guarantee.
// The push itself needs only release (the global queue's size_, a local queue's tail_): a parker's
// seq_cst load that missed it is coherence-ordered before it, so it precedes the submitter's fence
// in the total order ([atomics.order] p4.2), and so does the parker's RMW before it; the
// submitter's load after the fence then cannot miss that RMW (p4.3). On x86 gcc emits the fence as
// `lock or $0,(%rsp)`, the same full barrier as the TSan build's `lock xadd`: the two builds
// differ in timing only. The rule covers pushes another worker must take; a push onto the
// pusher's own slot or queue that stays under the edge (below) needs none of it, because only the
// owner pushes there and a worker parks only after its slot and queue were found empty on its own
// thread and its search found nothing (Worker::Run), so it runs that task itself.
//
// A push that cannot strand work does not notify: a task placed in an empty LIFO slot is run next
// by its worker anyway, and a task in a LIFO slot cannot be stolen. A push onto the local queue
// or into the LIFO slot notifies only on an edge: when the worker goes from holding at most the
// one task it would run next to holding more (counting the slot: filling it after a push onto an
// empty queue is such an edge; a TSan run found the case where it was missed), or when it
// overflowed into the global queue. Pushes onto an already
// stealable queue need no notification, because the protocol above guarantees that the last
// searcher to park re-checks every queue: a queue that stays non-empty is never stranded, so only
// its becoming non-empty needs announcing. (Measured on yield_many, where every yield requeues:
// the fence of a per-push notification was 14% of the time.)
//
// Tasks woken by the worker's own reactor (a poll, or the events that end its park) move the edge
// by one (kUnannouncedFromOwnIo): the worker holds the task it runs next and one more before it
// wakes anybody. An I/O task's turn is typically a recv and a send, a few microseconds, while a
// parked worker takes 5-20 us to wake and then competes for the cores; with a backlog of one the
// polling worker gets there first, and the wake-up only burns CPU that others on the machine
// need. Two hot connections on two workers, 5 rounds: 53.1k round trips/s before, 76.3k after
// (medians; one worker serving both: 79.2k; tokio's two workers: 70.3k), p99 166 us against 93;
// 100 and 1,000 connections within noise (113.3k both; 98.5k against 94.4k, rounds 74-99k each).
// If the task it runs first proves long, the monitor sends a parked worker to steal the one it
// kept ("Stuck workers").
//
// Searching spins before parking. A park costs the next submitter an eventfd write and the
// parked worker a context switch (together roughly 5-20 us here); a searcher that keeps looking
// for kSearchSpin = 20 us first absorbs the short gaps of a bursty producer without any syscall,
// and as long as it searches, submitters see a searcher and do not write eventfds at all.
// Spinning at most about as long as a park/unpark round trip costs bounds the waste at 2x the
// optimum (the ski-rental argument). Measured on spawn_outside: 1.7x the throughput of parking at
// once.
//
// Two details of the spin matter when the runtime shares the machine (an echo server with its load
// generator on the same two cores). Each round polls the searcher's own reactor too: its fds'
// readiness would otherwise wait out the whole spin, since only the Park at its end watches them
// (one worker serving two ping-ponging connections: 41k round trips/s before, 95k after). And a
// round ends in sched_yield rather than CPU pauses: a searcher gives its core to any runnable
// thread (the load generator, a thread of another process) instead of burning the time that
// thread needs to produce the searcher's next work. With nothing else runnable, sched_yield
// returns at once and the spin behaves as before (echo, 3 rounds: 1.24x at 100 connections,
// 1.08x at 1,000, even at 10,000, against pauses).
//
// Two more keep each worker on its own connections. A worker that is not running a task watches
// its own reactor (it searches, spins or sleeps in it), and searchers leave such a reactor alone:
// taking its events would only move the task and its socket's cache lines to another core, and
// wake the owner for nothing if it sleeps there. And a worker turned away from searching (with
// two workers, one searcher is the limit) spins on its own fds instead of parking at once: before
// that, with one hot connection on each of two workers, whichever did not hold the search slot
// parked after every round trip and was woken by epoll for the next (echo, 2 connections, 8
// rounds: minimum 25k round trips/s before, 43k after, medians 55k and 53k; a later 5-round A/B
// gave 27-58k against 22-61k, so the gain is within this machine's noise). Two workers served
// two hot connections more slowly than one worker (40k against 72k round trips/s, medians; 36k
// against 51k once accepted connections shared the acceptor's reactor) until a searcher stopped
// waking others for its own I/O and a backlog of one I/O task stopped waking anybody (above):
// every such wake-up parked again after a few microseconds of work, and its park and wake-up
// competed for the two cores with the load generator. A longer spin (50 and 100 us) and
// searchers that never poll other reactors had measured no better.
//
// The Reactor itself remembers an Unpark that comes before the Park (kNotified), so the eventfd
// is written only when the worker is really asleep, once per sleep. Another worker polling this
// reactor never consumes the eventfd (it is level-triggered and left for the owner).
//
// An idle runtime uses no CPU: after at most kSearchSpin of searching, every worker sleeps in
// epoll_pwait2, with no timeout unless one of its timers is armed.
//
// Stuck workers
// -------------
// A worker polls its reactor between tasks, so one task that runs for long (a CPU-heavy request, a
// blocking call that should have been SpawnBlocking) would strand every fd event and timer on that
// worker while the other workers sleep: a searcher polls the reactors of workers running a task,
// but nobody searches once the other workers have parked, and nothing wakes them, since the events
// reach only the stuck worker's epoll. tokio avoids this with one shared driver that any parking
// worker takes; Go with sysmon, a thread that polls the network when nobody has for 10 ms. coral's
// Monitor (runtime/monitor.h) is the part of sysmon needed here: every Monitor::kInterval it reads
// each worker's tasks_started count, and if a worker that is running a task (not watching its
// reactor) has started no new one since the last look and has fds, timers, queued tasks or a task
// in its LIFO slot (which it marks stealable, below), it wakes a parked worker as a searcher
// (NotifyParked), which steals the tasks and polls that reactor. So a task that hogs its worker
// delays its neighbours' I/O by one to two intervals, not by its whole run. The interval is 1 ms
// while some worker has been seen on one task for a whole interval, and doubles up to
// Monitor::kMaxInterval (8 ms) with each look that finds every running worker on a new task: a busy
// runtime of short tasks (the usual case) is looked at 125 times a second instead of 1,000, and a
// hog that starts after such a calm spell is helped within 8-16 ms (Go's sysmon backs off the same
// way, to 10 ms); from then on the monitor is back at 1 ms. The monitor runs no tasks, and a
// runtime with one worker has none. When every worker is parked it sleeps until one unparks
// (Worker::Park tells it, after Idle's seq_cst transition; the monitor stores its sleeping flag and
// then loads Idle's word: the same StoreLoad handshake as parking), so an idle runtime still uses
// no CPU.
//
// The LIFO slot of a stuck worker is stealable, as Go's runnext is (tokio's is not: a task spawned
// just before a long computation waited out the whole computation while the other workers slept).
// Go pays a CAS on every schedule and take, which would be over a quarter of a chained_spawn hop
// here. coral's slot is stealable only after the monitor found its worker on one task and marked
// it (MakeLifoSlotStealable; the mark is cleared when the worker starts another task), so a
// searcher leaves a busy worker's slot and its cache-hot task alone. Owner and thief both take
// with an atomic exchange, which makes the take exclusive without a loop; the owner fills an
// empty slot with a plain release store (only it ever fills the slot, so an empty slot stays
// empty until then), and displaces an occupant with an exchange (a thief may have emptied it). So
// the owner pays one locked instruction per hop, on the take. Cheaper takes need the thief to know
// that the owner is not between its load and its store, a Dekker handshake: a fence on the owner's
// side at every turn, which costs what the exchange does. (An asymmetric fence, membarrier(2) on
// the rare thief's side, would remove it; not done.)
//
// Cooperative budget
// ------------------
// A task yields its worker only when it suspends, and an await whose resource is ready does not
// suspend: a task receiving from a channel that always has values, reading a socket that always
// has data or locking a mutex that is always free would run forever, and a task queued behind it
// on its worker would never start (before the budget: 4 million receives in 300 ms while a
// sibling waited). So every turn of a task (RunTask) grants kTaskBudget = 128 units
// (coral/internal/budget.h; tokio's value), and every awaitable that can complete without
// suspending spends one before it tries its operation: channel Send/Recv (and Oneshot), Select,
// AsyncMutex/AsyncSharedMutex/Semaphore acquisition, Event/Latch waits, Notify's stored permit,
// AsyncFd readiness and I/O (stream reads, writes, accept), a sleep whose deadline has passed, a
// finished JoinHandle, TaskGroup::Join without children, an already-cancelled token. When none is
// left, the awaitable suspends instead, as Yield does (the task goes to the back of its worker's
// queue), with a Resumer (BudgetRetry, or IoAwaiter itself) as its resume point, which on the
// task's next turn runs the awaitable's await_ready and await_suspend again and resumes the
// coroutine if either completes: the operation is performed then, or waits as usual. Checking
// before the operation is what keeps hand-offs safe: a task that yields holds no value, permit or
// lock it was given, so a task torn down while it yields has nothing to give back.
//
// The budget is a thread-local counter, so the ready path pays one call (out of line, like every
// scheduler entry point a migrating coroutine uses) and a decrement. Off a task's turn (a thread
// that is not a worker) the counter starts at INT32_MAX and is reset when it runs out, so nothing
// is ever refused there. Awaiting a Task<T> or Yield, SpawnBlocking and other awaitables that
// always suspend spend nothing.
//
// Timers and the clock
// --------------------
// Every timer runs on the runtime's Clock (runtime/clock.h; include/coral/clock.h is the
// contract): deadlines are coral::Instants on CLOCK_MONOTONIC, and a park's timeout is the
// earliest deadline minus the same clock's now, so a step of the wall clock (NTP, settimeofday,
// a VM resumed) moves no sleep, timeout, interval or deadline. Before, deadlines were absl::Times
// read from CLOCK_REALTIME: a step forward fired every pending timer at the next turn, a step
// back stalled them for its length. APIs that take an absl::Time convert it once, at the call.
// coral::Now() is the one clock read of the timer code; tests/clock_step_test.cc steps
// CLOCK_REALTIME under the whole process to hold it to that.
//
// Paused time (Options::start_paused) makes the Clock virtual, for tests. Its timers never fire
// in a reactor turn and a park has no timeout; the clock moves only in
// Scheduler::AdvancePausedClock, which the last worker to park runs under the clock's lock:
// if every worker is parked (Idle's state word, which also counts notified and searching
// workers), no SpawnBlocking call is in flight, the global queue is empty, and a non-blocking
// poll of every reactor's fds wakes nothing, the runtime looks idle. That is not yet proof: a
// worker still counted parked may have taken events from its epoll (edge-triggered: nobody
// else will see them) and not yet woken their tasks; a test whose tasks talk over loopback
// caught the clock jumping past a write in that window. So with more than one worker the check
// first runs a confirmation round: it wakes every other parked worker (Idle::NotifyAllParked)
// and notes the sum of the workers' tasks_started; each wakes, dispatches what its epoll held,
// and parks again, and the last to park checks again. If no task started in the round (the sum
// is read after Idle's seq_cst word shows everyone parked, so it includes every start before
// their parks), the runtime is idle: the check sets the clock to the earliest deadline (if
// within the limit: infinite with auto-advance, else the furthest AdvanceTime target) and fires
// the timers due then, from every worker's queue onto its own. Otherwise a new round begins. A
// step thus costs every worker a wake-up (some tens of microseconds). The check counts itself
// unparked before firing, so a later check cannot count it idle while it holds the woken tasks;
// they run, and only when every worker has parked again does the clock take its next step.
// Timers thus fire in deadline order, at exactly their deadlines, whatever the number of workers. A blocking call
// wakes its task before it leaves the in-flight count, and the check reads that count before
// Idle's word, so a zero read cannot miss the wake-up; the call that drops the count to zero
// wakes a parked worker to check again (a woken searcher that finds nothing parks, and checks).
// tokio's rule is the same on its one thread (a zero-timeout I/O poll, blocking calls inhibit
// auto-advance); tokio does not pause a multi-threaded runtime. Wake-ups from outside the
// runtime (a foreign thread, a peer's fd that becomes ready after the check) race with the
// advance, as they do in tokio.
//
// Task state
// ----------
// TaskHeader::state_ is one atomic word: flag bits plus a reference count (include/coral/internal/
// task_header.h names them).
//
//   kScheduled       the task is in a run queue, or was notified while running (the worker then
//                    requeues it when it suspends). Set by: spawn, wake, abort, yield.
//   kRunning         a worker is resuming it, or tearing it down. Only that worker touches the
//                    frame and resume_point.
//   kComplete        finished: returned, threw, or was torn down. Terminal.
//   kCancelled       Abort was requested. A worker that would run the task tears it down instead:
//                    it destroys the frame (the destructors of its locals run, and each awaitable
//                    deregisters itself) without resuming it.
//   kJoinInterest    the JoinHandle still exists.
//   kJoinWaiter      a task awaiting the JoinHandle is registered in join_waiter_.
//   kFrameDestroyed  the frame was destroyed before completion; there is no output.
//   kRegistered      the task is in its scheduler's registry of suspended tasks (see "Shutdown").
//                    Set by its worker at its first suspension; cleared by Complete.
//
// References. The count is the number of owners of the heap block:
//   - the run queue: one reference while kScheduled; it becomes the running reference when a
//     worker pops the task, goes back to the queue if the task yields or was notified while
//     running, and is dropped when the task goes idle or completes;
//   - the JoinHandle: one, until dropped or detached; and a task suspended awaiting it holds one
//     more for as long as it waits, so the handle may be dropped meanwhile;
//   - each outstanding waker: one. The wakers are a joined task's join_waiter_, an IoWaiter linked
//     into an fd's registration, an armed timer entry, and a SpawnBlocking call's shared state.
//     Waking (Wake) hands the reference to the queue, or drops it if the task is already queued,
//     running or complete; an awaitable destroyed while still registered (its task torn down)
//     unregisters and drops it itself.
// Whoever drops the last reference deallocates, on whatever thread that is: it destroys the frame
// if it still exists, then frees the block. A task that goes idle with no references (no waker,
// no handle: it can never run again) is destroyed right there.
//
// Why the header sits in front of the frame: a task aborted while suspended has its frame
// destroyed at once, but a waker may still hold a reference and later try to schedule it. The
// promise's operator delete therefore frees the block only when the count is zero; otherwise the
// header stays, marked kFrameDestroyed, until the last reference goes.
//
// Who may touch what:
//   frame, resume_point_      the worker holding kRunning (handed over by queue push/pop and by
//                             the acq_rel transitions of state_)
//   output (in the promise)   written by the running worker before kComplete; read by the
//                             JoinHandle owner after it observes kComplete (acquire)
//   join_waiter_              the JoinHandle owner while kJoinWaiter is clear; the completer after
//                             it set kComplete over kJoinWaiter
//   queue_next                whoever holds the queue reference (the global queue, under its lock)
//   Task<T> rendezvous flags  the worker holding kRunning: a task is resumed only by that worker,
//                             after the previous resumption returned, which is why task.h can keep
//                             them as plain bits in the low bits of the awaiter's address (so a
//                             promise is two words, in every Task frame)
//
// Cancellation
// ------------
// Two forms. The cooperative one is the everyday one: every task runs under a cancellation token
// (TaskHeader::cancellation_, one reference owned by the header, inherited at Spawn from the
// spawning task, or the TaskGroup's). Cancelling never touches the scheduler's state word: every
// suspending awaitable derives from a CancellableWait that registers a callback on the task's
// token after registering its waker (timer, readiness list, join slot, lock queue). Every pending
// wait carries one, so it is 40 bytes: the list node, whose function pointer is the awaitable's
// own callback (which finds its awaitable from the node with a static_cast, not a stored context
// pointer), and the token it is linked on. The callback runs on the
// canceller's thread and tries to take the waker registration back; whoever takes it (the normal
// completion or the callback) owns the waker reference and wakes the task, so a task is woken
// exactly once and a primitive never loses a hand-off to a cancelled waiter. The awaitable then
// deregisters its callback, which waits for a callback running on another thread to return; its
// result is absl::CancelledError. A wait that would begin under a cancelled token does not start.
// The callback list is the token's (runtime/cancellation.cc), so tasks that never wait under a
// token pay nothing, and a wait pays one uncontended spin lock twice. Shielded/WithCancellation/
// Timeout swap the header's token for the length of an awaited sub-task; only the task itself does
// that, while it runs. A teardown destroys the frames outermost first, so each scope must destroy
// the sub-task it awaits before it puts back the token it replaced (Timeout's awaiter does it in
// its destructor; WithCancellation keeps the sub-task in a local, destroyed before its scope):
// otherwise an outer scope restores first and an inner one then installs a token that is about to
// be freed, and the header later drops a reference it does not own. A deadline (Timeout,
// CancellationSource::WithDeadline) is a timer entry in the token's own block, not a task
// (runtime/cancellation.cc).
//
// The forceful form is JoinHandle::Abort: it sets kCancelled. A task not yet started never runs. A
// queued or running task is torn down by the next worker that would resume it. An idle
// (suspended) task is queued by the abort itself so a worker tears it down promptly.
//
// Teardown and TaskGroups. A task that owns a TaskGroup with live children cannot have its frame
// destroyed: the children may borrow its locals. TearDown then cancels the group and hands the
// teardown to the group (TaskHeader::groups_ lists a task's groups); the last child to finish
// calls TearDown again, on its own thread. Meanwhile the owner stays kRunning, so nothing else
// resumes or destroys it; wakers that find it running just drop their references. Shutdown
// relies on the same path: the children are torn down by the drain, and the last one finishes
// their owner.
//
// Synchronization primitives
// --------------------------
// AsyncMutex, AsyncSharedMutex, Semaphore, Event, Notify, Latch and the channels share one waiting
// protocol (sync/wait_queue.cc): a FIFO of waiters under the primitive's spin lock, each holding a
// waker reference; exactly one of "granted by the primitive" and "removed by its cancellation
// callback" takes a waiter out, and that side wakes the task, after releasing the lock (a wake
// after shutdown tears the task down inline, and its awaitable takes the same lock). Granting is
// a hand-off: the lock, permits or value are the waiter's before it runs, so nobody barges past
// the queue and a cancelled waiter never holds what it waited for. A waiter torn down after a
// grant gives back what it was handed. A channel's values move through a lock-free ring; only
// tasks that must wait take the lock (include/coral/channel.h, ChannelState).
//
// Shutdown, step by step
// ----------------------
//   1. Shutdown sets shutting_down_, stops the monitor and unparks every worker.
//   2. Each worker finishes the task it is running (until that task suspends or completes) and
//      leaves its loop; Shutdown joins the threads. No task runs after this step.
//   3. The global queue is closed: every later Submit (a spawn from another thread, a wake from
//      a destructor, an abort) tears the task down on the submitting thread instead of queueing.
//   4. Every task still queued (global queue, each LIFO slot and local queue) is torn down on the
//      calling thread. Tearing a task down completes it, which wakes its join waiter, which is
//      torn down in turn (step 3), and so on.
//   5. Each reactor shuts down: its registrations are marked shut down (later waits fail with
//      CancelledError, later registrations are refused), every task waiting on an fd is woken,
//      and every armed timer fires; all of those wakes tear tasks down (step 3).
//   6. Every task left in the registry of suspended tasks (below) is torn down: those waiting on
//      a primitive or channel, on a task or fd of another runtime, on a blocking call. One that
//      is idle is taken as an abort takes it (kCancelled, kScheduled, one reference) and torn
//      down on the calling thread: its awaitables' destructors take it off whatever it waited on
//      and drop their waker references. One that another thread holds is left to it: a waker
//      submitting it tears it down (the queue is closed), a TaskGroup's owner is finished by its
//      last child, a task whose last reference was just dropped is being destroyed. Shutdown
//      repeats until the registry is empty.
//   7. The blocking pool refuses new calls and waits for the running ones; their waiters are
//      already gone.
//   8. No unfinished task is left. What remains are complete tasks owned by handles held outside
//      (they report CancelledError); a later wake, abort or drop of one of them finds it complete
//      and never reads its scheduler pointer, so a waker that fires after the runtime is gone
//      (an Event set by main) touches nothing of it. AsyncFds that outlive the runtime close
//      without it (their reactor core is reference-counted).
// Destroying a runtime runs Shutdown. Doing either from one of its own workers is a fatal misuse:
// the worker would have to join itself.
//
// The registry of suspended tasks (SuspendedTasks in scheduler.h). A task that is queued or
// running is found by steps 2-4; one that is idle can be reached only through its wakers, which
// may live outside the runtime (an Event owned by main, a channel shared with another runtime).
// So a task joins the registry at its first suspension (TransitionToIdle, still holding kRunning;
// the state bit kRegistered records it), and leaves when it completes (Complete, holding
// kRunning) or, unfinished, when its last reference is dropped (once its frame is destroyed, in
// the frame's operator delete). Leaving is the last touch of the scheduler on the task's behalf.
// A thread outside the runtime that wakes or aborts a task (SubmitWoken) holds a task that was
// idle, hence registered, so the scheduler is alive when it starts; it counts itself in
// foreign_submits_ until it has pushed and notified a worker, and Shutdown waits for the count to
// drop (a wake queued just before the queue closed still notifies after its task is torn down).
// A new task is submitted by its spawner through the Runtime, which it holds. Cost: nothing for a
// task that never suspends (spawn_outside's and chained_spawn's tasks: the only addition on their
// path is a bit test in the frame's operator delete, folded into a load it made already:
// callgrind counts the same instructions per chained_spawn hop in every function; wakes from a
// worker of the runtime do not count themselves), and for one that does, once in its life rather than per suspension, a
// push_back and a swap-remove under a spin lock (shards hashed by address, about four per worker,
// so two threads rarely meet on one), plus one fetch_or. No header field: the 32-bit slot shares
// a word with the frame size. An intrusive list of every live task, linked at spawn, would cost
// both hot paths a lock round trip and every Task frame 16 bytes of links.
//
// Tunables
// --------
//   LocalQueue::kCapacity = 256: tokio's value. Large enough that bursts rarely overflow to the
//     global queue; small enough that stealing half is a short copy.
//   kTaskBudget = 128: tokio's budget per poll. Enough that a ready operation rarely pays for a
//     yield (one per 128), small enough that a flooding task holds its worker for microseconds.
//   kMaxLifoPolls = 3: tokio's MAX_LIFO_POLLS_PER_TICK. Enough for request/response pairs to run
//     back to back, small enough that a pair of tasks waking each other cannot starve the queue.
//   kGlobalQueueInterval = 61: Go's schedtick % 61 and tokio's default; a prime, so it does not
//     beat against periodic task patterns.
//   Searchers at most half the workers: Go's and tokio's rule.
//   Global batch: min(len / num_workers + 1, kCapacity / 2): Go's globrunqget.
//   kSearchSpin = 20 us: see "Parking".
//   kUnannouncedFromOwnIo = 2 (kUnannounced = 1 otherwise): see "Parking"; measured on two hot
//     connections on two workers.
//   Monitor::kInterval = 1 ms: a stuck worker's neighbours wait 1-2 ms for their I/O (and the
//     task in its LIFO slot for another worker). Go's sysmon
//     waits 10 ms before polling the network for a busy runtime; 1 ms keeps such a stall inside
//     a service's p99 budget (echo at 100 connections, 3 rounds each: within 2% of the round
//     trips without the monitor, and p99 2.7-3.0 ms against 4.1-4.3 ms, busy workers' backlogs
//     now helped).
//   Monitor::kMaxInterval = 8 ms, the back-off's ceiling: at 1 ms throughout, the monitor took
//     2.9% of a core (perf, cpu-clock samples of the server with two hot connections: 457 of
//     14,966; a look costs about 28 us here, a wake-up and two switches in this VM) and the busy
//     worker got 90% of a core against 97% with one worker. Backing off: 540-720 looks in 4 s
//     against about 4,000 (the interval is kept across the monitor's sleeps while every worker
//     is parked; restarting at 1 ms after each doubled the looks). Three 8-round A/Bs of two hot
//     connections: two workers with the back-off 65.9k, 80.9k and 73.2k round trips/s, at 1 ms
//     throughout 56.2k, 78.4k and 72.2k, one worker 63.3k, 75.2k and 77.9k: a gain, but within
//     this machine's noise. Go's 10 ms is the precedent; 8 keeps the doubling on powers of two.
//   The global queue's lock is a spin lock (coral/internal/spin_lock.h): its critical sections
//     are a few pointer writes, and a futex sleep on contention cost the spawning thread 6% of
//     its time on spawn_outside.
//   Reactor: up to 256 events per epoll_pwait2 (kMaxEvents), tokio's event batch size; timers in
//     a binary heap per worker (O(log n) insert and cancel under the worker's timer mutex), on
//     CLOCK_MONOTONIC ("Timers and the clock").
//   Accept back-off at the fd limit: 1 ms doubling to 100 ms (Go's net/http sleeps 5 ms to 1 s;
//     100 ms keeps recovery prompt and the retry cost far under 1% of a core).
//   Blocking pool: 512 threads, 10 s keep-alive, both tokio's defaults.
//   Frame cache (runtime/frame_allocator.cc): 16-byte classes up to 2 KiB, at most 64 blocks per
//     class and 1 MiB per thread. Every spawn allocates one frame (two with a wrapper) and every
//     awaited Task one more; the cache removed about a third of the cost of a hop on
//     chained_spawn. A full class hands 32 blocks to a shared depot (at most 32 batches per class)
//     and an empty one takes a batch back, tcmalloc's transfer cache in small: frames made on one
//     worker and freed on another (TaskGroup children) otherwise fell through to malloc's arena
//     lock, and TaskGroup spawn-and-join ran at half the speed of plain Spawn. No block is under
//     128 bytes: smaller ones are glibc fastbin chunks, and spawn_outside ran 20% slower on them.
//   TaskGroup::errors() keeps the first 256 failures: an accept loop's group must not grow.
//   Channels: senders blocked on a full channel are let in once it is down to half its capacity
//     (one lock and one wake-up per half buffer instead of per value).
//
// Alternatives rejected
// ---------------------
//   - One shared queue for all workers: every push and pop contends on one lock or cache line.
//   - Chase-Lev deques with owner LIFO pops: the owner pops what it pushed last, which is cache
//     friendly but starves old tasks under a steady spawn load; the LIFO slot gives the cache
//     benefit for the one task that matters, and the FIFO ring keeps fairness.
//   - Condition variables or futexes for parking: the worker must also wait for I/O, and epoll can
//     wait for both at once, so a worker needs no separate I/O thread.
//   - Symmetric transfer for Task<T> completion: gcc 12 does not make it a tail call at -O0 or
//     under the sanitizers, and a loop awaiting 1,000,000 completed tasks overflows the stack;
//     task.h uses a rendezvous flag instead.
//   - Storing the task header inside the promise: an aborted task's frame could not be destroyed
//     while a waker still held a reference (see "Task state").
//   - A separate root frame around every spawned Task: two allocations and two coroutine frames
//     per spawn. Reserving the header's 64 bytes in every Task frame instead lets a plain
//     function's Task be the root; measured on chained_spawn, a hop went from about 79 to 63 ns.
//   - One shared epoll instance for all workers (tokio's single driver, taken by whichever worker
//     parks first): simpler, but every wake then crosses threads, and timers and user fds gain
//     nothing from it. Per-worker instances keep an fd's events on the worker that waits on it;
//     idle workers polling busy workers' instances recover the balance a shared instance gives
//     for free.
//   - Spreading one accept loop's connections over the workers' instances, whether by where
//     each connection's task first waits (as before: a spawned task is often stolen before its
//     first read) or round-robin (measured worse still). Both split the connections' ready
//     lists, so an idle worker's help comes per instance instead of from one FIFO of
//     everything that is ready. Registering each accepted connection on the accepting worker
//     keeps them in one list, which the acceptor drains and every searcher helps with (echo,
//     100 connections, A/B of 3 rounds: p99 1.8-1.9 ms against 4.0-4.4 ms, 1.04x the round
//     trips; 1,000: 1.02x, p99 17.8-19.1 ms against 18.5-22.6; 10,000, 5 rounds: median rate
//     0.97x, p99 192 against 186 ms; two hot connections on two workers: median 43.5k against
//     30.5k round trips/s). Services that want several lists run one accept loop per worker
//     on reuse_port listeners.
//   - A timerfd per worker: one more syscall on every change of the earliest deadline;
//     epoll_pwait2's nanosecond timeout does the same job inside the park.
//   - A hierarchical timer wheel: O(1) but coarse (1 ms slots) and with cascading work; a heap
//     is exact, and at the timer counts of a service (thousands per worker) its log n is small.
//   - Freeing a closed fd's registration "at the owner's next turn": wrong once other workers
//     poll the owner's instance. A registration is freed only when, after its EPOLL_CTL_DEL, no
//     poll of that instance is in progress (ReactorCore::FreeReleased).
//   - A cancellation node allocated per wait, only for tasks under a token (the wait would hold
//     a pointer instead of the 40-byte node): an allocation on every wait of every task in a
//     TaskGroup (all of them have a token), and more memory per pending wait there, not less.

#include "runtime/scheduler.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include "coral/internal/budget.h"
#include "coral/internal/check.h"
#include "coral/internal/scheduler_entry.h"
#include "coral/yield.h"

namespace coral::internal {
namespace {

// Under ThreadSanitizer, a quarter of the tasks spawned or woken on a worker skip the LIFO slot,
// so that the tests explore orders a real load would produce (after Go's randomizeScheduler).
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
      reactor_(&scheduler->clock()),
      random_state_(0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1)) {}

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
  const uint32_t before = RunnableHere();
  queue_.PushBack(task, scheduler_->global_queue());
  NotifyIfCrossed(before);
}

void Worker::ScheduleLocal(TaskHeader* task) {
  const uint32_t before = RunnableHere();
  if (kRandomizeScheduling && NextRandom() % 4 == 0) {
    // Shake out code that assumes a woken task runs next.
    queue_.PushBack(task, scheduler_->global_queue());
  } else if (lifo_slot_.load(std::memory_order_relaxed) == nullptr) {
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
  return global.PopBatchInto(queue_, std::min<uint32_t>(LocalQueue::kCapacity / 2, fair_share));
}

TaskHeader* Worker::NextLocalTask() {
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
  for (int i = 0; i < n; ++i) {
    const int victim = (start + i) % n;
    if (victim == index_) continue;
    Worker& other = scheduler_->worker(victim);
    if (TaskHeader* task = other.queue().StealHalfInto(queue_)) return task;
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
  budget = kTaskBudget;
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
  shard.tasks.push_back(task);
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

Scheduler::Scheduler(int num_workers, bool start_paused, bool auto_advance)
    : clock_(start_paused, auto_advance),
      idle_(num_workers),
      blocking_pool_(start_paused ? std::function<void()>([this] { RequestIdleCheck(); })
                                  : nullptr),
      suspended_(num_workers) {
  CORAL_CHECK(num_workers > 0 && num_workers < (1 << 15),
              "coral::Runtime needs between 1 and 32767 workers");
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
  TaskHeader* queued = global_queue_.Close();
  while (queued != nullptr) {
    TaskHeader* next = queued->queue_next;
    TearDown(queued);
    queued = next;
  }
  for (auto& worker : workers_) {
    while (TaskHeader* task = worker->TakeLocalTask()) TearDown(task);
  }
  // Tasks waiting for I/O or timers: waking them now tears them down (the queue is closed).
  for (auto& worker : workers_) worker->reactor().Shutdown();
  // Tasks waiting on anything else (a primitive, a channel, another runtime's task or fd, a
  // blocking call): only the registry knows them.
  TearDownSuspended();
  // Blocking calls still running finish; the tasks that awaited them are gone.
  blocking_pool_.Shutdown();
  // A thread that queued a woken task just before the queue closed may still be notifying a
  // worker. acquire: pairs with SubmitWoken's release.
  while (foreign_submits_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
}

void Scheduler::TearDownSuspended() {
  std::vector<TaskHeader*> batch;
  for (;;) {
    // An idle task becomes ours as an abort makes it the queue's (kCancelled, kScheduled, one
    // reference). A task that is not idle is in another thread's hands: a waker (or an abort) that
    // is submitting it tears it down itself, since the queue is closed; a TaskGroup's owner is
    // finished by its last child; a task whose last reference was just dropped is being destroyed.
    const size_t registered = suspended_.ForEach([&batch](TaskHeader* task) {
      if (task->TransitionToCancelled()) batch.push_back(task);
    });
    if (registered == 0) return;
    // Each teardown leaves the registry (in Complete), after we released its shard's lock.
    for (TaskHeader* task : batch) TearDown(task);
    // Nothing of ours: wait for the other threads to finish theirs.
    if (batch.empty()) std::this_thread::yield();
    batch.clear();
  }
}

// --- Entry points for the public templates (coral/internal/scheduling.h) ------------------------

Scheduler* CurrentScheduler() noexcept {
  return current_worker != nullptr ? current_worker->scheduler() : nullptr;
}

bool InTeardown() { return in_teardown; }

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
