#pragma once

#include <coronet/runtime/detail/lock_guard.hpp>
#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/detail/waiter.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <optional>

namespace coronet {

class recursive_mutex;

namespace detail {

/// The part shared by `recursive_mutex::lock()` and `scoped_lock()`.
class recursive_mutex_waiter : public waiter {
public:
    explicit recursive_mutex_waiter(recursive_mutex& m) noexcept : m_(m) {}
    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    void cancel() noexcept override;

protected:
    ~recursive_mutex_waiter() = default;
    /// Ends the wait: throws the interrupt if the lock was not taken.
    void finish();

    recursive_mutex& m_;
};

}  // namespace detail

/// A mutex that the coroutine holding it may lock again: it is released when
/// it has been unlocked as many times as it was locked.
///
/// The owner is the spawned coroutine, with every task it awaits: a helper
/// task called with `co_await` may lock what its caller holds. Other
/// coroutines suspend until the last unlock, and are served in FIFO order as
/// with `mutex`: the last unlock hands the mutex straight to the first waiter.
/// Unlike `mutex`, only the owner may unlock it.
///
/// Thread safety: every member may be called from any coroutine of a runtime,
/// on any shard. The mutex must outlive its waiters and holders.
///
///     coronet::recursive_mutex m;
///     coronet::task<void> add(item i) {
///         auto guard = co_await m.scoped_lock();
///         if (i.has_parts()) for (auto& p : i.parts()) co_await add(p);  // locks again
///         index.insert(i);
///     }
class recursive_mutex {
public:
    /// Holds one level of the lock and releases it when destroyed, or by its
    /// `unlock()`; `owns_lock()` tells whether it still does. Move-only; it
    /// must be destroyed by the coroutine that locked.
    using guard = detail::lock_guard<recursive_mutex>;

    class lock_awaiter final : public detail::recursive_mutex_waiter {
    public:
        using recursive_mutex_waiter::recursive_mutex_waiter;
        void await_resume() { finish(); }
    };

    class scoped_lock_awaiter final : public detail::recursive_mutex_waiter {
    public:
        using recursive_mutex_waiter::recursive_mutex_waiter;
        guard await_resume() {
            finish();
            return guard(m_);
        }
    };

    recursive_mutex() noexcept = default;
    recursive_mutex(const recursive_mutex&) = delete;
    recursive_mutex& operator=(const recursive_mutex&) = delete;

    /// Suspends until the calling coroutine owns the mutex; returns at once if
    /// it is free or already the caller's (one more level is then taken).
    /// Each `lock` needs an `unlock`; prefer `scoped_lock`.
    ///
    /// Errors: `coronet::terminated` if the waiter is terminated, which also
    /// takes it out of the queue; `std::system_error(errc::not_in_coroutine)`
    /// outside a coroutine of a runtime. Cancellation: a waiter terminated (or
    /// whose `with_timeout` deadline passes) before the mutex was handed to it
    /// leaves the queue without it; once handed over, the lock is taken and
    /// the interrupt is thrown at the next suspension point instead. Any shard.
    ///
    ///     co_await m.lock();
    ///     co_await m.lock();   // the same coroutine: does not wait
    ///     m.unlock();
    ///     m.unlock();          // released here
    [[nodiscard]] lock_awaiter lock() noexcept { return lock_awaiter(*this); }

    /// As `lock()`, for at most `timeout`: true if the caller now owns the
    /// mutex, false if the timeout passed first.
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

    /// As `lock()`, but returns a `guard` that releases this level of the lock
    /// when it goes out of scope, exceptions included.
    ///
    /// Errors and cancellation: as `lock()`; when the interrupt arrives after
    /// the hand-over, the guard is returned and unlocks as the frame unwinds.
    /// Call it from a coroutine of a runtime, on any shard.
    ///
    ///     {
    ///         auto guard = co_await m.scoped_lock();
    ///         co_await rebuild(index);   // may lock m again
    ///     }
    [[nodiscard]] scoped_lock_awaiter scoped_lock() noexcept { return scoped_lock_awaiter(*this); }

    /// As `scoped_lock()`, for at most `timeout`: the guard, or `std::nullopt`
    /// if the timeout passed first.
    ///
    /// Errors and cancellation: as `lock()`. Call it from a coroutine of a runtime.
    ///
    ///     if (auto guard = co_await m.scoped_lock(100ms))
    ///         flush(shared);
    template <class Rep, class Period>
    [[nodiscard]] task<std::optional<guard>> scoped_lock(
        std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, scoped_lock());
    }

    /// Takes the mutex (or one more level of it) if it is free or the caller's;
    /// false if another coroutine owns it. Never takes it ahead of queued
    /// waiters. From a coroutine of a runtime, else
    /// `std::system_error(errc::not_in_coroutine)`.
    bool try_lock();

    /// Releases one level; the last hands the mutex to the first waiter, if
    /// any. Only from the owning coroutine.
    void unlock() noexcept;

private:
    friend class detail::recursive_mutex_waiter;

    bool try_lock_as(detail::control* me) noexcept;

    detail::spin_lock lock_;
    detail::control* owner_ = nullptr;  // null when free
    std::size_t depth_ = 0;
    detail::waiter_list waiters_;
};

}  // namespace coronet
