#include "actors_params.hpp"
#include "measure.hpp"
#include "workloads.hpp"

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <thread>
#include <utility>

// The floors of the actor workloads. one_way_mailbox: the least a message
// between two C++20 coroutines costs. One thread, a FIFO of ready coroutines, and a channel
// that is a queue plus the one coroutine waiting on it: no type erasure, no
// pids, no bookkeeping.
namespace coronet::bench {
namespace {

/// The ready coroutines of the one thread.
class scheduler {
public:
    void ready(std::coroutine_handle<> h) { ready_.push_back(h); }
    void run() {
        while (!ready_.empty()) {
            std::coroutine_handle<> h = ready_.front();
            ready_.pop_front();
            h.resume();
        }
    }

private:
    std::deque<std::coroutine_handle<>> ready_;
};

/// A queue of `T` with at most one coroutine waiting to receive.
template <class T>
class channel {
public:
    explicit channel(scheduler& s) : sched_(s) {}

    void send(T v) {
        queue_.push_back(std::move(v));
        if (waiting_) sched_.ready(std::exchange(waiting_, nullptr));
    }

    struct receiver {
        channel& ch;
        bool await_ready() const noexcept { return !ch.queue_.empty(); }
        void await_suspend(std::coroutine_handle<> h) noexcept { ch.waiting_ = h; }
        T await_resume() {
            T v = std::move(ch.queue_.front());
            ch.queue_.pop_front();
            return v;
        }
    };
    receiver receive() noexcept { return {*this}; }

private:
    scheduler& sched_;
    std::deque<T> queue_;
    std::coroutine_handle<> waiting_;
};

/// Starts when the scheduler first runs it; destroys itself at the end.
struct process {
    struct promise_type {
        process get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
};

struct ack {};

process consume(channel<long>& in, channel<ack>& acks, std::uint64_t n, std::uint64_t* sum) {
    for (std::uint64_t i = 1; i <= n; ++i) {
        *sum += static_cast<std::uint64_t>(co_await in.receive());
        if (i % one_way_window == 0 || i == n) acks.send(ack{});
    }
}

process produce(channel<long>& out, channel<ack>& acks, std::uint64_t n) {
    for (std::uint64_t i = 1; i <= n; ++i) {
        out.send(static_cast<long>(i));
        if (i % one_way_window == 0 || i == n) co_await acks.receive();
    }
}

}  // namespace

double floor_one_way(std::uint64_t n) {
    std::uint64_t sum = 0;
    auto start = clock::now();
    scheduler s;
    channel<long> data(s);
    channel<ack> acks(s);
    s.ready(produce(data, acks, n).h);
    s.ready(consume(data, acks, n, &sum).h);
    s.run();
    double secs = seconds_since(start);
    expect_count("sum of the longs received", sum, n * (n + 1) / 2);
    return secs * 1e9 / static_cast<double>(n);
}

/// The floor of ping_pong_cross_shard: two threads handing one cache line
/// back and forth, each hand-over a message. What a message between two cores
/// costs on this machine before any queue, wake-up or payload.
double floor_cross_thread(std::uint64_t n) {
    alignas(64) std::atomic<std::uint64_t> turn{0};
    auto hand_over = [&turn, n](std::uint64_t first) {
        for (std::uint64_t i = first; i < n; i += 2) {
            while (turn.load(std::memory_order_acquire) != i) __builtin_ia32_pause();
            turn.store(i + 1, std::memory_order_release);
        }
    };
    auto start = clock::now();
    std::thread other(hand_over, 1);
    hand_over(0);
    other.join();
    double secs = seconds_since(start);
    expect_count("hand-overs", turn.load(), n);
    return static_cast<double>(n) / secs;
}

}  // namespace coronet::bench
