#pragma once

#include <coronet/runtime/detail/root.hpp>
#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/join_handle.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace coronet {

/// How a runtime is built. Every field has a sensible default.
struct runtime_options {
    /// Shards, each one thread with one event loop; 0 means one per core.
    unsigned shards = 0;
    /// Pin shard i to core i (modulo the core count).
    bool pin_threads = false;
    /// Upper bound on the threads of the blocking pool (spawn_blocking).
    unsigned blocking_threads = 64;
    /// Upper bound on the blocking calls the pool runs at once whose key the
    /// dispatcher has measured to compute rather than wait (call_blocking;
    /// more would only take cores from the shards and from each other); 0
    /// means the cores no shard runs on, at least 1.
    unsigned cpu_bound_threads = 0;
    /// A coroutine that runs this long without suspending is reported as a stall.
    std::chrono::steady_clock::duration stall_threshold = std::chrono::milliseconds(20);
    /// How long `stop()` waits for terminated coroutines to unwind.
    std::chrono::steady_clock::duration stop_timeout = std::chrono::seconds(5);
    /// How the dispatcher chooses between synchronous and asynchronous I/O.
    io_mode io = io_mode::adaptive;
    /// The dispatcher's thresholds.
    io_policy_options io_policy{};
};

/// Counters of a runtime, summed over its shards (a snapshot).
struct runtime_stats {
    std::uint64_t spawned = 0;               ///< coroutines started
    std::uint64_t completed = 0;             ///< coroutines ended
    std::uint64_t resumes = 0;               ///< times a coroutine was resumed by a shard
    std::uint64_t stalls = 0;                ///< resumptions that ran past stall_threshold
    std::uint64_t unhandled_exceptions = 0;  ///< coroutines ended by an exception nobody took
    std::uint64_t blocking_jobs = 0;         ///< calls run on the blocking pool
};

namespace detail {
class runtime_core;
runtime_core* make_core(const runtime_options& options);
void destroy_core(runtime_core* core) noexcept;
unsigned shard_count(const runtime_core& core) noexcept;
unsigned next_shard(runtime_core& core) noexcept;
/// Gives a new coroutine its slot on `shard` and queues its first turn; on
/// failure, deletes `c` and throws.
void launch(runtime_core& core, unsigned shard, control* c);
int run(runtime_core& core);
void stop(runtime_core& core) noexcept;
runtime_stats stats(const runtime_core& core) noexcept;
io_counters io_stats(const runtime_core& core, io_op op, int shard) noexcept;

template <class Fn, class... Args>
auto spawn_in(runtime_core& core, unsigned shard, Fn&& fn, Args&&... args) {
    auto* c = make_spawned(std::forward<Fn>(fn), std::forward<Args>(args)...);
    launch(core, shard, c);
    return join_handle<typename std::remove_pointer_t<decltype(c)>::value_type>(c);
}

template <class T>
task<T> pass_through(task<T> t) {
    co_return co_await std::move(t);
}
inline task<void> pass_through(task<void> t) {
    co_await std::move(t);
}
}  // namespace detail

/// The engine: one shard (a thread and an `asio::io_context`) per core, and the
/// coroutines spawned on them.
///
/// A coroutine lives on the shard it was spawned on. `run()` waits until every
/// coroutine that is not a daemon has ended; `stop()` (or the destructor)
/// terminates the rest, lets them unwind and joins the threads.
///
/// Thread safety: every member function may be called from any thread, except
/// `run`, `stop`, `sync_wait` and the destructor, which must not be called from
/// one of the runtime's own shards.
///
///     coronet::runtime rt;                       // one shard per core
///     rt.spawn(worker, 1);                       // on some shard
///     rt.spawn_on(0, logger).set_daemon();      // on shard 0, not waited for
///     return rt.run();
class runtime {
public:
    explicit runtime(runtime_options options = {}) : core_(detail::make_core(options)) {}
    ~runtime() { detail::destroy_core(core_); }
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    unsigned shard_count() const noexcept { return detail::shard_count(*core_); }

    /// Spawns `fn(args...)` on the calling shard, or, called from outside the
    /// runtime, on the shards in turn. `fn` returns `task<T>`; if it can be
    /// called only with a `coronet::self` (or other `spawn_context` type) before
    /// `args`, it gets one. Function and arguments are decay-copied into the
    /// coroutine, and destroyed on its shard when it ends. `fn` is called by
    /// spawn itself, on the calling thread, to make the coroutine's frame (a
    /// coroutine function only copies its parameters there); its body runs on
    /// the shard. An exception from that call ends the coroutine with it.
    /// Throws `std::system_error(errc::runtime_stopped)` after stop().
    template <class Fn, class... Args>
    auto spawn(Fn&& fn, Args&&... args) {
        int here = detail::this_shard_index();
        unsigned shard = here >= 0 && detail::this_runtime() == core_ ? static_cast<unsigned>(here)
                                                                      : detail::next_shard(*core_);
        return spawn_on(shard, std::forward<Fn>(fn), std::forward<Args>(args)...);
    }

    /// Spawns `fn(args...)` on shard `shard` (< shard_count(), else
    /// `std::system_error(errc::invalid_shard)`); otherwise as spawn().
    template <class Fn, class... Args>
    auto spawn_on(unsigned shard, Fn&& fn, Args&&... args) {
        return detail::spawn_in(*core_, shard, std::forward<Fn>(fn), std::forward<Args>(args)...);
    }

    /// Waits until every non-daemon coroutine has ended (including those they
    /// spawn meanwhile). Returns 0, or 1 if a coroutine ended by an exception
    /// that nobody joined (each is logged when it happens).
    int run() { return detail::run(*core_); }

    /// Terminates every coroutine, daemons included, waits for them to unwind
    /// (up to `stop_timeout`), and stops the shards and the blocking pool.
    /// Idempotent; the destructor calls it.
    void stop() noexcept { detail::stop(*core_); }

    /// Runs `t` on a shard and blocks the calling thread until it is done;
    /// its value or exception. Not from a shard of this runtime.
    template <class T>
    T sync_wait(task<T> t) {
        return spawn(static_cast<task<T> (*)(task<T>)>(&detail::pass_through), std::move(t)).wait();
    }

    runtime_stats stats() const noexcept { return detail::stats(*core_); }

    /// What the I/O dispatcher did for `op`, summed over the shards, or for
    /// shard `shard` alone.
    io_counters io_stats(io_op op) const noexcept { return detail::io_stats(*core_, op, -1); }
    io_counters io_stats(io_op op, unsigned shard) const noexcept {
        return detail::io_stats(*core_, op, static_cast<int>(shard));
    }

    detail::runtime_core& core() noexcept { return *core_; }

private:
    detail::runtime_core* core_;
};

/// The index of the shard the calling coroutine runs on.
/// `std::system_error(errc::not_in_coroutine)` off the shards.
unsigned this_shard();

/// The number of shards of the calling coroutine's runtime.
unsigned shard_count();

/// Spawns `fn(args...)` on shard `shard` of the calling coroutine's runtime.
template <class Fn, class... Args>
auto spawn_on(unsigned shard, Fn&& fn, Args&&... args) {
    detail::runtime_core* core = detail::this_runtime();
    if (!core) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return detail::spawn_in(*core, shard, std::forward<Fn>(fn), std::forward<Args>(args)...);
}

/// Spawns `fn(args...)` on the calling coroutine's shard, as runtime::spawn.
template <class Fn, class... Args>
auto spawn(Fn&& fn, Args&&... args) {
    return spawn_on(this_shard(), std::forward<Fn>(fn), std::forward<Args>(args)...);
}

}  // namespace coronet
