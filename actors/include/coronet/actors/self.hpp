#pragma once

#include <coronet/actors/detail/mailbox.hpp>
#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/runtime/detail/root.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace coronet {

namespace detail {
template <class Pred>
class receive_if_awaiter : public receive_waiter {
public:
    explicit receive_if_awaiter(Pred p) noexcept(std::is_nothrow_move_constructible_v<Pred>)
        : receive_waiter(&call, nullptr), pred_(std::move(p)) {}
    bool await_ready() {
        rebind(&pred_);  // the awaiter may have moved since it was made
        return receive_waiter::await_ready();
    }

private:
    static bool call(const message& m, const void* ctx) {
        return (*static_cast<const Pred*>(ctx))(m);
    }
    Pred pred_;
};

template <class T>
bool holds(const message& m, const void*) {
    return m.is<T>();
}
}  // namespace detail

/// A coroutine's view of itself: its pid and its mailbox. A spawned function
/// that takes a `coronet::self` first gets one.
///
/// Thread safety: use it only in the coroutine it was given to.
///
///     coronet::task<void> counter(coronet::self self) {
///         long total = 0;
///         while (auto msg = co_await self.receive(5s))
///             if (auto n = msg->get_if<long>()) total += *n;
///     }
class self {
public:
    self(spawn_context ctx) noexcept : c_(ctx.control()) {}  // NOLINT: made by spawn

    /// This coroutine's pid.
    coronet::pid pid() const noexcept;

    /// The next message, waiting as long as it takes.
    ///
    /// Errors: `coronet::terminated` when terminated while waiting.
    /// Cancellation: a terminated or timed-out receive takes no message.
    ///
    ///     coronet::message m = co_await self.receive();
    [[nodiscard]] detail::receive_waiter receive() noexcept { return {nullptr, nullptr}; }

    /// The next message, or `std::nullopt` after `timeout`.
    template <class Rep, class Period>
    [[nodiscard]] auto receive(std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, receive());
    }

    /// Selective receive: the first message holding a `T`, as a `T`; the
    /// others stay queued in their order.
    ///
    ///     auto n = co_await self.receive<exit_notice>();
    template <class T>
    [[nodiscard]] task<T> receive() {
        message m = co_await detail::receive_waiter(&detail::holds<T>, nullptr);
        co_return m.take<T>();
    }

    /// As receive<T>(), or `std::nullopt` after `timeout`.
    template <class T, class Rep, class Period>
    [[nodiscard]] task<std::optional<T>> receive(std::chrono::duration<Rep, Period> timeout) {
        auto m = co_await with_timeout(timeout, detail::receive_waiter(&detail::holds<T>, nullptr));
        if (!m) co_return std::nullopt;
        co_return m->template take<T>();
    }

    /// Selective receive: the first message for which `pred(const message&)`
    /// is true; the others stay queued in their order.
    ///
    ///     auto big = co_await self.receive_if([](auto& m) { return m.is<long>() && m.get<long>() >
    ///     9; });
    template <class Pred>
    [[nodiscard]] detail::receive_if_awaiter<Pred> receive_if(Pred pred) {
        return detail::receive_if_awaiter<Pred>(std::move(pred));
    }

    /// As receive_if(pred), or `std::nullopt` after `timeout`.
    template <class Pred, class Rep, class Period>
    [[nodiscard]] auto receive_if(Pred pred, std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, receive_if(std::move(pred)));
    }

    /// Messages queued to this coroutine; with a bounded mailbox, also those
    /// on their way from other shards, which already hold their room in it.
    std::size_t mailbox_size() const;

    /// Bounds the mailbox: at `n` queued messages, send reports `full` and
    /// deliver waits. 0 (the default) means unbounded.
    void set_mailbox_capacity(std::size_t n);

    /// Registers this coroutine under `name` in its runtime, until it ends or
    /// unregisters; false if the name is taken.
    bool register_name(const std::string& name);
    /// Gives up `name`; false if this coroutine did not hold it.
    bool unregister_name(const std::string& name);

    /// Asks for an exit_notice in this mailbox when `target` ends; at once if
    /// it already has (reason `gone`).
    void monitor(const coronet::pid& target);

    /// Accepts (or refuses, the default) hot swaps of this coroutine's function.
    void hot_swappable(bool on = true);

    detail::control& control() const noexcept { return *c_; }

private:
    detail::control* c_;
};

}  // namespace coronet
