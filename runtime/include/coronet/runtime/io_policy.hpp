#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace coronet {

/// How the dispatcher chooses between completing I/O synchronously and
/// asynchronously. `adaptive` decides per operation from measurements; the
/// other two force one way, for comparison.
enum class io_mode {
    adaptive,      ///< measure and choose (the default)
    always_sync,   ///< always try the call first / run blocking calls inline
    always_async,  ///< always wait for readiness first / offload blocking calls
};

/// The tunables of the dispatcher's policy. The defaults suit most programs.
struct io_policy_options {
    /// Readiness: below this first-attempt hit rate (of 256) a descriptor
    /// direction stops trying the call before waiting for readiness...
    std::uint32_t skip_below = 32;
    /// ...except one probe every this many operations.
    std::uint32_t probe_every = 16;

    /// Blocking calls: a key whose mean latency rises above this is offloaded.
    std::chrono::nanoseconds offload_above = std::chrono::milliseconds(1);
    /// An offloaded key comes back inline after a run of calls faster than
    /// this...
    std::chrono::nanoseconds inline_below = std::chrono::microseconds(50);
    /// ...this long: each fast call counts one, each slower one takes back
    /// eight, so a rare slow call (the machine was busy) delays the return a
    /// little and a key slow one call in nine or more stays offloaded. Each
    /// time a key moves to the pool again soon after its return, the run it
    /// needs doubles (up to 32 times); a long stay inline halves it again.
    std::uint32_t inline_after = 128;
    /// An inline call that runs longer than this has stalled its shard: its key
    /// is offloaded at once.
    std::chrono::nanoseconds inline_stall = std::chrono::milliseconds(5);
    /// A shard with more coroutines than this ready to run is saturated: its
    /// blocking calls are offloaded whatever their latency.
    std::uint32_t saturated_above = 64;
    /// Ops completed inline in one turn of a shard: a pass over its ready
    /// queue, or one coroutine resumed by its event loop. The op that spends it
    /// puts its coroutine back in the ready queue and ends the turn: the
    /// shard polls its event loop and runs the other ready coroutines before
    /// it resumes that one, so coroutines whose I/O keeps completing cannot
    /// starve the rest.
    std::uint32_t inline_budget = 64;
    /// Bytes moved by the ops completed inline in one turn; past it, as past
    /// `inline_budget` (a few large transfers hold the shard as long as many
    /// small ones).
    std::size_t inline_byte_budget = 1024 * 1024;
};

namespace detail {

/// Whether to try a non-blocking call before waiting for readiness, for one
/// descriptor and direction. A pure state machine: the hit rate of the first
/// attempt is an exponentially weighted mean (out of 256, weight 1/8); below
/// `skip_below` the attempt is skipped except for one probe every `probe_every`.
class speculation {
public:
    /// Decide for the next operation: true to try the call first.
    bool try_first(io_mode mode, const io_policy_options& o) noexcept {
        if (mode == io_mode::always_sync) return true;
        if (mode == io_mode::always_async) return false;
        if (rate_ >= o.skip_below) return true;
        if (++skipped_ >= o.probe_every) {
            skipped_ = 0;
            return true;  // a probe: has the descriptor turned fast again?
        }
        return false;
    }
    /// The outcome of a first attempt that was made.
    void record(bool hit) noexcept { rate_ = rate_ - rate_ / 8 + (hit ? 32 : 0); }
    std::uint32_t rate() const noexcept { return rate_; }

private:
    std::uint32_t rate_ = 256;  // optimistic: the first call is tried
    std::uint32_t skipped_ = 0;
};

/// Inline or offloaded, for one blocking-call key (primitive and target).
/// A pure state machine over latency samples. Inline, the mean latency moves
/// fast (weight 1/4), so a slow key is offloaded within a few calls, and a
/// call that stalls the shard offloads it at once. Offloaded, the key comes
/// back after a run of fast calls (`inline_after`, see io_policy_options),
/// not when its mean has forgotten the slow ones: one stall early in a long
/// run of fast calls (a cold cache, a busy machine) costs a few hundred
/// offloaded calls, not the rest of the run. The two thresholds give
/// hysteresis, and the growing run after repeated returns keeps a key that
/// stalls now and then mostly offloaded: the mode does not flap.
class blocking_key_state {
public:
    /// Decide for the next call: true to run it inline on the shard.
    bool run_inline(io_mode mode, std::uint32_t ready_coroutines,
                    const io_policy_options& o) const noexcept {
        if (mode == io_mode::always_sync) return true;
        if (mode == io_mode::always_async) return false;
        return inline_ && ready_coroutines <= o.saturated_above;
    }
    /// A call of this key took `took` (on the shard or in the pool). Returns
    /// true when the key changed mode.
    bool record(std::chrono::nanoseconds took, const io_policy_options& o) noexcept {
        double sample = static_cast<double>(took.count());
        mean_ += (sample - mean_) * (inline_ ? 0.25 : 1.0 / 64);
        if (inline_) {
            if (mean_ > static_cast<double>(o.offload_above.count())) {
                offload();
                return true;
            }
            if (backoff_ > 0 && ++inline_calls_ >= o.inline_after << backoff_) {
                --backoff_;  // a long stay inline: the next return comes sooner
                inline_calls_ = 0;
            }
            return false;
        }
        if (took >= o.inline_below) {
            fast_run_ = fast_run_ > slow_weight ? fast_run_ - slow_weight : 0;
            return false;
        }
        if (++fast_run_ < o.inline_after << (backoff_ > 0 ? backoff_ - 1 : 0)) return false;
        inline_ = true;
        mean_ = sample;  // the slow calls that offloaded it are the past
        inline_calls_ = 0;
        return true;
    }
    /// The watchdog saw an inline call of this key stall the shard.
    bool force_offload(std::chrono::nanoseconds running) noexcept {
        double r = static_cast<double>(running.count());
        if (r > mean_) mean_ = r;
        if (!inline_) return false;
        offload();
        return true;
    }
    bool is_inline() const noexcept { return inline_; }
    std::chrono::nanoseconds mean() const noexcept {
        return std::chrono::nanoseconds(static_cast<std::int64_t>(mean_));
    }

    /// Whether to time the thread CPU of this offloaded call: each of the
    /// first few, then one in four (the clock is a system call).
    bool sample_cpu() noexcept {
        if (cpu_samples_ < 8) return true;
        return (++unsampled_ & 3) == 0;
    }
    /// A sampled offloaded call took `wall`, of which its pool thread spent
    /// `cpu` on a core and `queued` ready to run but waiting for one (a
    /// loaded machine); `blocked` if the thread blocked during it (a wait on
    /// a disk, a server, a lock). A call that never blocked computed all along,
    /// so its share counts as 1; one that blocked counts `cpu` over the time
    /// it was not waiting for a core, `wall - queued`: the time it waited for
    /// a core is not time it waited for something else. The key becomes
    /// CPU-bound when the mean share (weight 1/4; the first sample sets it:
    /// the first calls of a computing key run before others pile up beside
    /// them, and its later calls, many at once and contending for locks,
    /// would look as if they waited) rises above a half, and stops being so
    /// when it falls below a quarter (a call that waits on a disk or a server
    /// uses a few percent; a key whose first call only set a library up is
    /// back within a few calls). Returns true when that changed.
    bool record_cpu(std::chrono::nanoseconds wall, std::chrono::nanoseconds cpu, bool blocked,
                    std::chrono::nanoseconds queued = {}) noexcept {
        if (wall.count() <= 0) return false;
        auto own = std::max(wall - queued, cpu);
        double share = !blocked || own.count() <= 0
                           ? 1.0
                           : std::min(1.0, static_cast<double>(cpu.count()) /
                                               static_cast<double>(own.count()));
        cpu_share_ = cpu_samples_++ == 0 ? share : cpu_share_ + (share - cpu_share_) * 0.25;
        bool was = cpu_bound_;
        if (cpu_share_ > 0.5)
            cpu_bound_ = true;
        else if (cpu_share_ < 0.25)
            cpu_bound_ = false;
        return cpu_bound_ != was;
    }
    /// Its offloaded calls compute rather than wait: the pool runs no more of
    /// them at once than it has cores for (runtime_options::cpu_bound_threads).
    bool cpu_bound() const noexcept { return cpu_bound_; }

private:
    static constexpr std::uint32_t slow_weight = 8;
    static constexpr std::uint32_t max_backoff = 6;  // the run grows up to 2^5 times

    void offload() noexcept {
        inline_ = false;
        fast_run_ = 0;
        if (backoff_ < max_backoff) ++backoff_;
    }

    double mean_ = 0;
    double cpu_share_ = 0;
    std::uint32_t cpu_samples_ = 0;
    std::uint32_t unsampled_ = 0;
    bool cpu_bound_ = false;
    bool inline_ = true;
    std::uint32_t backoff_ = 0;       // returns inline that ended soon, plus one while offloaded
    std::uint32_t fast_run_ = 0;      // offloaded: the run of fast calls so far
    std::uint32_t inline_calls_ = 0;  // inline: calls since the return or the last halving
};

}  // namespace detail
}  // namespace coronet
