#pragma once

#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/detail/waiter.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <coroutine>

namespace coronet {

/// A flag that coroutines wait for: `set` wakes every waiter, and later waits
/// return at once until `clear`.
///
/// Thread safety: every member may be called from any thread; waiters may live
/// on any shards. The event must outlive its waiters.
///
///     coronet::event ready;
///     // one coroutine:            // another:
///     co_await ready.wait();       ready.set();
class event {
public:
    explicit event(bool set = false) noexcept : set_(set) {}
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    /// Sets the flag and wakes every waiter.
    void set() noexcept;
    /// Clears the flag; later waits suspend until the next `set`.
    void clear() noexcept;
    bool is_set() const noexcept;

    class awaiter final : public detail::waiter {
    public:
        explicit awaiter(event& e) noexcept : e_(e) {}
        bool await_ready() const noexcept { return e_.is_set(); }
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();
        void cancel() noexcept override;

    private:
        event& e_;
    };

    /// Suspends until the flag is set (returns at once if it is).
    ///
    /// Errors: `coronet::terminated` if the waiter is terminated, which also
    /// takes it out of the queue. Call it from a coroutine of a runtime.
    [[nodiscard]] awaiter wait() noexcept { return awaiter(*this); }

    /// As `wait()`, for at most `timeout`: true if the flag was set, false on timeout.
    template <class Rep, class Period>
    [[nodiscard]] task<bool> wait(std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, wait());
    }

private:
    mutable detail::spin_lock lock_;
    bool set_;
    detail::waiter_list waiters_;
};

}  // namespace coronet
