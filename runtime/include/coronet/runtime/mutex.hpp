#pragma once

#include <coronet/runtime/detail/lock_guard.hpp>
#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/detail/waiter.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <coroutine>
#include <optional>

namespace coronet {

class mutex;
class condition_variable;

namespace detail {

/// The part shared by `mutex::lock()` and `mutex::scoped_lock()`: a waiter in
/// the mutex's queue until ownership is handed to it.
class mutex_waiter : public waiter {
public:
    explicit mutex_waiter(mutex& m) noexcept : m_(m) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    void cancel() noexcept override;

protected:
    ~mutex_waiter() = default;
    /// Ends the wait: throws the interrupt if the lock was not taken.
    void finish();

    mutex& m_;
};

}  // namespace detail

/// Mutual exclusion for coroutines: `lock` suspends the coroutine, never the
/// shard's thread, until the mutex is free.
///
/// Waiters are served in FIFO order: `unlock` hands the mutex straight to the
/// first waiter, so a coroutine arriving later cannot take it first. The mutex
/// belongs to no coroutine in particular: whoever holds it may unlock it, from
/// any shard. For a mutex its holder may lock again, see `recursive_mutex`.
///
/// Thread safety: every member may be called from any thread; waiters may live
/// on any shards. The mutex must outlive its waiters and holders.
///
///     coronet::mutex m;
///     {
///         auto guard = co_await m.scoped_lock();
///         shared.push_back(item);
///     }   // unlocked here
class mutex {
public:
    /// Holds the locked mutex and unlocks it when destroyed, or by its
    /// `unlock()`; `owns_lock()` tells whether it still does. Move-only.
    using guard = detail::lock_guard<mutex>;

    class lock_awaiter final : public detail::mutex_waiter {
    public:
        using mutex_waiter::mutex_waiter;
        void await_resume() { finish(); }
    };

    class scoped_lock_awaiter final : public detail::mutex_waiter {
    public:
        using mutex_waiter::mutex_waiter;
        guard await_resume() {
            finish();
            return guard(m_);
        }
    };

    mutex() noexcept = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    /// Suspends until the caller holds the mutex; returns at once if it is free.
    /// The caller must `unlock` it; prefer `scoped_lock`, which cannot forget.
    ///
    /// Errors: `coronet::terminated` if the waiter is terminated, which also
    /// takes it out of the queue. Cancellation: a waiter terminated (or whose
    /// `with_timeout` deadline passes) before the mutex was handed to it leaves
    /// the queue without it; once handed over, the lock is taken and the
    /// interrupt is thrown at the coroutine's next suspension point instead.
    /// Call it from a coroutine of a runtime, on any shard.
    ///
    ///     co_await m.lock();
    ///     ++shared_counter;
    ///     m.unlock();
    [[nodiscard]] lock_awaiter lock() noexcept { return lock_awaiter(*this); }

    /// As `lock()`, for at most `timeout`: true if the caller now holds the
    /// mutex, false if the timeout passed first (and it is not held).
    ///
    /// Errors and cancellation: as `lock()`. Call it from a coroutine of a runtime.
    ///
    ///     if (co_await m.lock(100ms)) {
    ///         flush(shared);
    ///         m.unlock();
    ///     }
    template <class Rep, class Period>
    [[nodiscard]] task<bool> lock(std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, lock());
    }

    /// As `lock()`, but returns a `guard` that unlocks the mutex when it goes
    /// out of scope, exceptions included.
    ///
    /// Errors and cancellation: as `lock()`; when the interrupt arrives after
    /// the hand-over, the guard is returned and unlocks as the frame unwinds.
    /// Call it from a coroutine of a runtime, on any shard.
    ///
    ///     {
    ///         auto guard = co_await m.scoped_lock();
    ///         co_await write_record(file, rec);   // still held across awaits
    ///     }
    [[nodiscard]] scoped_lock_awaiter scoped_lock() noexcept { return scoped_lock_awaiter(*this); }

    /// As `scoped_lock()`, for at most `timeout`: the guard, or `std::nullopt`
    /// if the timeout passed first.
    ///
    /// Errors and cancellation: as `lock()`. Call it from a coroutine of a runtime.
    ///
    ///     if (auto guard = co_await m.scoped_lock(100ms))
    ///         flush(shared);
    ///     else
    ///         log("busy, try later");
    template <class Rep, class Period>
    [[nodiscard]] task<std::optional<guard>> scoped_lock(
        std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, scoped_lock());
    }

    /// Takes the mutex if it is free, without waiting; false if it is held.
    /// Never takes it ahead of queued waiters. Any thread.
    bool try_lock() noexcept;

    /// Releases the mutex, handing it to the first waiter if there is one.
    /// The caller must hold it. Any thread.
    void unlock() noexcept;

private:
    friend class detail::mutex_waiter;
    friend class condition_variable;

    detail::spin_lock lock_;
    bool locked_ = false;  // held, by a coroutine or on its behalf
    detail::waiter_list waiters_;
};

}  // namespace coronet
