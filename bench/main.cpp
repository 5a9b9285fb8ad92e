// coronet-bench: runs every workload on coronet and on its peers, each
// measurement in a process of its own, and prints a table or JSON lines.
//
//     coronet-bench [--quick] [--json] [--only NAME]... [--repeat R]
//
// The measurements run as `coronet-bench --worker WORKLOAD SYSTEM N TIMEOUT`,
// which prints the number and, on a second line, its peak resident memory
// (VmHWM, bytes), and nothing else on stdout.

#include "echo.hpp"
#include "file_workloads.hpp"
#include "measure.hpp"
#include "odbc_workloads.hpp"
#include "workloads.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <vector>

extern char** environ;

namespace coronet::bench {
namespace {

using measure_fn = double (*)(std::uint64_t n);

struct system_run {
    const char* system;
    measure_fn measure;
    /// The least `coronet / peer` ratio (`peer / coronet` when lower is
    /// better) that meets the target; 0 when there is none.
    double target_ratio = 0;
    /// A floor is the ideal, not a competitor: no target.
    bool floor = false;
    /// The most coronet's number may exceed this peer's (a cost, lower is
    /// better); none if unset.
    std::optional<double> max_excess{};
};

/// A further number that each system's run reports (see report_metric),
/// shown as a workload of its own named `<workload>_<metric>`.
struct metric_row {
    const char* metric;
    const char* unit;
    bool lower_is_better;
    /// The targets against the peers named (the other peers have none).
    std::vector<system_run> targets{};
};

struct workload {
    const char* name;
    const char* unit;
    bool lower_is_better;
    std::uint64_t n_full;
    std::uint64_t n_quick;
    measure_fn coronet;
    std::vector<system_run> peers;
    /// An upper bound on coronet's own number (lower-is-better units); 0 if none.
    double coronet_max = 0;
    /// Also report each system's peak resident memory (VmHWM of its process),
    /// as a workload of its own named `<name>_peak_memory`, in MiB.
    bool peak_memory = false;
    /// The further numbers each run reports.
    std::vector<metric_row> metrics{};
};

/// What every TCP echo workload reports beside requests/s, and the targets:
/// p99 no worse than raw Asio's, server CPU at most 1 us above raw epoll's.
std::vector<metric_row> echo_metrics() {
    return {{.metric = "p50_latency", .unit = "us", .lower_is_better = true},
            {.metric = "p99_latency",
             .unit = "us",
             .lower_is_better = true,
             .targets = {{.system = "asio", .measure = nullptr, .target_ratio = 1}}},
            {.metric = "server_cpu",
             .unit = "us/request",
             .lower_is_better = true,
             .targets = {{.system = "epoll", .measure = nullptr, .max_excess = 1.0}}}};
}

/// The peers of the TCP echo workloads, with `Connections` connections.
template <unsigned Connections>
std::vector<system_run> echo_peers() {
    return {
        {.system = "epoll", .measure = tcp_echo<echo_server::epoll, Connections>, .floor = true},
        {.system = "asio",
         .measure = tcp_echo<echo_server::asio, Connections>,
         .target_ratio = 0.95},
        {.system = "go", .measure = tcp_echo<echo_server::go, Connections>, .target_ratio = 1.2},
        {.system = "uvloop_protocol",
         .measure = tcp_echo<echo_server::uvloop_protocol, Connections>,
         .target_ratio = 1.1},
        {.system = "uvloop_streams",
         .measure = tcp_echo<echo_server::uvloop_streams, Connections>,
         .target_ratio = 1.6},
        {.system = "asyncio_streams",
         .measure = tcp_echo<echo_server::asyncio_streams, Connections>,
         .target_ratio = 2}};
}

/// A measurement of one of the dispatcher's modes and its target ratio.
struct mode_run {
    measure_fn measure;
    double target_ratio;
};

/// The peers of a dispatcher workload: the same code in the two forced modes
/// (coronet's own number is the adaptive mode's).
std::vector<system_run> other_modes(mode_run always_sync, mode_run always_async) {
    return {{.system = "always_sync",
             .measure = always_sync.measure,
             .target_ratio = always_sync.target_ratio},
            {.system = "always_async",
             .measure = always_async.measure,
             .target_ratio = always_async.target_ratio}};
}

std::vector<system_run> with(std::vector<system_run> peers, system_run more) {
    peers.push_back(more);
    return peers;
}

const std::vector<workload>& workloads() {
    static const std::vector<workload> all = {
        {.name = "spawn",
         .unit = "coroutines/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_spawn,
         .peers = {{.system = "caf", .measure = caf_spawn, .target_ratio = 20},
                   {.system = "cpp20_frame", .measure = frame_spawn, .floor = true}}},
        {.name = "parked_memory",
         .unit = "bytes/coroutine",
         .lower_is_better = true,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_parked_memory,
         .peers = {{.system = "caf", .measure = caf_parked_memory, .target_ratio = 5},
                   {.system = "cpp20_frame", .measure = frame_parked_memory, .floor = true}}},
        {.name = "submit_to_round_trip",
         .unit = "round trips/s",
         .lower_is_better = false,
         .n_full = 200'000,
         .n_quick = 2'000,
         .coronet = coronet_submit_to,
         .peers = {{.system = "caf", .measure = caf_request_response},
                   {.system = "caf_detached", .measure = caf_request_response_detached}}},
        {.name = "timer_storm",
         .unit = "ns/coroutine",
         .lower_is_better = true,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_timer_storm,
         .peers = {{.system = "caf", .measure = caf_timer_storm}},
         .coronet_max = 600},
        {.name = "ping_pong_same_shard",
         .unit = "messages/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_ping_pong_same,
         .peers = {{.system = "caf", .measure = caf_ping_pong_same, .target_ratio = 10},
                   {.system = "go", .measure = go_ping_pong_same, .target_ratio = 1}}},
        {.name = "ping_pong_cross_shard",
         .unit = "messages/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_ping_pong_cross,
         .peers = {{.system = "caf", .measure = caf_ping_pong_cross, .target_ratio = 3},
                   {.system = "caf_detached",
                    .measure = caf_ping_pong_cross_detached,
                    .target_ratio = 3},
                   {.system = "go", .measure = go_ping_pong_cross, .target_ratio = 1},
                   {.system = "cross_thread", .measure = floor_cross_thread, .floor = true}}},
        {.name = "one_way_mailbox",
         .unit = "ns/message",
         .lower_is_better = true,
         .n_full = 10'000'000,
         .n_quick = 100'000,
         .coronet = coronet_one_way,
         .peers = {{.system = "caf", .measure = caf_one_way},
                   {.system = "cpp20_channel", .measure = floor_one_way, .floor = true}},
         .coronet_max = 50},
        {.name = "broadcast",
         .unit = "deliveries/s",
         .lower_is_better = false,
         .n_full = 10'000,
         .n_quick = 200,
         .coronet = coronet_broadcast,
         .peers = {{.system = "caf", .measure = caf_broadcast}}},
        {.name = "actor_creation",
         .unit = "s",
         .lower_is_better = true,
         .n_full = (1u << 20) - 1,
         .n_quick = (1u << 12) - 1,
         .coronet = coronet_actor_creation,
         .peers = {{.system = "caf", .measure = caf_actor_creation, .target_ratio = 1}},
         .peak_memory = true},
        {.name = "mailbox_performance",
         .unit = "messages/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = coronet_mailbox_performance,
         .peers = {{.system = "caf", .measure = caf_mailbox_performance, .target_ratio = 1}},
         .peak_memory = true},
        {.name = "mixed_case",
         .unit = "s",
         .lower_is_better = true,
         .n_full = 1'000,
         .n_quick = 10,
         .coronet = coronet_mixed_case,
         .peers = {{.system = "caf", .measure = caf_mixed_case, .target_ratio = 1}},
         .peak_memory = true},
        {.name = "tcp_echo_100",
         .unit = "requests/s",
         .lower_is_better = false,
         .n_full = 500'000,
         .n_quick = 20'000,
         .coronet = tcp_echo<echo_server::coronet, 100>,
         .peers = echo_peers<100>(),
         .metrics = echo_metrics()},
        {.name = "tcp_echo_10k",
         .unit = "requests/s",
         .lower_is_better = false,
         .n_full = 500'000,
         .n_quick = 20'000,
         .coronet = tcp_echo<echo_server::coronet, 10'000>,
         .peers = echo_peers<10'000>(),
         .metrics = echo_metrics()},
        // The dispatcher: the same server in its three modes.
        {.name = "io_ping_pong",
         .unit = "us/round trip",
         .lower_is_better = true,
         .n_full = 50'000,
         .n_quick = 5'000,
         .coronet = echo_round_trip<echo_server::coronet>,
         .peers = with(
             other_modes({echo_round_trip<echo_server::coronet_always_sync>, 0.95},
                         {echo_round_trip<echo_server::coronet_always_async>, 0}),
             {.system = "epoll", .measure = echo_round_trip<echo_server::epoll>, .floor = true}),
         .metrics = {{.metric = "p99_latency", .unit = "us", .lower_is_better = true},
                     {.metric = "server_cpu", .unit = "us/request", .lower_is_better = true}}},
        {.name = "io_many_clients_p99",
         .unit = "us (p99)",
         .lower_is_better = true,
         .n_full = 500'000,
         .n_quick = 20'000,
         .coronet = tcp_echo_beside_streams<echo_server::coronet, 10'000, 4>,
         .peers = other_modes(
             {tcp_echo_beside_streams<echo_server::coronet_always_sync, 10'000, 4>, 0},
             {tcp_echo_beside_streams<echo_server::coronet_always_async, 10'000, 4>, 0.9}),
         .metrics = {{.metric = "requests", .unit = "requests/s", .lower_is_better = false},
                     {.metric = "p50_latency", .unit = "us", .lower_is_better = true},
                     {.metric = "server_cpu", .unit = "us/request", .lower_is_better = true}}},
        {.name = "file_random_reads",
         .unit = "reads/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = file_random_reads<io_mode::adaptive>,
         .peers = other_modes({file_random_reads<io_mode::always_sync>, 0},
                              {file_random_reads<io_mode::always_async>, 1}),
         .metrics = {{.metric = "inline_share", .unit = "% inline", .lower_is_better = false}}},
        {.name = "file_mixed_reads",
         .unit = "reads/s",
         .lower_is_better = false,
         .n_full = 1'000'000,
         .n_quick = 20'000,
         .coronet = file_mixed_reads<io_mode::adaptive>,
         .peers = other_modes({file_mixed_reads<io_mode::always_sync>, 1},
                              {file_mixed_reads<io_mode::always_async>, 1}),
         .metrics = {{.metric = "inline_share", .unit = "% inline", .lower_is_better = false},
                     {.metric = "cold_reads", .unit = "reads", .lower_is_better = true}}},
        // Whole files, N in MiB.
        {.name = "file_read_1m_blocks",
         .unit = "GiB/s",
         .lower_is_better = false,
         .n_full = 1024,
         .n_quick = 64,
         .coronet = coronet_file_read<1 << 20>,
         .peers = {{.system = "pread_loop",
                    .measure = pread_file_read<1 << 20>,
                    .target_ratio = 0.9}}},
        {.name = "file_read_4k_blocks",
         .unit = "GiB/s",
         .lower_is_better = false,
         .n_full = 1024,
         .n_quick = 64,
         .coronet = coronet_file_read<4096>,
         .peers = {{.system = "pread_loop",
                    .measure = pread_file_read<4096>,
                    .target_ratio = 0.9}}},
        {.name = "file_to_socket",
         .unit = "GiB/s",
         .lower_is_better = false,
         .n_full = 1024,
         .n_quick = 64,
         .coronet = coronet_file_to_socket,
         .peers = {{.system = "pread_send_loop",
                    .measure = plain_file_to_socket,
                    .target_ratio = 0.9}}},
        // Databases: SQLite through its ODBC driver.
        {.name = "odbc_small_queries",
         .unit = "queries/s",
         .lower_is_better = false,
         .n_full = 100'000,
         .n_quick = 5'000,
         .coronet = coronet_odbc_small_queries,
         .peers = {{.system = "plain_odbc",
                    .measure = plain_odbc_small_queries,
                    .target_ratio = 0.95}},
         .metrics = {{.metric = "inline_share", .unit = "% inline", .lower_is_better = false}}},
        {.name = "odbc_pool_64_clients",
         .unit = "queries/s",
         .lower_is_better = false,
         .n_full = 50'000,
         .n_quick = 2'000,
         .coronet = coronet_odbc_pool,
         .peers = {{.system = "plain_1_thread",
                    .measure = plain_odbc_pool_queries,
                    .target_ratio = 1}},
         .metrics = {{.metric = "inline_share", .unit = "% inline", .lower_is_better = false}}},
        {.name = "odbc_mixed_queries",
         .unit = "queries/s",
         .lower_is_better = false,
         .n_full = 5'000,
         .n_quick = 300,
         .coronet = odbc_mixed_queries<io_mode::adaptive>,
         .peers = other_modes({odbc_mixed_queries<io_mode::always_sync>, 0.95},
                              {odbc_mixed_queries<io_mode::always_async>, 0}),
         .metrics =
             {{.metric = "fast_p99",
               .unit = "us",
               .lower_is_better = true,
               .targets = {{.system = "always_async", .measure = nullptr, .target_ratio = 0.8}}},
              {.metric = "inline_share", .unit = "% inline", .lower_is_better = false}}},
    };
    return all;
}

const workload* find_workload(const std::string& name) {
    for (const workload& w : workloads())
        if (name == w.name) return &w;
    return nullptr;
}

measure_fn find_system(const workload& w, const std::string& system) {
    if (system == "coronet") return w.coronet;
    for (const system_run& p : w.peers)
        if (system == p.system) return p.measure;
    return nullptr;
}

// ---------------------------------------------------------------- worker side

/// The exit status of a worker whose system cannot run here (reported n/a).
constexpr int unavailable_status = 4;

int run_worker(const std::string& name, const std::string& system, std::uint64_t n,
               unsigned timeout_s) {
    const workload* w = find_workload(name);
    measure_fn fn = w ? find_system(*w, system) : nullptr;
    if (!fn) {
        std::fprintf(stderr, "coronet-bench: no measurement %s/%s\n", name.c_str(), system.c_str());
        return 2;
    }
    alarm(timeout_s);  // a hung run ends with SIGALRM, which the parent reports
    try {
        double v = fn(n);
        std::printf("%.17g\n%llu\n", v,
                    static_cast<unsigned long long>(read_memory_status().peak_bytes));
        for (const auto& [metric, value] : reported_metrics())
            std::printf("%s %.17g\n", metric.c_str(), value);
        return 0;
    } catch (const unavailable& e) {
        std::fprintf(stderr, "coronet-bench: %s/%s: n/a: %s\n", name.c_str(), system.c_str(),
                     e.what());
        return unavailable_status;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "coronet-bench: %s/%s failed: %s\n", name.c_str(), system.c_str(),
                     e.what());
        return 3;
    }
}

// ---------------------------------------------------------------- parent side

struct outcome {
    std::optional<double> value{};
    std::optional<double> peak_bytes{};  ///< VmHWM of the measuring process
    bool unavailable = false;            ///< the system cannot run here: n/a, not a failure
    std::string error{};
    std::vector<std::pair<std::string, double>> metrics{};  ///< see report_metric
};

std::string describe_status(int status, unsigned timeout_s) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        std::string s = "killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
        if (sig == SIGALRM) s += ": no result within " + std::to_string(timeout_s) + " s";
        return s;
    }
    return "ended with wait status " + std::to_string(status);
}

/// Runs one measurement in a child process and reads its number and peak memory.
outcome run_child(const std::string& self, const workload& w, const char* system, std::uint64_t n,
                  unsigned timeout_s) {
    process_output res;
    try {
        res = run_process(
            {self, "--worker", w.name, system, std::to_string(n), std::to_string(timeout_s)},
            environ);
    } catch (const failure& e) {
        return {.error = e.what()};
    }
    int status = res.wait_status;
    if (WIFEXITED(status) && WEXITSTATUS(status) == unavailable_status)
        return {.unavailable = true, .error = "not available here"};
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return {.error = describe_status(status, timeout_s)};
    const char* text = res.out.c_str();
    char* end = nullptr;
    double v = std::strtod(text, &end);
    if (end == text || !std::isfinite(v)) return {.error = "printed no number: '" + res.out + "'"};
    outcome o{.value = v};
    text = end;
    double peak = std::strtod(text, &end);
    if (end != text && std::isfinite(peak)) o.peak_bytes = peak;
    // Then a line per reported metric: its name and its number.
    for (text = end; *text;) {
        while (std::isspace(static_cast<unsigned char>(*text))) ++text;
        const char* name_end = std::strchr(text, ' ');
        if (!name_end) break;
        double value = std::strtod(name_end, &end);
        if (end == name_end)
            return {.error = "printed a metric without a number: '" + res.out + "'"};
        o.metrics.emplace_back(std::string(text, name_end), value);
        text = end;
    }
    return o;
}

struct options {
    bool quick = false;
    bool json = false;
    unsigned repeat = 0;  // 0: the default of the mode
    std::vector<std::string> only;
};

unsigned runs_per_measurement(const options& opt) {
    return opt.repeat ? opt.repeat : (opt.quick ? 1 : 3);
}

/// The results of one workload: coronet's and then each peer's.
struct workload_results {
    outcome coronet;
    std::vector<outcome> peers;
    bool all_ok() const {
        if (!coronet.value) return false;
        for (const outcome& p : peers)
            if (!p.value && !p.unavailable) return false;
        return true;
    }
};

/// Runs every system of `w` `repeat` times, the systems taking turns so that
/// a change in the machine's load hits them alike, and keeps each one's best:
/// the highest rate or the lowest cost. Runs on a shared machine are disturbed
/// from outside, never helped. A system that fails once is not run again.
workload_results measure(const std::string& self, const options& opt, const workload& w) {
    std::uint64_t n = opt.quick ? w.n_quick : w.n_full;
    unsigned timeout_s = opt.quick ? 60 : 600;
    unsigned repeat = runs_per_measurement(opt);

    std::vector<const char*> systems = {"coronet"};
    for (const system_run& p : w.peers) systems.push_back(p.system);
    std::vector<outcome> best(systems.size());
    std::vector<bool> failed(systems.size(), false);
    for (unsigned r = 0; r < repeat; ++r) {
        for (std::size_t i = 0; i < systems.size(); ++i) {
            if (failed[i]) continue;
            if (isatty(STDERR_FILENO))
                std::fprintf(stderr, "  %s / %s, run %u of %u ...\033[K\r", w.name, systems[i],
                             r + 1, repeat);
            outcome o = run_child(self, w, systems[i], n, timeout_s);
            if (!o.value) {
                if (!o.unavailable)
                    std::fprintf(stderr, "coronet-bench: %s / %s (N = %llu): %s\n", w.name,
                                 systems[i], static_cast<unsigned long long>(n), o.error.c_str());
                failed[i] = true;
                best[i] = o;
                continue;
            }
            // The best value and the lowest peak memory, each over all runs.
            std::optional<double> peak = best[i].peak_bytes;
            if (o.peak_bytes && (!peak || *o.peak_bytes < *peak)) peak = o.peak_bytes;
            const std::optional<double>& b = best[i].value;
            if (!b || (w.lower_is_better ? *o.value < *b : *o.value > *b)) best[i] = o;
            best[i].peak_bytes = peak;
        }
    }
    if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\033[K");
    workload_results res;
    res.coronet = best[0];
    res.peers.assign(best.begin() + 1, best.end());
    return res;
}

/// >1 means coronet is better, whichever way the unit points.
std::optional<double> ratio(const workload& w, const outcome& coronet, const outcome& peer) {
    if (!coronet.value || !peer.value || *coronet.value == 0 || *peer.value == 0)
        return std::nullopt;
    return w.lower_is_better ? *peer.value / *coronet.value : *coronet.value / *peer.value;
}

std::string human(double x) {
    const char* suffix = "";
    if (x >= 1e9) {
        x /= 1e9;
        suffix = " G";
    } else if (x >= 1e6) {
        x /= 1e6;
        suffix = " M";
    } else if (x >= 1e4) {
        x /= 1e3;
        suffix = " k";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, x >= 100 ? "%.0f%s" : "%.3g%s", x, suffix);
    return buf;
}

std::string json_number(const std::optional<double>& v) {
    if (!v) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", *v);
    return buf;
}

std::string human(const outcome& o) {
    if (!o.value) return o.unavailable ? "n/a" : "FAILED";
    return human(*o.value);
}

void print_json(const workload& w, const outcome& coronet, const std::vector<outcome>& peers) {
    std::string line = std::string("{\"workload\": \"") + w.name + "\", \"unit\": \"" + w.unit +
                       "\", \"coronet\": " + json_number(coronet.value) + ", \"peers\": {";
    std::string ratios;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        const char* sep = i ? ", " : "";
        line += std::string(sep) + "\"" + w.peers[i].system + "\": " + json_number(peers[i].value);
        ratios += std::string(sep) + "\"" + w.peers[i].system +
                  "\": " + json_number(ratio(w, coronet, peers[i]));
    }
    line += "}, \"ratio\": {" + ratios + "}}";
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

std::string verdict(bool met) {
    return met ? "met" : "MISSED";
}

void print_table_header() {
    std::printf("%-31s %-15s %9s %10s  %-15s %10s %9s  %s\n", "workload", "unit", "N", "coronet",
                "peer", "peer", "ratio", "target");
    std::printf("%s\n", std::string(126, '-').c_str());
}

void print_table_rows(const workload& w, std::uint64_t n, const outcome& coronet,
                      const std::vector<outcome>& peers) {
    for (std::size_t i = 0; i < peers.size(); ++i) {
        const system_run& p = w.peers[i];
        std::optional<double> r = ratio(w, coronet, peers[i]);
        char rbuf[32] = "-";
        if (r) std::snprintf(rbuf, sizeof rbuf, "%.2fx", *r);
        std::string target;
        if (p.floor) {
            target = "floor";
        } else if (p.target_ratio > 0) {
            char t[48];
            std::snprintf(t, sizeof t, ">= %gx: ", p.target_ratio);
            target = t + (r ? verdict(*r >= p.target_ratio) : "?");
        }
        if (p.max_excess) {
            char t[64];
            std::snprintf(t, sizeof t, "<= %s + %g: ", p.system, *p.max_excess);
            target = t + (coronet.value && peers[i].value
                              ? verdict(*coronet.value <= *peers[i].value + *p.max_excess)
                              : "?");
        }
        if (i == 0 && w.coronet_max > 0) {
            char t[64];
            std::snprintf(t, sizeof t, "coronet <= %g: ", w.coronet_max);
            target = t + (coronet.value ? verdict(*coronet.value <= w.coronet_max) : "?");
        }
        std::printf("%-31s %-15s %9s %10s  %-15s %10s %9s  %s\n", i == 0 ? w.name : "",
                    i == 0 ? w.unit : "", i == 0 ? human(static_cast<double>(n)).c_str() : "",
                    i == 0 ? human(coronet).c_str() : "", p.system, human(peers[i]).c_str(), rbuf,
                    target.c_str());
    }
    std::fflush(stdout);
}

void print_results(const options& opt, const workload& w, const workload_results& res) {
    if (opt.json)
        print_json(w, res.coronet, res.peers);
    else
        print_table_rows(w, opt.quick ? w.n_quick : w.n_full, res.coronet, res.peers);
}

/// A companion of `w` for another number of the same runs, named `name`
/// (which must outlive it): the same systems, with the targets of `row`.
workload companion_workload(const workload& w, const std::string& name, const metric_row& row) {
    workload m = w;
    m.name = name.c_str();
    m.unit = row.unit;
    m.lower_is_better = row.lower_is_better;
    m.coronet_max = 0;
    for (system_run& p : m.peers) {
        p.target_ratio = 0;
        p.max_excess.reset();
        for (const system_run& t : row.targets)
            if (std::strcmp(t.system, p.system) == 0) {
                p.target_ratio = t.target_ratio;
                p.max_excess = t.max_excess;
            }
    }
    return m;
}

/// Each system's outcome with `number(o)` in place of its number.
template <class Number>
workload_results companion_results(const workload_results& res, Number number) {
    auto replace = [&](outcome o) {
        bool ran = o.value.has_value();
        o.value = ran ? number(o) : std::nullopt;
        if (ran && !o.value) o.unavailable = true;  // ran, but has no such number: n/a
        return o;
    };
    workload_results m;
    m.coronet = replace(res.coronet);
    for (const outcome& p : res.peers) m.peers.push_back(replace(p));
    return m;
}

/// Prints the rows of peak memory and of every reported metric of `w`.
void print_companions(const options& opt, const workload& w, const workload_results& res) {
    if (w.peak_memory) {
        std::string name = std::string(w.name) + "_peak_memory";
        metric_row row{.metric = "peak_memory", .unit = "MiB (VmHWM)", .lower_is_better = true};
        print_results(opt, companion_workload(w, name, row),
                      companion_results(res, [](const outcome& o) {
                          return o.peak_bytes ? std::optional<double>(*o.peak_bytes / (1 << 20))
                                              : std::nullopt;
                      }));
    }
    for (const metric_row& row : w.metrics) {
        std::string name = std::string(w.name) + "_" + row.metric;
        print_results(opt, companion_workload(w, name, row),
                      companion_results(res, [&](const outcome& o) -> std::optional<double> {
                          for (const auto& [metric, value] : o.metrics)
                              if (metric == row.metric) return value;
                          return std::nullopt;
                      }));
    }
}

/// Prints the usage, after `error` if there is one (to stderr, status 2),
/// else as asked for by --help (to stdout, status 0).
int usage(const char* error) {
    std::FILE* out = error ? stderr : stdout;
    if (error) std::fprintf(out, "coronet-bench: %s\n", error);
    std::fprintf(out,
                 "usage: coronet-bench [--quick] [--json] [--only NAME]... [--repeat R]\n"
                 "  --quick     small N: a smoke test that every measurement works\n"
                 "  --json      one JSON object per workload instead of the table\n"
                 "  --only      run this workload only (may be repeated):");
    for (const workload& w : workloads()) std::fprintf(out, " %s", w.name);
    std::fprintf(out,
                 "\n  --repeat    runs per measurement, the best is kept (default 3, "
                 "quick 1)\n");
    return error ? 2 : 0;
}

std::string self_path() {
    char buf[4096];
    ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (len <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(len));
}

int run_all(const options& opt) {
    std::string self = self_path();
    if (self.empty()) {
        std::fprintf(stderr, "coronet-bench: cannot find its own executable\n");
        return 2;
    }
    bool all_ok = true;
    if (!opt.json) print_table_header();
    for (const workload& w : workloads()) {
        if (!opt.only.empty() &&
            std::find(opt.only.begin(), opt.only.end(), w.name) == opt.only.end())
            continue;
        workload_results res = measure(self, opt, w);
        all_ok = all_ok && res.all_ok();
        print_results(opt, w, res);
        print_companions(opt, w, res);
    }
    if (!opt.json)
        std::printf(
            "\nratio: coronet/peer for rates, peer/coronet for costs (ns, bytes): > 1 means "
            "coronet is better.\nEach number is the best of %u run(s), each in a process of "
            "its own.\n",
            runs_per_measurement(opt));
    return all_ok ? 0 : 1;
}

}  // namespace
}  // namespace coronet::bench

int main(int argc, char** argv) {
    using namespace coronet::bench;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "--worker")
        return run_worker(args[1], args[2], std::strtoull(args[3].c_str(), nullptr, 10),
                          static_cast<unsigned>(std::strtoul(args[4].c_str(), nullptr, 10)));

    options opt;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--quick") {
            opt.quick = true;
        } else if (a == "--json") {
            opt.json = true;
        } else if (a == "--only" && i + 1 < args.size()) {
            if (!find_workload(args[++i])) return usage(("no workload " + args[i]).c_str());
            opt.only.push_back(args[i]);
        } else if (a == "--repeat" && i + 1 < args.size()) {
            opt.repeat = static_cast<unsigned>(std::strtoul(args[++i].c_str(), nullptr, 10));
            if (opt.repeat == 0) return usage("--repeat needs a count of at least 1");
        } else if (a == "--help" || a == "-h") {
            return usage(nullptr);
        } else {
            return usage(("unknown argument " + a).c_str());
        }
    }
    return run_all(opt);
}
