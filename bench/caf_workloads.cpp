#include "measure.hpp"
#include "workloads.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

// The CAF 0.17 side of every workload, written as a CAF user would: event-based
// actors, spawned by an actor where coronet spawns from a coroutine.
namespace coronet::bench {
namespace {

/// CAF's scheduler with `threads` worker threads, as coronet's shards.
class caf_config : public caf::actor_system_config {
public:
    explicit caf_config(unsigned threads) {
        set("scheduler.max-threads", static_cast<std::int64_t>(threads));
    }
};

using counter = std::atomic<std::uint64_t>;

void count(counter* c) {
    c->fetch_add(1, std::memory_order_relaxed);
}

// ---------------------------------------------------------------- spawn

caf::behavior one_message(caf::event_based_actor* self, counter* ended) {
    return {[=](int) {
        count(ended);
        self->quit();
    }};
}

void spawn_all(caf::event_based_actor* self, std::uint64_t n, counter* ended) {
    for (std::uint64_t i = 0; i < n; ++i) self->send(self->spawn(one_message, ended), 1);
}

// ---------------------------------------------------------------- parked memory

caf::behavior idle(caf::event_based_actor* self, counter* started, counter* woken) {
    count(started);
    return {[=](int) {
        count(woken);
        self->quit();
    }};
}

// ---------------------------------------------------------------- request/response

caf::behavior responder() {
    return {[](std::uint64_t i) { return i & 1; }};
}

// One request at a time: the next goes out when the response to this one came.
void request_next(caf::event_based_actor* self, const caf::actor& peer, std::uint64_t i,
                  std::uint64_t n, std::uint64_t* sum) {
    self->request(peer, caf::infinite, i).then([=](std::uint64_t r) {
        *sum += r;
        if (i + 1 < n) {
            request_next(self, peer, i + 1, n, sum);
        } else {
            self->send_exit(peer, caf::exit_reason::user_shutdown);
            self->quit();
        }
    });
}

void requester(caf::event_based_actor* self, caf::actor peer, std::uint64_t n, std::uint64_t* sum) {
    request_next(self, peer, 0, n, sum);
}

// ---------------------------------------------------------------- timer storm

caf::behavior delayed(caf::event_based_actor* self, std::chrono::microseconds delay,
                      counter* ended) {
    self->delayed_send(self, delay, 1);
    return {[=](int) {
        count(ended);
        self->quit();
    }};
}

void delay_all(caf::event_based_actor* self, std::uint64_t n, counter* ended) {
    xorshift rng;
    for (std::uint64_t i = 0; i < n; ++i) self->spawn(delayed, timer_storm_delay(rng), ended);
}

}  // namespace

double caf_spawn(std::uint64_t n) {
    caf_config cfg(1);
    caf::actor_system sys{cfg};
    counter ended{0};
    auto start = clock::now();
    sys.spawn(spawn_all, n, &ended);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("actors ended", ended.load(), n);
    return static_cast<double>(n) / s;
}

double caf_parked_memory(std::uint64_t n) {
    caf_config cfg(1);
    caf::actor_system sys{cfg};
    counter started{0};
    counter woken{0};
    std::vector<caf::actor> actors(n);  // written now, so it is not counted below
    memory_status before = read_memory_status();
    for (auto& a : actors) a = sys.spawn(idle, &started, &woken);
    while (started.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    memory_status after = read_memory_status();
    for (auto& a : actors) caf::anon_send(a, 1);
    actors.clear();
    sys.await_all_actors_done();
    expect_count("actors woken", woken.load(), n);
    return peak_growth_per_item(before, after, n);
}

double caf_request_response(std::uint64_t n) {
    caf_config cfg(2);
    caf::actor_system sys{cfg};
    std::uint64_t sum = 0;
    auto start = clock::now();
    sys.spawn(requester, sys.spawn(responder), n, &sum);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("odd round trips", sum, n / 2);
    return static_cast<double>(n) / s;
}

double caf_request_response_detached(std::uint64_t n) {
    caf_config cfg(1);  // the requester's thread; the responder has its own
    caf::actor_system sys{cfg};
    std::uint64_t sum = 0;
    auto start = clock::now();
    sys.spawn(requester, sys.spawn<caf::detached>(responder), n, &sum);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("odd round trips", sum, n / 2);
    return static_cast<double>(n) / s;
}

double caf_timer_storm(std::uint64_t n) {
    caf_config cfg(1);
    caf::actor_system sys{cfg};
    counter ended{0};
    auto start = clock::now();
    sys.spawn(delay_all, n, &ended);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("delayed messages received", ended.load(), n);
    return s * 1e9 / static_cast<double>(n);
}

}  // namespace coronet::bench
