#include "coronet_options.hpp"
#include "measure.hpp"
#include "workloads.hpp"

#include <coronet/runtime/event.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/sleep.hpp>
#include <coronet/runtime/submit_to.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/yield.hpp>

#include <chrono>
#include <cstdint>

namespace coronet::bench {
namespace {

// Every counter below is touched by coroutines of one shard only.

// ---------------------------------------------------------------- spawn

task<void> trivial(std::uint64_t* ended) {
    ++*ended;
    co_return;
}

task<void> spawn_all(std::uint64_t n, std::uint64_t* ended) {
    for (std::uint64_t i = 0; i < n; ++i) coronet::spawn(trivial, ended).detach();
    co_return;
}

// ---------------------------------------------------------------- parked memory

struct parking {
    event ready;
    std::uint64_t parked = 0;
    std::uint64_t woken = 0;
    memory_status before;
    memory_status after;
};

task<void> park(parking* p) {
    ++p->parked;
    co_await p->ready.wait();
    ++p->woken;
}

// Spawns in batches that run (and park) before the next batch, so the ready
// queue stays short: what grows is the parked coroutines alone.
task<void> park_all(std::uint64_t n, parking* p) {
    p->before = read_memory_status();
    for (std::uint64_t i = 0; i < n; ++i) {
        coronet::spawn(park, p).detach();
        if (i % 1024 == 1023) co_await coronet::yield();
    }
    while (p->parked < n) co_await coronet::yield();
    p->after = read_memory_status();
    p->ready.set();
}

// ---------------------------------------------------------------- submit_to

// On shard 0: `n` sequential round trips to shard 1.
task<void> round_trips(std::uint64_t n, std::uint64_t* sum) {
    for (std::uint64_t i = 0; i < n; ++i)
        *sum += co_await coronet::submit_to(1, [i] { return i & 1; });
}

// ---------------------------------------------------------------- timer storm

task<void> sleeper(std::chrono::microseconds delay, std::uint64_t* ended) {
    co_await coronet::sleep(delay);
    ++*ended;
}

task<void> sleep_all(std::uint64_t n, std::uint64_t* ended) {
    xorshift rng;
    for (std::uint64_t i = 0; i < n; ++i)
        coronet::spawn(sleeper, timer_storm_delay(rng), ended).detach();
    co_return;
}

}  // namespace

double coronet_spawn(std::uint64_t n) {
    runtime rt(with_shards(1));
    std::uint64_t ended = 0;
    auto start = clock::now();
    rt.spawn_on(0, spawn_all, n, &ended).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("coroutines ended", ended, n);
    return static_cast<double>(n) / s;
}

double coronet_parked_memory(std::uint64_t n) {
    runtime rt(with_shards(1));
    parking p;
    rt.spawn_on(0, park_all, n, &p).detach();
    rt.run();
    expect_count("coroutines woken", p.woken, n);
    return peak_growth_per_item(p.before, p.after, n);
}

double coronet_submit_to(std::uint64_t n) {
    runtime rt(with_shards(2));
    std::uint64_t sum = 0;
    auto start = clock::now();
    rt.spawn_on(0, round_trips, n, &sum).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("odd round trips", sum, n / 2);
    return static_cast<double>(n) / s;
}

double coronet_timer_storm(std::uint64_t n) {
    runtime rt(with_shards(1));
    std::uint64_t ended = 0;
    auto start = clock::now();
    rt.spawn_on(0, sleep_all, n, &ended).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("sleepers ended", ended, n);
    return s * 1e9 / static_cast<double>(n);
}

}  // namespace coronet::bench
