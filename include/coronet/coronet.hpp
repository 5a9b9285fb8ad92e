#pragma once

/// The common API of coronet in one include.

#include <coronet/actors/channel.hpp>
#include <coronet/actors/exit_notice.hpp>
#include <coronet/actors/hot_swap.hpp>
#include <coronet/actors/locate.hpp>
#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/actors/self.hpp>
#include <coronet/actors/send.hpp>
#include <coronet/net/file.hpp>
#include <coronet/net/local.hpp>
#include <coronet/net/pipe.hpp>
#include <coronet/net/process.hpp>
#include <coronet/net/tcp.hpp>
#include <coronet/net/tls.hpp>
#include <coronet/net/udp.hpp>
#include <coronet/runtime/call_blocking.hpp>
#include <coronet/runtime/condition_variable.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/event.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/join_handle.hpp>
#include <coronet/runtime/mutex.hpp>
#include <coronet/runtime/recursive_mutex.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/semaphore.hpp>
#include <coronet/runtime/sleep.hpp>
#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet/runtime/submit_to.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>
#include <coronet/runtime/yield.hpp>
