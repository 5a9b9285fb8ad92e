#pragma once

#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/detail/waiter.hpp>
#include <coronet/runtime/mutex.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <concepts>
#include <coroutine>

namespace coronet {

/// Lets coroutines wait, without holding a `mutex`, until another coroutine
/// changes the state that the mutex guards and notifies them.
///
/// A waiter holds the mutex when it calls `wait`, which releases it and queues
/// the waiter in one step, so a notification made after the state changed
/// under the mutex cannot be missed; `wait` returns with the mutex held again.
/// A notified waiter is moved to the mutex's own FIFO queue, so it is resumed
/// once, holding the mutex. Waiters are notified in FIFO order. Concurrent
/// waiters must use the same mutex. Notifying does not require the mutex, but
/// changing the state that waiters test does.
///
/// Thread safety: every member may be called from any thread; waiters may live
/// on any shards. It must outlive its waiters.
///
///     // a consumer
///     auto guard = co_await m.scoped_lock();
///     co_await ready.wait(m, [&] { return !queue.empty(); });
///     auto item = queue.pop();
///
///     // a producer
///     {
///         auto guard = co_await m.scoped_lock();
///         queue.push(item);
///     }
///     ready.notify_one();
class condition_variable {
public:
    class awaiter final : public detail::waiter {
    public:
        awaiter(condition_variable& cv, mutex& m) noexcept : cv_(cv), m_(m) {}
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();
        void cancel() noexcept override;

    private:
        friend class condition_variable;

        condition_variable& cv_;
        mutex& m_;
        bool queued_ = false;  // in cv_'s queue; guarded by cv_'s lock
    };

    condition_variable() noexcept = default;
    condition_variable(const condition_variable&) = delete;
    condition_variable& operator=(const condition_variable&) = delete;

    /// Releases `m`, which the caller holds, waits for a notification, and
    /// takes `m` again before it returns. A notification can also come from a
    /// `notify_*` that was not meant for this state: test the condition again,
    /// or use the overload with a predicate.
    ///
    /// Errors: `coronet::terminated` if the waiter is terminated. Cancellation:
    /// a waiter terminated (or whose `with_timeout` deadline passes) leaves the
    /// queue, and then still waits for `m` before the interrupt is thrown, so
    /// the caller's guard finds the mutex held. One already notified returns
    /// normally, and the interrupt comes at its next suspension point.
    /// Call it from a coroutine of a runtime, on any shard.
    ///
    ///     auto guard = co_await m.scoped_lock();
    ///     while (queue.empty()) co_await ready.wait(m);
    ///     auto item = queue.pop();
    [[nodiscard]] awaiter wait(mutex& m) noexcept { return awaiter(*this, m); }

    /// Waits as `wait(m)` until `pred()` is true; returns at once if it is.
    /// `pred` runs with `m` held.
    ///
    /// Errors: as `wait(m)`, and what `pred` throws (with `m` held).
    /// Cancellation: as `wait(m)`. Call it from a coroutine of a runtime.
    ///
    ///     auto guard = co_await m.scoped_lock();
    ///     co_await ready.wait(m, [&] { return !queue.empty(); });
    ///     auto item = queue.pop();
    template <class Pred>
    requires std::predicate<Pred&>
    [[nodiscard]] task<void> wait(mutex& m, Pred pred) {
        while (!pred()) co_await wait(m);
    }

    /// As `wait(m)`, for at most `timeout`: true if notified, false if the
    /// timeout passed first. Either way `m` is held again when it returns.
    ///
    /// Errors and cancellation: as `wait(m)`. Call it from a coroutine of a runtime.
    ///
    ///     auto guard = co_await m.scoped_lock();
    ///     if (!co_await ready.wait(m, 1s))
    ///         log("no news for a second");
    template <class Rep, class Period>
    [[nodiscard]] task<bool> wait(mutex& m, std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, wait(m));
    }

    /// As `wait(m, pred)`, for at most `timeout`: the last value of `pred()`,
    /// false meaning that the timeout passed with the condition still false.
    /// `m` is held again when it returns.
    ///
    /// Errors and cancellation: as `wait(m, pred)`. Call it from a coroutine of a runtime.
    ///
    ///     auto guard = co_await m.scoped_lock();
    ///     if (co_await ready.wait(m, 1s, [&] { return !queue.empty(); }))
    ///         process(queue.pop());
    template <class Rep, class Period, class Pred>
    requires std::predicate<Pred&>
    [[nodiscard]] task<bool> wait(mutex& m, std::chrono::duration<Rep, Period> timeout, Pred pred) {
        if (co_await with_timeout(timeout, wait(m, [&pred] { return pred(); }))) co_return true;
        co_return pred();
    }

    /// Wakes the first waiter, if any: it is given `m` if that is free, or
    /// queued for it. Any thread.
    void notify_one() noexcept;

    /// Wakes every waiter, in FIFO order, as `notify_one`. Any thread.
    void notify_all() noexcept;

private:
    /// Moves `w`, just taken off the queue (lock_ held), on to its mutex:
    /// true if the mutex was free and is now held on its behalf, false if it
    /// was queued for it.
    static bool pass_to_mutex(awaiter* w) noexcept;

    detail::spin_lock lock_;
    detail::waiter_list waiters_;
};

}  // namespace coronet
