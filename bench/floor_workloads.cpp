#include "measure.hpp"
#include "workloads.hpp"

#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>

// The floor: the least a C++20 coroutine costs. A hand-written coroutine type
// with no scheduler, no bookkeeping and the default allocator.
namespace coronet::bench {
namespace {

class bare_task {
public:
    struct promise_type {
        bare_task get_return_object() noexcept {
            return bare_task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    explicit bare_task(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
    bare_task(bare_task&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    bare_task& operator=(bare_task&&) = delete;
    ~bare_task() {
        if (h_) h_.destroy();
    }

    void resume() const { h_.resume(); }

private:
    std::coroutine_handle<promise_type> h_;
};

/// The least possible event: suspended frames linked through their awaiters.
class bare_event {
public:
    struct awaiter {
        bare_event& e;
        std::coroutine_handle<> h;
        awaiter* next = nullptr;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> caller) noexcept {
            h = caller;
            next = e.head_;
            e.head_ = this;
        }
        void await_resume() const noexcept {}
    };
    awaiter wait() noexcept { return awaiter{*this, {}}; }

    void set() noexcept {
        for (awaiter* a = std::exchange(head_, nullptr); a;) {
            awaiter* next = a->next;  // read before the frame goes on
            a->h.resume();
            a = next;
        }
    }

private:
    awaiter* head_ = nullptr;
};

// Not inlined, so the frame is really allocated and the call really made.
[[gnu::noinline]] bare_task trivial(std::uint64_t* ended) {
    ++*ended;
    co_return;
}

// Destroys itself at the end, as nobody holds it once parked.
struct detached {
    struct promise_type {
        detached get_return_object() const noexcept { return {}; }
        std::suspend_never initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        void unhandled_exception() const noexcept { std::terminate(); }
    };
};

[[gnu::noinline]] detached park(bare_event* ready, std::uint64_t* woken) {
    co_await ready->wait();
    ++*woken;
}

}  // namespace

double frame_spawn(std::uint64_t n) {
    std::uint64_t ended = 0;
    auto start = clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        bare_task t = trivial(&ended);
        t.resume();
    }
    double s = seconds_since(start);
    expect_count("frames completed", ended, n);
    return static_cast<double>(n) / s;
}

double frame_parked_memory(std::uint64_t n) {
    bare_event ready;
    std::uint64_t woken = 0;
    memory_status before = read_memory_status();
    for (std::uint64_t i = 0; i < n; ++i) park(&ready, &woken);
    memory_status after = read_memory_status();
    ready.set();
    expect_count("frames woken", woken, n);
    return peak_growth_per_item(before, after, n);
}

}  // namespace coronet::bench
