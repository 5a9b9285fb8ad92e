#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

/// What the workloads share: the clock, the memory readings and the way a run
/// reports that it went wrong.
namespace coronet::bench {

using clock = std::chrono::steady_clock;

/// Seconds from `start` to now.
double seconds_since(clock::time_point start);

/// The resident set of this process, from /proc/self/status.
struct memory_status {
    std::uint64_t rss_bytes = 0;   ///< VmRSS: resident now
    std::uint64_t peak_bytes = 0;  ///< VmHWM: the most that was ever resident
};
memory_status read_memory_status();

/// Bytes per item of the peak growth from `before` to `after`:
/// (after.VmHWM - before.VmRSS) / n.
double peak_growth_per_item(const memory_status& before, const memory_status& after,
                            std::uint64_t n);

/// Reports a further number of this run beside the workload's own (a latency
/// percentile, a CPU cost): the worker prints it, and the table shows it as a
/// row of its own, `<workload>_<metric>`.
void report_metric(const std::string& metric, double value);
/// What report_metric was given so far, in order.
const std::vector<std::pair<std::string, double>>& reported_metrics();

/// Thrown by a workload whose run did not do what it should (lost items, say).
class failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Thrown by a peer that cannot run on this machine (a tool that is not
/// installed): reported as n/a, not as a failure.
class unavailable : public failure {
public:
    using failure::failure;
};

/// What a child process wrote on its standard output, and how it ended.
struct process_output {
    std::string out;
    int wait_status = 0;  ///< as from waitpid
};

/// Runs `argv[0]` with arguments `argv` and environment `envp` (null-terminated)
/// and waits for it; `failure` if it cannot be started.
process_output run_process(const std::vector<std::string>& argv, char** envp);

/// Throws `failure` unless `got == want`; `what` names the count.
void expect_count(const char* what, std::uint64_t got, std::uint64_t want);

/// A small, fast pseudo-random generator (xorshift64), so that both systems
/// draw the same sequence without the cost of <random> in the measured loop.
class xorshift {
public:
    explicit xorshift(std::uint64_t seed = 0x9e3779b97f4a7c15ull) noexcept : s_(seed) {}
    std::uint64_t next() noexcept {
        s_ ^= s_ << 13;
        s_ ^= s_ >> 7;
        s_ ^= s_ << 17;
        return s_;
    }

private:
    std::uint64_t s_;
};

/// The timer storm's delays: uniform in [0, 10] ms, in microseconds.
inline std::chrono::microseconds timer_storm_delay(xorshift& rng) {
    return std::chrono::microseconds(rng.next() % 10'001);
}

}  // namespace coronet::bench
