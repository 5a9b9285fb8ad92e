#pragma once

#include <coronet/runtime/detail/intrusive_list.hpp>
#include <coronet/runtime/detail/spin_lock.hpp>
#include "ring.hpp"
#include "timer_heap.hpp"

#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/detail/remote.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/spawn_blocking.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace coronet::detail {

/// A counter written by one thread and read by any.
class counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

/// The coroutines of one shard by slot, for lookup by id and for stop().
/// Slots are taken from any thread (spawn) and read on the owner shard.
class slot_table {
public:
    slot_table() = default;
    slot_table(const slot_table&) = delete;
    slot_table& operator=(const slot_table&) = delete;
    ~slot_table();

    /// Gives `c` a slot: sets its index and generation.
    void acquire(control* c);
    void release(std::uint32_t index) noexcept;
    /// The live coroutine of that slot and generation, or null; owner shard.
    control* find(std::uint32_t index, std::uint32_t generation) const noexcept;
    /// As find, from any thread, with a reference added to the result.
    control* find_and_ref(std::uint32_t index, std::uint32_t generation) const noexcept;
    /// The marks of the live coroutine of that slot and generation (see
    /// set_marks), or -1 if there is none; any thread, without the lock: a
    /// snapshot, which its shard may contradict a moment later.
    std::int64_t peek(std::uint32_t index, std::uint32_t generation) const noexcept;
    /// Sets the marks of a live coroutine's slot; owner shard. A released
    /// slot has none.
    void set_marks(std::uint32_t index, std::uint32_t marks) noexcept;
    /// As find, from any thread, calling `fn` with the result while its slot
    /// cannot be released; false, without calling `fn`, if there is none.
    bool visit(std::uint32_t index, std::uint32_t generation, void (*fn)(control&, void*),
               void* ctx) const;
    /// Every live coroutine; for stop(), on the owner shard.
    std::vector<control*> live() const;

private:
    static constexpr std::uint32_t chunk_bits = 12;
    static constexpr std::uint32_t chunk_size = 1u << chunk_bits;
    static constexpr std::uint32_t max_chunks = 1u << 12;

    struct entry {
        std::atomic<control*> c{nullptr};
        std::atomic<std::uint32_t> generation{0};
        std::atomic<std::uint32_t> marks{0};
    };
    struct chunk {
        std::array<entry, chunk_size> entries;
    };
    /// A chunk in memory of its own from the kernel, its pages faulted in at
    /// once (as the frame allocator's slabs); and its end.
    static chunk* make_chunk();
    static void free_chunk(chunk* ch) noexcept;

    entry* at(std::uint32_t index) const noexcept {
        chunk* ch = chunks_[index >> chunk_bits].load(std::memory_order_acquire);
        return ch ? &ch->entries[index & (chunk_size - 1)] : nullptr;
    }

    // The chunks are read on every lookup, the lock is written by senders on
    // other shards: on cache lines of their own.
    std::unique_ptr<std::atomic<chunk*>[]> chunks_ { new std::atomic<chunk*>[ max_chunks ]() };
    alignas(64) mutable spin_lock lock_;
    std::vector<std::uint32_t> free_;
    std::uint32_t next_ = 0;
};

/// One shard: a thread running an io_context and the queue of coroutines
/// ready to run on it.
class shard {
public:
    shard(runtime_core& core, std::uint32_t index);
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;
    ~shard();

    void start(bool pin);
    /// Asks the loop to end once nothing is left to run; any thread.
    void request_stop();
    void join();

    /// Resumes `h` of `c` now, counting a stall if it runs long; owner thread.
    /// For the event loop's handlers and posted work: each such resumption
    /// has an inline budget of its own (see dispatcher::new_turn).
    void resume(control* c, std::coroutine_handle<> h) noexcept;
    /// The clock that times resumptions for stall detection: the coarse
    /// monotonic clock when the threshold allows, else steady_clock.
    std::chrono::steady_clock::time_point stall_clock() const noexcept;
    /// Resumes `h` of `c`, begun at `start` (a stall_clock reading); returns
    /// when it gave the shard back, a stall_clock reading.
    std::chrono::steady_clock::time_point run(control* c, std::coroutine_handle<> h,
                                              std::chrono::steady_clock::time_point start) noexcept;
    void push_ready(control* c, std::coroutine_handle<> h) { ready_.push({c, h}); }
    /// Runs `fn` on this shard's thread; any thread. See post_item.
    template <class Fn>
    void post(Fn&& fn) {
        post_item(new remote_call<std::decay_t<Fn>>(std::forward<Fn>(fn)));
    }
    /// Queues work from any thread; wakes the shard if it sleeps.
    void post_item(remote_item* item) noexcept;
    bool is_this_thread() const noexcept;

    std::uint32_t index() const noexcept { return index_; }
    asio::io_context& io() noexcept { return io_; }
    dispatcher& dispatch() noexcept { return dispatch_; }
    const dispatcher& dispatch() const noexcept { return dispatch_; }
    std::size_t ready_size() const noexcept { return ready_.size(); }
    runtime_core& core() noexcept { return core_; }
    slot_table& slots() noexcept { return slots_; }
    /// The shard's timers; owner thread.
    void add_timer(timer_entry& e) { timers_.push(e); }
    void remove_timer(timer_entry& e) noexcept { timers_.remove(e); }

    counter spawned, completed, resumes, stalls;

    // The coroutines counted on this shard (owner thread only): the runtime
    // counts a shard whose count is not zero as one, so that spawns and ends
    // on a shard need no atomic operation on state that every shard shares.
    void count_up(bool all, bool live) noexcept;
    void count_down(bool all, bool live) noexcept;

private:
    struct ready_item {
        control* c;
        std::coroutine_handle<> h;
    };

    void loop();
    /// Deletes the work posted after the loop ended, unrun.
    void drop_inbox() noexcept;
    /// Runs ready coroutines, up to a budget; returns the time it ended.
    std::chrono::steady_clock::time_point drain();
    bool run_inbox() noexcept;
    /// Waits for work; `now` is a recent reading of the clock.
    void sleep_until_work(std::chrono::steady_clock::time_point now);
    void fire_timers();
    void arm_alarm();

    runtime_core& core_;
    std::uint32_t index_;
    asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
    ring<ready_item> ready_;
    // Other threads write the slot table's lock and the inbox on every
    // message to this shard: each on a cache line of its own, away from the
    // ready queue and the timers that this shard writes all the time.
    alignas(64) slot_table slots_;
    alignas(64) std::atomic<remote_item*> inbox_{nullptr};  // posted work, newest first
    std::atomic<bool> sleeping_{false};                     // blocked in the event loop
    std::atomic<bool> stop_{false};
    alignas(64) timer_heap timers_;
    // Wakes the event loop at the earliest deadline; armed only before the
    // shard blocks, and only when that deadline is earlier than the armed one.
    asio::steady_timer alarm_{io_};
    bool alarm_armed_ = false;
    // How long sleep_until_work spins before it blocks (owner thread only).
    static constexpr std::chrono::nanoseconds max_spin{100'000};
    static constexpr std::chrono::nanoseconds min_spin{500};
    std::chrono::nanoseconds spin_ = max_spin;
    // From then on the spin yields the core between looks, in case the thread
    // that will post is waiting for it (a loaded machine).
    static constexpr std::chrono::nanoseconds yield_after{20'000};
    // A busy shard polls the event loop at most every poll_period_: each poll
    // is a system call, and work from other shards needs none. A poll that
    // finds nothing doubles the period, up to max_poll_period; one that runs a
    // handler, or a wait in the event loop, brings it back to min_poll_period
    // (owner thread only).
    static constexpr std::chrono::nanoseconds min_poll_period{10'000};
    static constexpr std::chrono::nanoseconds max_poll_period{160'000};
    std::chrono::nanoseconds poll_period_ = min_poll_period;
    std::chrono::steady_clock::time_point polled_{};
    std::uint64_t local_all_ = 0;   // coroutines counted here (flag all_local)
    std::uint64_t local_live_ = 0;  // non-daemons counted here (flag live_local)
    std::thread thread_;
    std::chrono::steady_clock::duration stall_threshold_;
    bool coarse_stall_clock_;
    dispatcher dispatch_;
};

/// Threads for calls that must block: grown on demand up to a bound, FIFO.
/// The threads that run blocking calls: up to `max_threads`, started as
/// calls need them. Calls run in the order they came, except that at most
/// `cpu_slots` CPU-bound calls (blocking_call::cpu_bound_) run at once:
/// more would only take cores from the shards and from each other, while
/// calls that wait (a disk, a server) gain from running side by side. A
/// CPU-bound call beyond that waits, and the calls behind it that wait on
/// something else go ahead of it.
class blocking_pool {
public:
    blocking_pool(unsigned max_threads, unsigned cpu_slots)
        : max_threads_(max_threads ? max_threads : 1), cpu_slots_(cpu_slots ? cpu_slots : 1) {}
    ~blocking_pool() { stop(); }

    void submit(blocking_call* job);
    /// Takes back a job no thread has started; false if one has.
    bool withdraw(blocking_call* job) noexcept;
    void stop() noexcept;
    std::uint64_t jobs() const noexcept { return jobs_.load(std::memory_order_relaxed); }
    unsigned cpu_slots() const noexcept { return cpu_slots_; }

private:
    /// Calls queued in order, one list per kind.
    struct queue {
        intrusive_list<blocking_call> calls;
        unsigned size = 0;
        void push(blocking_call* job) noexcept {
            calls.push_back(job);
            ++size;
        }
        void erase(blocking_call* job) noexcept {
            calls.remove(job);
            --size;
        }
    };

    void worker();
    /// Starts one more thread; false if the system would not.
    bool grow() noexcept;
    /// The queued calls a thread may start now.
    unsigned startable() const noexcept;
    /// Takes the call that came first among those a thread may start now.
    blocking_call* take() noexcept;

    std::mutex mutex_;
    std::condition_variable cv_;
    queue waiting_;    // calls that wait on something else than a core
    queue computing_;  // CPU-bound calls
    std::uint64_t next_seq_ = 0;
    unsigned max_threads_;
    unsigned cpu_slots_;
    unsigned cpu_running_ = 0;
    unsigned idle_ = 0;  // threads waiting for a job, including those woken for one
    bool stopping_ = false;
    std::vector<std::thread> threads_;
    std::atomic<std::uint64_t> jobs_{0};
};

class runtime_core {
public:
    explicit runtime_core(const runtime_options& options);
    ~runtime_core();

    shard& at(unsigned i) { return *shards_[i]; }
    unsigned size() const noexcept { return static_cast<unsigned>(shards_.size()); }
    const runtime_options& options() const noexcept { return options_; }
    blocking_pool& pool() noexcept { return pool_; }

    void launch(unsigned shard, control* c);
    /// Counts a coroutine ended, from its flags before it ended; owner shard.
    void on_complete(std::uint32_t flags, bool unhandled) noexcept;
    /// The runtime's own counts: one per shard that counts coroutines, one per
    /// coroutine counted here. Any thread.
    void all_up() noexcept { all_live_.fetch_add(1, std::memory_order_relaxed); }
    void all_down() noexcept;
    void live_up() noexcept { live_.fetch_add(1, std::memory_order_relaxed); }
    void live_down() noexcept;
    void note_unhandled() noexcept { unhandled_.fetch_add(1, std::memory_order_relaxed); }
    unsigned next_shard() noexcept;
    int run();
    void stop() noexcept;
    runtime_stats stats() const noexcept;
    io_counters io_stats(io_op op, int shard) const noexcept;
    /// Starts the thread that watches inline blocking calls, once; any shard.
    void start_watchdog();

private:
    void watch_inline_calls();
    void stop_watchdog() noexcept;

    runtime_options options_;
    std::vector<std::unique_ptr<shard>> shards_;
    blocking_pool pool_;
    // Coroutines not ended (all_live_) and those of them that are not daemons
    // (live_): each is counted either here or on its shard, and each shard
    // with a count is one here, so either is zero exactly when nothing is left.
    std::atomic<std::uint64_t> live_{0};
    std::atomic<std::uint64_t> all_live_{0};
    std::atomic<std::uint64_t> unhandled_{0};
    std::atomic<unsigned> next_{0};
    std::atomic<bool> stopping_{false};
    std::mutex stop_mutex_;
    bool stopped_ = false;
    // The watchdog: started by the first inline blocking call.
    std::once_flag watchdog_once_;
    std::mutex watchdog_mutex_;
    std::condition_variable watchdog_cv_;
    bool watchdog_stop_ = false;
    std::thread watchdog_;

public:
    std::mutex services_mutex_;
    std::vector<std::pair<const std::type_info*, std::unique_ptr<service>>> services_;
};

/// The shard of the calling thread, or null.
extern thread_local shard* current_shard;

}  // namespace coronet::detail
