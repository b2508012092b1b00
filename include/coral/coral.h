// Copyright 2026 The coral Authors.
//
// The whole public API of coral in one include, but TLS (coral/tls.h, in //:coral_tls: it links
// OpenSSL).

#ifndef CORAL_CORAL_H_
#define CORAL_CORAL_H_

#include "coral/async_fd.h"
#include "coral/async_mutex.h"
#include "coral/async_shared_mutex.h"
#include "coral/cancellation.h"
#include "coral/channel.h"
#include "coral/clock.h"
#include "coral/event.h"
#include "coral/interval.h"
#include "coral/join_handle.h"
#include "coral/latch.h"
#include "coral/notify.h"
#include "coral/oneshot.h"
#include "coral/resolve.h"
#include "coral/runtime.h"
#include "coral/select.h"
#include "coral/semaphore.h"
#include "coral/signal.h"
#include "coral/sleep.h"
#include "coral/socket_address.h"
#include "coral/spawn_blocking.h"
#include "coral/stream_socket.h"
#include "coral/task.h"
#include "coral/task_group.h"
#include "coral/tcp.h"
#include "coral/udp.h"
#include "coral/unix_socket.h"
#include "coral/yield.h"

#endif  // CORAL_CORAL_H_
