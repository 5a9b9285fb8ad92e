#pragma once

#include <coronet/runtime/detail/spin_lock.hpp>
#include <coronet/runtime/io_policy.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace coronet {

/// The I/O primitives the dispatcher counts separately.
enum class io_op : std::uint8_t {
    socket_recv,
    socket_send,
    socket_accept,
    socket_connect,
    datagram_recv,
    datagram_send,
    pipe_read,
    pipe_write,
    file_read,
    file_write,
    file_open,
    file_sync,
    resolve,
    odbc,
    other,
    count_,
};

/// The name of an op ("socket_recv", ...).
const char* to_string(io_op op) noexcept;

/// True for the ops whose result is a count of bytes moved.
constexpr bool moves_bytes(io_op op) noexcept {
    switch (op) {
        case io_op::socket_recv:
        case io_op::socket_send:
        case io_op::datagram_recv:
        case io_op::datagram_send:
        case io_op::pipe_read:
        case io_op::pipe_write:
        case io_op::file_read:
        case io_op::file_write:
            return true;
        default:
            return false;
    }
}

/// What the dispatcher did for one primitive (on one shard, or summed).
struct io_counters {
    std::uint64_t inline_completions = 0;  ///< done without waiting: first attempt or inline call
    std::uint64_t speculative_misses = 0;  ///< first attempts that found nothing (EAGAIN)
    std::uint64_t skipped_attempts = 0;    ///< first attempts skipped as likely to miss
    std::uint64_t epoll_waits = 0;         ///< waits for readiness in the event loop
    std::uint64_t offloads = 0;            ///< calls run on the blocking pool
    std::uint64_t stalls = 0;              ///< inline calls that held the shard too long
    std::uint64_t mode_switches = 0;       ///< keys moved between inline and offloaded
    std::uint64_t budget_yields = 0;       ///< coroutines requeued for completing inline too often

    io_counters& operator+=(const io_counters& o) noexcept;
};

namespace detail {

/// A counter written by one thread and read by any.
class io_counter {
public:
    void add() noexcept {
        v_.store(v_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

struct io_counter_block {
    io_counter inline_completions, speculative_misses, skipped_attempts, epoll_waits, offloads,
        stalls, mode_switches, budget_yields;
    io_counters snapshot() const noexcept;
};

/// The state of one key of a call that can only block, with its name.
struct blocking_key final : blocking_key_state {
    io_op op = io_op::other;
    const std::string* target = nullptr;  // the key of the dispatcher's map: stable
};

/// The inline blocking call running on a shard, if any, as the runtime's
/// watchdog thread sees it. Written by the shard, read by the watchdog.
class inline_watch {
public:
    using clock = std::chrono::steady_clock;

    void begin(blocking_key& key, clock::time_point start) noexcept {
        lock_.lock();
        key_ = &key;
        start_ = start;
        reported_ = false;
        lock_.unlock();
    }
    /// Ends the watch; true if the watchdog reported the call as stalled.
    bool end() noexcept {
        lock_.lock();
        key_ = nullptr;
        bool reported = reported_;
        lock_.unlock();
        return reported;
    }

    struct stalled_call {
        io_op op;
        std::string target;
        clock::time_point start;
    };
    /// The call running since before `cutoff`, the first time it is asked for;
    /// any thread.
    std::optional<stalled_call> stalled_since(clock::time_point cutoff) {
        lock_.lock();
        std::optional<stalled_call> out;
        if (key_ && !reported_ && start_ < cutoff) {
            reported_ = true;
            try {
                out = stalled_call{key_->op, *key_->target, start_};
            } catch (...) {  // no memory for the name: report it next time
                reported_ = false;
            }
        }
        lock_.unlock();
        return out;
    }

private:
    spin_lock lock_;
    blocking_key* key_ = nullptr;
    clock::time_point start_;
    bool reported_ = false;
};

/// The dispatcher of one shard: the one place where each I/O operation is
/// decided and counted. Used on its shard's thread only (counters are read
/// from anywhere).
class dispatcher {
public:
    dispatcher(io_mode mode, const io_policy_options& options) noexcept;

    /// A number no other dispatcher of the process has had.
    std::uint64_t id() const noexcept { return id_; }
    io_mode mode() const noexcept { return mode_; }
    const io_policy_options& options() const noexcept { return options_; }
    io_counter_block& counters(io_op op) noexcept {
        return counters_[static_cast<std::size_t>(op)];
    }
    const io_counter_block& counters(io_op op) const noexcept {
        return counters_[static_cast<std::size_t>(op)];
    }

    // --- readiness-based primitives (sockets, pipes)

    /// Whether to try the non-blocking call before waiting for readiness.
    bool try_first(io_op op, speculation& s) noexcept {
        if (s.try_first(mode_, options_)) return true;
        counters(op).skipped_attempts.add();
        return false;
    }
    /// The first attempt completed (`hit`) or found nothing to do.
    void attempted(io_op op, speculation& s, bool hit) noexcept {
        s.record(hit);
        if (!hit) counters(op).speculative_misses.add();
    }
    /// The operation waits for readiness in the event loop.
    void parked(io_op op) noexcept { counters(op).epoll_waits.add(); }
    /// The operation completed without suspending, moving `bytes`. True when
    /// it used up this turn's inline budget: the coroutine should yield, and
    /// the turn ends (see turn_over).
    bool completed_inline(io_op op, std::size_t bytes = 0) noexcept {
        counters(op).inline_completions.add();
        inline_bytes_this_turn_ += bytes;
        if (++inline_this_turn_ < options_.inline_budget &&
            inline_bytes_this_turn_ < options_.inline_byte_budget)
            return false;
        counters(op).budget_yields.add();
        turn_over_ = true;
        return true;
    }
    /// A new turn of the shard's loop: the inline budget starts again.
    void new_turn() noexcept {
        inline_this_turn_ = 0;
        inline_bytes_this_turn_ = 0;
        turn_over_ = false;
    }
    /// The inline budget of this turn is spent: the shard ends the turn.
    bool turn_over() const noexcept { return turn_over_; }
    /// A coroutine of the shard is resumed (each resumption has its number).
    void resuming() noexcept { ++resumption_; }
    /// The number of the resumption running now: equal numbers mean that
    /// no other coroutine of the shard ran in between.
    std::uint64_t resumption() const noexcept { return resumption_; }

    // --- calls that can only block (open, fsync, resolve, ODBC)

    /// The state of the key (primitive, target), made on first use; stable.
    blocking_key_state& key(io_op op, std::string_view target);
    /// Whether the next call of `key` runs inline, given `ready` coroutines waiting.
    bool run_inline(const blocking_key_state& key, std::uint32_t ready) const noexcept {
        return key.run_inline(mode_, ready, options_);
    }
    /// An inline call of `key` (from `key()`) begins at `start`: the watchdog
    /// watches it until `record`.
    void begin_inline(blocking_key_state& key,
                      std::chrono::steady_clock::time_point start) noexcept;
    /// A call of `key` took `took`, inline or offloaded.
    void record(io_op op, blocking_key_state& key, std::chrono::nanoseconds took,
                bool was_inline) noexcept;
    /// Offloads the calls of (op, target) from now on: another shard's inline
    /// call of it stalled.
    void force_offload(io_op op, std::string_view target);

    /// The inline call in progress, for the watchdog.
    inline_watch& watch() noexcept { return watch_; }

private:
    /// Hashes a key's target as std::string and std::string_view alike.
    struct target_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

    std::uint64_t id_;
    io_mode mode_;
    io_policy_options options_;
    std::uint32_t inline_this_turn_ = 0;
    std::size_t inline_bytes_this_turn_ = 0;
    bool turn_over_ = false;
    std::uint64_t resumption_ = 0;
    bool watchdog_started_ = false;
    inline_watch watch_;
    std::array<io_counter_block, static_cast<std::size_t>(io_op::count_)> counters_{};
    std::unordered_map<std::string, std::unique_ptr<blocking_key>, target_hash, std::equal_to<>>
        keys_[static_cast<std::size_t>(io_op::count_)];
};

/// The dispatcher of the calling shard; `errc::not_in_coroutine` off the shards.
dispatcher& this_dispatcher();

/// The number of coroutines ready to run on the calling shard.
std::uint32_t ready_count() noexcept;

/// What the calling thread has used so far (four system calls).
struct thread_usage {
    std::chrono::nanoseconds cpu{};     ///< time on a core, user and system
    long waits = 0;                     ///< times it blocked (voluntary context switches)
    std::chrono::nanoseconds queued{};  ///< time ready to run, waiting for a core (0 if unknown)
};
thread_usage thread_usage_now() noexcept;

}  // namespace detail
}  // namespace coronet
