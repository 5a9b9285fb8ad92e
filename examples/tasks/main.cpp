// tasks: many coroutines sleep for random times while a monitor coroutine
// reports progress and, at the end, how late the sleepers woke up. A sleeping
// coroutine holds a small frame and a timer, not a thread.
//
//     tasks [count [max_ms]]     default: 10000 coroutines sleeping 10..1000 ms

#include <coronet/coronet.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

/// What the sleepers report to the monitor. Sleepers run on every shard:
/// each writes only its own slot of `late_us`, and counts itself in `done`.
struct progress {
    explicit progress(int n) : total(n), late_us(static_cast<std::size_t>(n)) {}

    const int total;
    std::vector<std::int64_t> late_us;  // how long after its deadline each one woke
    std::atomic<int> done{0};
    coronet::event all_done;  // set by the last sleeper
};

coronet::task<void> sleeper(progress& p, int id, std::chrono::milliseconds nap) {
    auto deadline = steady_clock::now() + nap;
    co_await coronet::sleep(nap);
    auto late = steady_clock::now() - deadline;
    p.late_us[static_cast<std::size_t>(id)] =
        std::chrono::duration_cast<std::chrono::microseconds>(late).count();
    if (p.done.fetch_add(1, std::memory_order_acq_rel) + 1 == p.total) p.all_done.set();
}

double seconds_since(steady_clock::time_point t) {
    return std::chrono::duration<double>(steady_clock::now() - t).count();
}

coronet::task<void> monitor(progress& p) {
    auto start = steady_clock::now();
    // Wakes every 100 ms, or as soon as the last sleeper is done.
    while (!co_await p.all_done.wait(100ms)) {
        int done = p.done.load(std::memory_order_relaxed);
        std::printf("%6.2f s  %6d of %d coroutines done\n", seconds_since(start), done, p.total);
    }
    double took = seconds_since(start);

    std::vector<std::int64_t> late = p.late_us;
    std::sort(late.begin(), late.end());
    auto at = [&](double q) {
        return static_cast<double>(late[static_cast<std::size_t>(q * double(late.size() - 1))]) /
               1000.0;
    };
    std::printf("%6.2f s  all %d coroutines done\n", took, p.total);
    std::printf("woke up late by: median %.2f ms, p99 %.2f ms, max %.2f ms\n", at(0.5), at(0.99),
                at(1.0));
}

/// A positive int from `s`, or 0 if it is not one.
int positive(const char* s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s, s + std::strlen(s), v);
    return ec == std::errc() && *end == '\0' && v > 0 ? v : 0;
}

}  // namespace

int main(int argc, char** argv) {
    int count = argc > 1 ? positive(argv[1]) : 10'000;
    int max_ms = argc > 2 ? positive(argv[2]) : 1'000;
    if (argc > 3 || count == 0 || max_ms == 0) {
        std::fprintf(stderr, "usage: %s [count [max_ms]]\n", argv[0]);
        return 2;
    }
    int min_ms = std::min(10, max_ms);

    coronet::runtime rt;  // one shard per core
    progress p(count);
    std::printf("%d coroutines sleeping %d..%d ms each, on %u shards\n", count, min_ms, max_ms,
                rt.shard_count());

    rt.spawn(monitor, std::ref(p));
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> nap(min_ms, max_ms);
    for (int i = 0; i < count; ++i)
        rt.spawn(sleeper, std::ref(p), i, std::chrono::milliseconds(nap(rng)));

    int rc = rt.run();  // until the monitor and every sleeper have ended
    coronet::runtime_stats st = rt.stats();
    std::printf(
        "runtime: %llu coroutines spawned, %llu completed, %llu resumes, %llu stalls\n",
        static_cast<unsigned long long>(st.spawned), static_cast<unsigned long long>(st.completed),
        static_cast<unsigned long long>(st.resumes), static_cast<unsigned long long>(st.stalls));
    return rc;
}
