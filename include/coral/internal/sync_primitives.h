// Copyright 2026 The coral Authors.
//
// The one door between coral's lock-free cores and the machine: the atomics, fences, spin-wait
// steps and blocking mutex that the local and global run queues, parking (Idle), the task state
// word, the wait queue, AsyncMutex's state word, the bounded channel ring, cancellation state and
// the frame allocator's depot use. The cores name Atomic<T>, AtomicThreadFence, CpuRelax,
// ThreadYield, SystemMutex and ThisThreadId, never std::atomic, std::mutex or
// std::this_thread::get_id directly.
//
// The default build maps each to the standard facility (Atomic<T> is std::atomic<T>): no cost. A
// model-checking build (CORAL_MODEL_CHECK defined, tests/model/) maps them to Relacy's simulated
// atomics, fences and mutex, whose scheduler then explores the interleavings and weak-memory
// outcomes of the shipped code, as tokio's src/loom/ swaps in loom. kModelCheck lets a core shrink
// a tunable under the model (the local queue's capacity), so that the bounded search reaches the
// interesting states (full, overflowing) in a few steps.
//
// Under the model the code must run inside a Relacy test (rl::simulate): the wrappers record each
// operation's source location for Relacy's failure history.

#ifndef CORAL_INTERNAL_SYNC_PRIMITIVES_H_
#define CORAL_INTERNAL_SYNC_PRIMITIVES_H_

#include <atomic>

namespace coral::internal {

// A StoreLoad handshake (scheduler.cc, "Parking") reads the shared word with a read-modify-write
// instead of a seq_cst fence and a load: under ThreadSanitizer, which does not model fences, and
// in the model check of that variant (CORAL_STORE_LOAD_BY_RMW).
#if defined(__SANITIZE_THREAD__) || defined(CORAL_STORE_LOAD_BY_RMW)
inline constexpr bool kStoreLoadByRmw = true;
#else
inline constexpr bool kStoreLoadByRmw = false;
#endif

}  // namespace coral::internal

#if !defined(CORAL_MODEL_CHECK)

#include <mutex>
#include <thread>

namespace coral::internal {

inline constexpr bool kModelCheck = false;

template <typename T>
using Atomic = std::atomic<T>;

inline void AtomicThreadFence(std::memory_order order) { std::atomic_thread_fence(order); }

// One step of every spin-wait in coral. It tells the core that the thread is spinning (`pause`
// on x86, `yield` on AArch64), which frees the core's resources for a sibling hardware thread and,
// on x86, avoids the memory-order mis-speculation penalty when the awaited store arrives.
// Elsewhere it does nothing.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Gives the CPU to another runnable thread (a spin-wait that has spun long enough).
inline void ThreadYield() { std::this_thread::yield(); }

using SystemMutex = std::mutex;

// Which thread is running: cancellation state tells a callback deregistering itself from a
// deregistration on another thread.
using ThreadId = std::thread::id;
inline ThreadId ThisThreadId() { return std::this_thread::get_id(); }

}  // namespace coral::internal

#else  // CORAL_MODEL_CHECK

#include <source_location>

// Relacy's C++ mode orders a seq_cst fence only against other seq_cst fences, short of the
// standard's rule that a seq_cst operation after the fence in the total order sees what preceded
// the fence ([atomics.order] p4), on which parking relies (scheduler.cc, "Parking"): without
// this option Relacy reports a lost wake-up that the standard rules out. With it, a seq_cst
// read-modify-write also acts as a seq_cst fence, which is that rule for the patterns coral uses.
// But Relacy applies it to every read-modify-write, relaxed ones too, and so orders more than C++
// does: a release dropped from a CAS goes unseen. A model whose core does not rely on the rule
// opts out with CORAL_MODEL_EXACT_RMW (docs/reliability.md).
#if !defined(CORAL_MODEL_EXACT_RMW)
#define RL_IMPROVED_SEQ_CST_RMW
#endif

// Relacy's parts that coral's models use; relacy/relacy.hpp would also bring its Windows and
// pthread emulations, whose macros break the system headers included later, and macros for its
// own test programs (new, delete, memory_order_*, ...). They must come in this order.
// clang-format off
#include <relacy/base.hpp>
#include <relacy/context.hpp>
#include <relacy/context_base_impl.hpp>
#include <relacy/backoff.hpp>
#include <relacy/atomic_fence.hpp>
#include <relacy/atomic.hpp>
#include <relacy/var.hpp>
#include <relacy/thread_local.hpp>
#include <relacy/test_suite.hpp>
#include <relacy/dyn_thread.hpp>
#include <relacy/stdlib/mutex.hpp>
#include <relacy/stdlib/condition_variable.hpp>
#include <relacy/stdlib/semaphore.hpp>
#include <relacy/stdlib/event.hpp>
// clang-format on

// Relacy replaces the global operator new and delete (inside a simulation, to find leaks), but
// not the sized deletes that C++14 code calls; these send them to its replacements, so that no
// block reaches a deallocator that did not allocate it. `used`: emitted even where this file does
// not call them, so that the libraries of the test binary bind to them too.
[[gnu::used]] inline void operator delete(void* block, std::size_t) noexcept {
  ::operator delete(block);
}
[[gnu::used]] inline void operator delete[](void* block, std::size_t) noexcept {
  ::operator delete[](block);
}

namespace coral::internal {

inline constexpr bool kModelCheck = true;

namespace model {

inline rl::memory_order Order(std::memory_order order) {
  switch (order) {
    case std::memory_order_relaxed:
      return rl::mo_relaxed;
    case std::memory_order_consume:
      return rl::mo_consume;
    case std::memory_order_acquire:
      return rl::mo_acquire;
    case std::memory_order_release:
      return rl::mo_release;
    case std::memory_order_acq_rel:
      return rl::mo_acq_rel;
    case std::memory_order_seq_cst:
      return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

inline rl::debug_info Info(const std::source_location& where) {
  return rl::debug_info(where.function_name(), where.file_name(), where.line());
}

using Where = std::source_location;

}  // namespace model

// std::atomic's interface, as much of it as coral uses, over rl::atomic.
template <typename T>
class Atomic {
 public:
  // Value-initialized, as std::atomic is since C++20.
  Atomic() : value_(T()) {}
  Atomic(T value) : value_(value) {}  // NOLINT: std::atomic's converting constructor.
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  T load(std::memory_order order = std::memory_order_seq_cst,
         model::Where where = model::Where::current()) const {
    return value_.load(model::Order(order), model::Info(where));
  }
  void store(T value, std::memory_order order = std::memory_order_seq_cst,
             model::Where where = model::Where::current()) {
    value_.store(value, model::Order(order), model::Info(where));
  }
  T exchange(T value, std::memory_order order = std::memory_order_seq_cst,
             model::Where where = model::Where::current()) {
    return value_.exchange(value, model::Order(order), model::Info(where));
  }
  bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order order = std::memory_order_seq_cst,
                             model::Where where = model::Where::current()) {
    return value_.compare_exchange_weak(expected, desired, model::Order(order), model::Info(where),
                                        FailureOrder(order), model::Info(where));
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure,
                             model::Where where = model::Where::current()) {
    return value_.compare_exchange_weak(expected, desired, model::Order(success),
                                        model::Info(where), model::Order(failure),
                                        model::Info(where));
  }
  bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order order = std::memory_order_seq_cst,
                               model::Where where = model::Where::current()) {
    return value_.compare_exchange_strong(expected, desired, model::Order(order),
                                          model::Info(where), FailureOrder(order),
                                          model::Info(where));
  }
  bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure,
                               model::Where where = model::Where::current()) {
    return value_.compare_exchange_strong(expected, desired, model::Order(success),
                                          model::Info(where), model::Order(failure),
                                          model::Info(where));
  }
  T fetch_add(T delta, std::memory_order order = std::memory_order_seq_cst,
              model::Where where = model::Where::current()) {
    return value_.fetch_add(delta, model::Order(order), model::Info(where));
  }
  T fetch_sub(T delta, std::memory_order order = std::memory_order_seq_cst,
              model::Where where = model::Where::current()) {
    return value_.fetch_sub(delta, model::Order(order), model::Info(where));
  }
  T fetch_or(T bits, std::memory_order order = std::memory_order_seq_cst,
             model::Where where = model::Where::current()) {
    return value_.fetch_or(bits, model::Order(order), model::Info(where));
  }
  T fetch_and(T bits, std::memory_order order = std::memory_order_seq_cst,
              model::Where where = model::Where::current()) {
    return value_.fetch_and(bits, model::Order(order), model::Info(where));
  }

 private:
  // The failure order std::atomic derives from a single order.
  static rl::memory_order FailureOrder(std::memory_order order) {
    if (order == std::memory_order_acq_rel) return rl::mo_acquire;
    if (order == std::memory_order_release) return rl::mo_relaxed;
    return model::Order(order);
  }

  mutable rl::atomic<T> value_;
};

inline void AtomicThreadFence(std::memory_order order,
                              model::Where where = model::Where::current()) {
  rl::atomic_thread_fence(model::Order(order), model::Info(where));
}

// A spin-wait step tells Relacy's scheduler that this thread waits for another, so that the
// fair schedulers switch away instead of reporting a livelock.
inline void CpuRelax(model::Where where = model::Where::current()) {
  rl::yield(1, model::Info(where));
}
inline void ThreadYield(model::Where where = model::Where::current()) {
  rl::yield(1, model::Info(where));
}

class SystemMutex {
 public:
  void lock(model::Where where = model::Where::current()) { mu_.lock(model::Info(where)); }
  void unlock(model::Where where = model::Where::current()) { mu_.unlock(model::Info(where)); }

 private:
  rl::mutex mu_;
};

// Relacy's simulated threads are fibers of one thread: the simulated thread's index.
using ThreadId = unsigned;
inline ThreadId ThisThreadId() { return rl::thread_index(); }

}  // namespace coral::internal

#endif  // CORAL_MODEL_CHECK

#endif  // CORAL_INTERNAL_SYNC_PRIMITIVES_H_
