#pragma once

#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <exception>

namespace coronet {

/// The outcome of a send: expected outcomes are values, not exceptions.
enum class send_result {
    ok,       ///< queued (or on its way to the receiver's shard)
    dead,     ///< the receiver has ended (or never existed)
    full,     ///< the receiver's mailbox is at its capacity
    invalid,  ///< a default-constructed pid
};

/// Sends `m` to `to`, without waiting: fire and forget. Messages from one
/// sender to one receiver arrive in the order sent, across shards too.
///
/// Returns `dead` for a coroutine known to have ended (a message to one that
/// ends while the message travels is dropped), `full` when the receiver's
/// mailbox is at its capacity. Any thread, inside or outside coroutines.
///
///     if (coronet::send(worker, job{42}) != coronet::send_result::ok) retry_later();
send_result send(const pid& to, message m);

namespace detail {
/// send() without moving the message again; `m` is moved from on success.
send_result send_to(const pid& to, message& m);
}  // namespace detail

/// Sends `m` and waits until it is queued in the receiver's mailbox: at once
/// if there is room, else until there is, for at most `timeout`. True if it
/// was queued; false on timeout or if the receiver is dead (the message is
/// then dropped).
///
/// Cancellation: terminating the caller withdraws a message not yet queued.
/// Call it from a coroutine of a runtime.
///
///     bool ok = co_await coronet::deliver(consumer, chunk, 2s);
[[nodiscard]] task<bool> deliver(pid to, message m, std::chrono::steady_clock::duration timeout);

/// Terminates the coroutine `p` (as join_handle::terminate); false if it is
/// known to have ended. Any thread.
bool terminate(const pid& p);

/// Throws `e` into coroutine `p` at its current or next suspension point;
/// false if it is known to have ended. Any thread. A second exception thrown
/// before the coroutine reaches that point replaces the first.
bool throw_to(const pid& p, std::exception_ptr e);

}  // namespace coronet
