// Copyright 2026 The coral Authors.
//
// Fault injection seams: tests make chosen allocations and system calls of coral fail, to check
// that each failure reaches the caller as documented and that nothing leaks. Private to coral;
// tests install hooks through tests/fault_injector.h.
//
// Cost in production: each seam is one relaxed load of a function pointer that is null unless a
// test installed a hook, and a branch that is never taken. No allocation or system call is
// changed, added or reordered.
//
// Allocation seams (AllocationSite). MaybeFailAllocation throws std::bad_alloc, before anything
// is allocated, when the hook says so:
//   kFrame        every coroutine frame, spawned or awaited (runtime/frame_allocator.cc);
//   kChannelNode  a channel's shared state (channel.h) and every push onto an unbounded channel's
//                 queue, each of which may allocate a node (unbounded_queue.h);
//   kTimerEntry   every arming of a timer (a sleep, an Interval tick, a Timeout's or
//                 CancellationSource::WithDeadline's deadline), which first reserves the entry's
//                 slot in the worker's timer heap (runtime/timer_queue.h).
// How each failure reaches the caller is documented at the API (task.h, runtime.h, task_group.h,
// channel.h, sleep.h) and summarised in docs/reliability.md, "Fault injection".
//
// System call seams (Syscall). At each seam the call site first asks InjectSyscallFault; if a
// test's hook returns an errno value, the site sets errno and behaves as if the system call had
// failed with it, without making the call:
//   kAccept    accept4 of TcpListener::Accept and UnixListener::Accept (io/socket_util.cc);
//   kRead      recv of the stream sockets' Read and TryRead, and of UdpSocket::Recv
//              (io/stream_socket.cc);
//   kWrite     send and sendmsg of their Write, WriteVectored and TryWrite, and send of
//              UdpSocket::Send;
//   kConnect   connect of TcpStream::Connect and UnixStream::Connect (io/socket_util.cc);
//   kEpollCtl  epoll_ctl(EPOLL_CTL_ADD) of an fd's registration (runtime/io_registration.cc).

#ifndef CORAL_INTERNAL_FAULT_INJECTION_H_
#define CORAL_INTERNAL_FAULT_INJECTION_H_

#include <atomic>
#include <cerrno>
#include <new>

namespace coral::internal {

enum class AllocationSite { kFrame, kChannelNode, kTimerEntry };
enum class Syscall { kAccept, kRead, kWrite, kConnect, kEpollCtl };

// Returns true if this allocation must fail. Runs on the allocating thread.
using AllocationFaultHook = bool (*)(AllocationSite site);
// Returns the errno value to fail this call with, or 0 to make the call. Runs on the calling
// thread.
using SyscallFaultHook = int (*)(Syscall call);

// Null in production. A test sets them before the scenario it disturbs and clears them after;
// the hooks themselves must be thread-safe (workers call them concurrently).
extern std::atomic<AllocationFaultHook> allocation_fault_hook;
extern std::atomic<SyscallFaultHook> syscall_fault_hook;

// Throws std::bad_alloc if a test injects a failure of this allocation.
inline void MaybeFailAllocation(AllocationSite site) {
  // relaxed: the hook is installed before the scenario starts (the runtime's own hand-offs order
  // it before every allocation the scenario makes) and carries no data of its own.
  const AllocationFaultHook hook = allocation_fault_hook.load(std::memory_order_relaxed);
  if (hook != nullptr && hook(site)) [[unlikely]] {
    throw std::bad_alloc();
  }
}

// True, with errno set, if a test injects a failure of this system call: the caller then returns
// -1 as the call would have.
inline bool InjectSyscallFault(Syscall call) {
  // relaxed: as in MaybeFailAllocation.
  const SyscallFaultHook hook = syscall_fault_hook.load(std::memory_order_relaxed);
  if (hook == nullptr) [[likely]] {
    return false;
  }
  const int error = hook(call);
  if (error == 0) return false;
  errno = error;
  return true;
}

}  // namespace coral::internal

#endif  // CORAL_INTERNAL_FAULT_INJECTION_H_
