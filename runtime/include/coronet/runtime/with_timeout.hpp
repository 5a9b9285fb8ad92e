#pragma once

#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/detail/timer.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <optional>
#include <type_traits>
#include <utility>

namespace coronet {

namespace detail {

template <class A>
using await_result_t = decltype(std::declval<A>().await_resume());

template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (requires { std::forward<A>(a).operator co_await(); })
        return std::forward<A>(a).operator co_await();
    else
        return std::forward<A>(a);
}

template <class A>
using awaited_t = await_result_t<decltype(get_awaiter(std::declval<A>()))>;

/// The open deadline of one with_timeout: the timer, and the scope it unwinds.
class timeout_guard : private timer_entry {
public:
    timeout_guard(control& c, std::chrono::steady_clock::duration d)
        : c_(c), id_(c.open_scope(link_)) {
        deadline = std::chrono::steady_clock::now() + d;
        fire = [](timer_entry& t) noexcept {
            auto& self = static_cast<timeout_guard&>(t);
            self.c_.fire_timeout(self.id_);
        };
        add_timer(*this);
    }
    timeout_guard(const timeout_guard&) = delete;
    timeout_guard& operator=(const timeout_guard&) = delete;
    ~timeout_guard() {
        remove_timer(*this);
        c_.close_scope(link_);
    }
    std::uint32_t id() const noexcept { return id_; }

private:
    control& c_;
    timeout_scope_link link_{};
    std::uint32_t id_;
};

template <class T>
using timeout_result_t = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;

template <class Awaitable>
auto with_timeout_impl(std::chrono::steady_clock::duration d, Awaitable a)
    -> task<timeout_result_t<awaited_t<Awaitable>>> {
    using T = awaited_t<Awaitable>;
    control& c = require_current();
    {
        timeout_guard guard(c, d);
        try {
            if constexpr (std::is_void_v<T>) {
                co_await std::move(a);
                co_return true;
            } else {
                co_return std::optional<T>(co_await std::move(a));
            }
        } catch (const timeout_signal& s) {
            if (s.scope != guard.id()) throw;
        }
    }
    if constexpr (std::is_void_v<T>)
        co_return false;
    else
        co_return std::nullopt;
}

}  // namespace detail

/// Awaits `a` for at most `d`. Returns its value as `std::optional<T>` (for a
/// `void` awaitable, `true`), or `std::nullopt` (`false`) once `d` passes, in
/// which case the operation was cancelled and its frames unwound.
///
/// Errors: whatever `a` throws. Timeouts nest: the shortest deadline wins and
/// each `with_timeout` reports only its own. Cancellation: terminating the
/// coroutine cancels `a` with `coronet::terminated`. A `catch (...)` inside `a`
/// that swallows everything also swallows the timeout: rethrow what you do not
/// handle. Call it from a coroutine of a runtime.
///
///     if (auto v = co_await coronet::with_timeout(2s, fetch(url)))
///         use(*v);
///     else
///         log("fetch timed out");
template <class Rep, class Period, class Awaitable>
[[nodiscard]] auto with_timeout(std::chrono::duration<Rep, Period> d, Awaitable&& a) {
    return detail::with_timeout_impl<std::remove_cvref_t<Awaitable>>(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d),
        std::forward<Awaitable>(a));
}

}  // namespace coronet
