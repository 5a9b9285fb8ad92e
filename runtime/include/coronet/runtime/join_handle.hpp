#pragma once

#include <coronet/runtime/detail/root.hpp>

#include <coroutine>
#include <utility>

namespace coronet {

namespace detail {
/// Terminates coroutine `c` from any thread (posted to its shard).
void terminate(control* c) noexcept;
/// Marks `c` daemon or not; any thread.
void set_daemon(control* c, bool on) noexcept;
/// The handle of `c` goes away; reports an exception nobody will see.
void drop_handle(control* c) noexcept;
/// Marks the result of `c` taken.
void mark_joined(control* c) noexcept;
}  // namespace detail

/// Identifies a spawned coroutine within its runtime: its shard, its slot on
/// that shard and the slot's generation, so that a reused slot never names the
/// coroutine that had it before.
struct coro_id {
    std::uint32_t shard = 0;
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    friend bool operator==(const coro_id&, const coro_id&) = default;
};

/// The owner's handle to a spawned coroutine: join it, terminate it, make it a
/// daemon. Dropping the handle does not stop the coroutine, which the runtime
/// owns; an exception that ended it and that no `join` took is then reported.
///
/// Thread safety: a handle is a move-only value; its member functions may be
/// called from any thread, `join` only from a coroutine of the runtime.
///
///     auto h = rt.spawn(compute, 21);
///     int v = co_await h.join();        // or h.wait() outside coroutines
///     rt.spawn(ticker).set_daemon();    // run() does not wait for it
template <class R>
class join_handle {
public:
    using value_type = R;
    join_handle() noexcept = default;
    explicit join_handle(detail::result_control<R>* c) noexcept : c_(c) {}
    join_handle(join_handle&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    join_handle& operator=(join_handle&& o) noexcept {
        if (this != &o) {
            reset();
            c_ = std::exchange(o.c_, nullptr);
        }
        return *this;
    }
    ~join_handle() { reset(); }

    bool valid() const noexcept { return c_ != nullptr; }
    /// True once the coroutine has ended (any thread; a snapshot).
    bool done() const noexcept { return c_->is_done(); }
    coro_id id() const noexcept { return {c_->shard(), c_->index(), c_->generation()}; }

    /// Waits for the coroutine to end; its value, or the exception that ended
    /// it (`coronet::terminated` if it was terminated).
    ///
    /// Cancellation: terminating the joiner stops the wait (the joiner gets
    /// `terminated`), not the joined coroutine. Call it at most once.
    [[nodiscard]] auto join() {
        struct awaiter final : detail::wait_node {
            detail::result_control<R>* c_;
            detail::join_waiter w_{nullptr, nullptr};
            bool aborted_ = false;

            explicit awaiter(detail::result_control<R>* c) : c_(c) {}
            bool await_ready() const noexcept { return c_->is_done(); }
            bool await_suspend(std::coroutine_handle<> h) {
                w_.ctl = &detail::require_current();
                if (w_.ctl->has_interrupt()) return false;
                w_.h = h;
                if (!c_->add_joiner(&w_)) return false;
                w_.ctl->set_wait(this);
                return true;
            }
            void cancel() noexcept override {
                if (c_->remove_joiner()) {
                    aborted_ = true;
                    detail::schedule(w_.ctl, w_.h);
                }
            }
            R await_resume() {
                if (w_.ctl) {
                    w_.ctl->clear_wait();
                    if (aborted_ || !c_->is_done()) w_.ctl->raise_interrupt();
                }
                detail::mark_joined(c_);
                return c_->take();
            }
        };
        return awaiter{c_};
    }

    /// Blocks this thread until the coroutine ends and returns what `join`
    /// would. Only from a thread that is not a shard of the runtime.
    R wait() {
        c_->wait_blocking();
        detail::mark_joined(c_);
        return c_->take();
    }

    /// Terminates the coroutine (any thread): `coronet::terminated` is thrown at
    /// its suspension point, what it awaits is cancelled, its destructors run.
    void terminate() const noexcept { detail::terminate(c_); }

    /// A daemon is not waited for by `runtime::run`.
    join_handle& set_daemon(bool on = true) & noexcept {
        detail::set_daemon(c_, on);
        return *this;
    }
    join_handle&& set_daemon(bool on = true) && noexcept {
        detail::set_daemon(c_, on);
        return std::move(*this);
    }

    /// Gives up the handle without reporting; an exception that ends the
    /// coroutine is then reported when it ends.
    void detach() noexcept { reset(); }

    /// The control block, for the modules built on the runtime.
    detail::control* control() const noexcept { return c_; }

private:
    void reset() noexcept {
        if (c_) {
            detail::drop_handle(c_);
            c_->release();
            c_ = nullptr;
        }
    }

    detail::result_control<R>* c_ = nullptr;
};

}  // namespace coronet
