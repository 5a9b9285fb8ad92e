#pragma once

#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/detail/waiter.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>

namespace coronet {

/// A counting semaphore for coroutines: a number of permits that `acquire`
/// takes one at a time, suspending while there are none, and `release` gives
/// back.
///
/// Waiters are served in FIFO order: `release` hands its permits straight to
/// the first waiters, so a coroutine arriving later cannot take them first.
/// Permits belong to no one: any coroutine or thread may release them. Use it
/// to bound concurrency (n permits), or with 0 permits as a wake-up count that
/// loses no signal.
///
/// Thread safety: every member may be called from any thread; waiters may live
/// on any shards. The semaphore must outlive its waiters.
///
///     coronet::semaphore slots(8);   // at most 8 downloads at a time
///     co_await slots.acquire();
///     co_await download(url);
///     slots.release();
class semaphore {
public:
    class awaiter final : public detail::waiter {
    public:
        explicit awaiter(semaphore& s) noexcept : s_(s) {}
        bool await_ready() noexcept { return s_.try_acquire(); }
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();
        void cancel() noexcept override;

    private:
        semaphore& s_;
    };

    explicit semaphore(std::size_t permits) noexcept : permits_(permits) {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    /// Takes one permit, suspending until one is released if none is free.
    ///
    /// Errors: `coronet::terminated` if the waiter is terminated, which also
    /// takes it out of the queue. Cancellation: a waiter terminated (or whose
    /// `with_timeout` deadline passes) before a permit was handed to it leaves
    /// the queue without one; once handed over, the permit is taken and the
    /// interrupt is thrown at the next suspension point instead. Call it from
    /// a coroutine of a runtime, on any shard.
    ///
    ///     co_await jobs.acquire();    // a producer released one per job
    ///     auto job = queue.pop();
    [[nodiscard]] awaiter acquire() noexcept { return awaiter(*this); }

    /// As `acquire()`, for at most `timeout`: true if a permit was taken, false
    /// if the timeout passed first (and none was).
    ///
    /// Errors and cancellation: as `acquire()`. Call it from a coroutine of a runtime.
    ///
    ///     if (!co_await slots.acquire(1s))
    ///         co_return reply_busy();
    ///     serve();
    ///     slots.release();
    template <class Rep, class Period>
    [[nodiscard]] task<bool> acquire(std::chrono::duration<Rep, Period> timeout) {
        return with_timeout(timeout, acquire());
    }

    /// Takes a permit if one is free, without waiting; false if none is.
    /// Never takes one ahead of queued waiters. Any thread.
    bool try_acquire() noexcept;

    /// Gives back `n` permits: each goes to the first waiter still queued, the
    /// rest become free. Any thread.
    void release(std::size_t n = 1) noexcept;

    /// The permits free right now (a snapshot). Any thread.
    std::size_t available() const noexcept;

private:
    mutable detail::spin_lock lock_;
    std::size_t permits_;  // free permits; never nonzero while waiters queue
    detail::waiter_list waiters_;
};

}  // namespace coronet
