#pragma once

#include <coronet/runtime/detail/shard_access.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace coronet {

namespace detail {

/// A call queued for or running on the blocking pool; see blocking_pool.
class blocking_call {
public:
    virtual void run() noexcept = 0;
    blocking_call* next_ = nullptr;
    blocking_call* prev_ = nullptr;
    std::uint64_t seq_ = 0;  // the pool's: the order the calls came in
    bool queued_ = false;
    /// The call computes rather than waits: the pool bounds how many such
    /// calls run at once (runtime_options::cpu_bound_threads).
    bool cpu_bound_ = false;

protected:
    ~blocking_call() = default;
};

/// Queues `call` on the blocking pool of the calling shard's runtime.
void submit_blocking(blocking_call* call);
/// Takes back a call no pool thread has started; false if one has.
bool withdraw_blocking(blocking_call* call) noexcept;

/// The default of spawn_blocking's `interrupt`: a running call is waited for.
struct no_interrupt {
    void operator()() const noexcept {}
};

template <class Fn, class Interrupt = no_interrupt>
class blocking_awaiter final : public blocking_call, public wait_node {
public:
    using result_type = std::invoke_result_t<Fn&>;

    explicit blocking_awaiter(Fn fn, Interrupt interrupt = {})
        : fn_(std::move(fn)), interrupt_(std::move(interrupt)) {}

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &require_current();
        if (me_->has_interrupt()) return false;
        h_ = h;
        submit_blocking(this);
        me_->set_wait(this);
        return true;
    }
    result_type await_resume() {
        me_->clear_wait();
        // Terminated (or timed out) while the call ran: its result is dropped.
        if (aborted_ || !ran_ || me_->has_interrupt()) me_->raise_interrupt();
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<result_type>) return std::move(*value_);
    }

    void run() noexcept override {  // on a pool thread
        try {
            if constexpr (std::is_void_v<result_type>)
                std::invoke(fn_);
            else
                value_.emplace(std::invoke(fn_));
        } catch (...) {
            error_ = std::current_exception();
        }
        ran_ = true;
        schedule(me_, h_);  // the frame may be gone once this returns
    }

    void cancel() noexcept override {
        if (withdraw_blocking(this)) {
            aborted_ = true;
            schedule(me_, h_);
        } else {
            interrupt_();  // the call runs, or has just returned
        }
    }

private:
    using stored = std::conditional_t<std::is_void_v<result_type>, char, result_type>;
    Fn fn_;
    Interrupt interrupt_;
    control* me_ = nullptr;
    std::coroutine_handle<> h_;
    std::optional<stored> value_;
    std::exception_ptr error_;
    bool ran_ = false;
    bool aborted_ = false;
};

}  // namespace detail

/// Runs `fn()`, which may block, on the runtime's blocking pool and resumes the
/// caller on its own shard with the result (or the exception `fn` threw).
///
/// The pool is bounded (`runtime_options::blocking_threads`); calls beyond it
/// queue in order. Cancellation: terminating the caller withdraws a call that
/// has not started; one already running is waited for, and its result dropped.
/// Call it from a coroutine of a runtime.
///
///     auto text = co_await coronet::spawn_blocking([&] { return slow_lookup(key); });
template <class Fn>
[[nodiscard]] auto spawn_blocking(Fn fn) {
    return detail::blocking_awaiter<Fn>(std::move(fn));
}

/// As spawn_blocking(fn), but terminating the caller while `fn` runs calls
/// `interrupt()` on the caller's shard, which should make `fn` return soon
/// (`SQLCancel` on the statement `fn` executes, say). `interrupt` must be
/// noexcept and harmless when `fn` has just returned.
///
///     co_await coronet::spawn_blocking([&] { return SQLExecute(stmt); },
///                                      [stmt]() noexcept { SQLCancel(stmt); });
template <class Fn, class Interrupt>
[[nodiscard]] auto spawn_blocking(Fn fn, Interrupt interrupt) {
    return detail::blocking_awaiter<Fn, Interrupt>(std::move(fn), std::move(interrupt));
}

}  // namespace coronet
