#pragma once

#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/yield.hpp>

#include <asio/socket_base.hpp>

#include <asio/error.hpp>

#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>

namespace coronet::net::detail {

using coronet::detail::control;

/// Suspends until `handle` (an Asio socket or descriptor of this shard) is
/// ready in direction `w`. Terminating the coroutine cancels the wait.
/// Returns false when the wait was cancelled for another operation on the
/// same handle (the caller simply waits again).
template <class Handle>
class readiness_awaiter final : public coronet::detail::wait_node {
public:
    readiness_awaiter(Handle& handle, asio::socket_base::wait_type w) noexcept
        : handle_(handle), w_(w) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &coronet::detail::require_current();
        if (me_->has_interrupt()) return false;
        handle_.async_wait(w_, [this, h](const std::error_code& ec) {
            ec_ = ec;
            coronet::detail::resume_now(me_, h);
        });
        me_->set_wait(this);
        return true;
    }
    bool await_resume() {
        me_->clear_wait();
        if (me_->has_interrupt()) me_->raise_interrupt();
        if (ec_ && ec_ != asio::error::operation_aborted) throw std::system_error(ec_);
        return !ec_;
    }
    void cancel() noexcept override {
        std::error_code ignored;
        handle_.cancel(ignored);
    }

private:
    Handle& handle_;
    asio::socket_base::wait_type w_;
    control* me_ = nullptr;
    std::error_code ec_;
};

/// Suspends until the Asio operation that `start(handler)` starts on
/// `handle` completes; it transfers bytes (async_read_some, async_write_some)
/// and its handler takes (error_code, bytes). Such an operation, unlike a wait
/// for readiness, does not register the descriptor with epoll again each time
/// (Asio's async_wait re-arms it with an epoll_ctl), and Asio tries it at once
/// only when the socket may have become ready since its last transfer.
/// Returns the bytes (0 at end of stream), or nothing when the operation was
/// cancelled for another one on the same handle (the caller starts again).
template <class Handle, class Start>
class transfer_awaiter final : public coronet::detail::wait_node {
public:
    transfer_awaiter(Handle& handle, Start& start) noexcept : handle_(handle), start_(start) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &coronet::detail::require_current();
        if (me_->has_interrupt()) return false;
        start_([this, h](const std::error_code& ec, std::size_t n) {
            ec_ = ec;
            n_ = n;
            coronet::detail::resume_now(me_, h);
        });
        me_->set_wait(this);
        return true;
    }
    std::optional<std::size_t> await_resume() {
        me_->clear_wait();
        if (me_->has_interrupt()) me_->raise_interrupt();
        if (ec_ == asio::error::eof) return 0;
        if (ec_ == asio::error::operation_aborted) return std::nullopt;
        if (ec_) throw std::system_error(ec_);
        return n_;
    }
    void cancel() noexcept override {
        std::error_code ignored;
        handle_.cancel(ignored);
    }

private:
    Handle& handle_;
    Start& start_;
    control* me_ = nullptr;
    std::error_code ec_;
    std::size_t n_ = 0;
};

/// The first attempt of a call through the dispatcher, if the dispatcher
/// wants one: its result (>= 0), or -1 when it was skipped or found nothing
/// to do (EAGAIN). Other errors throw.
template <class Call>
long first_attempt(coronet::detail::dispatcher& d, io_op op, coronet::detail::speculation& spec,
                   Call& call) {
    if (!d.try_first(op, spec)) return -1;
    for (;;) {
        long n = call();
        if (n >= 0) {
            d.attempted(op, spec, true);
            return n;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            throw std::system_error(errno, std::system_category());
        d.attempted(op, spec, false);
        return -1;
    }
}

/// One transfer of bytes through the shard's dispatcher: `call()`, the
/// non-blocking system call (a count, or -1 with errno set), is tried first
/// while such attempts tend to succeed (per descriptor and direction,
/// `spec`); otherwise, or when it finds nothing to do, the Asio operation
/// that `start` starts (see transfer_awaiter) does the transfer once the
/// event loop finds the descriptor ready.
///
/// `sent_in` is the stream's: the resumption (dispatcher::resumption) in
/// which its last send completed inline. A receive in that same resumption,
/// adaptive, yields first: its peer cannot have answered what was just sent,
/// and Asio tries a read at once after each one that found data, so reading
/// now would cost a system call that finds nothing; after the coroutines
/// ready meanwhile (the other sessions of the poll) have run, the answer
/// often has come.
///
/// Errors: `std::system_error` with the OS error; ECANCELED when `handle` is
/// closed while the operation waits. Cancellation: terminating the coroutine
/// cancels the waiting operation.
template <class Handle, class Call, class Start>
task<std::size_t> transfer(Handle& handle, io_op op, coronet::detail::speculation& spec,
                           std::uint64_t& sent_in, Call call, Start start) {
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    bool sending = op == io_op::socket_send;
    if (!sending && sent_in == d.resumption() && d.mode() == io_mode::adaptive)
        co_await coronet::yield();
    if (long n = first_attempt(d, op, spec, call); n >= 0) {
        if (sending) sent_in = d.resumption();
        if (d.completed_inline(op, static_cast<std::size_t>(n))) co_await coronet::yield();
        co_return static_cast<std::size_t>(n);
    }
    d.parked(op);
    for (;;) {
        if (auto n = co_await transfer_awaiter<Handle, Start>(handle, start)) co_return *n;
        // Closed under the wait: its descriptor is gone, maybe reused.
        if (!handle.is_open()) throw std::system_error(ECANCELED, std::system_category());
    }
}

/// Runs one non-blocking system call through the shard's dispatcher: tried
/// first while such attempts tend to succeed (per descriptor and direction,
/// `spec`), else after the event loop reports readiness. `call()` returns a
/// non-negative result or -1 with errno set, as the system call does.
///
/// Errors: `std::system_error` with the call's errno; ECANCELED when `handle`
/// is closed while the operation waits. Cancellation: terminating the
/// coroutine cancels a wait for readiness.
template <class Handle, class Call>
task<long> perform(Handle& handle, io_op op, coronet::detail::speculation& spec,
                   asio::socket_base::wait_type w, Call call) {
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    if (long n = first_attempt(d, op, spec, call); n >= 0) {
        std::size_t bytes = moves_bytes(op) ? static_cast<std::size_t>(n) : 0;
        if (d.completed_inline(op, bytes)) co_await coronet::yield();
        co_return n;
    }
    for (;;) {
        d.parked(op);
        while (!co_await readiness_awaiter<Handle>(handle, w)) {
            // Closed under the wait: its descriptor is gone, maybe reused.
            if (!handle.is_open()) throw std::system_error(ECANCELED, std::system_category());
        }
        long n = call();
        if (n >= 0) co_return n;
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        throw std::system_error(errno, std::system_category());
    }
}

}  // namespace coronet::net::detail
