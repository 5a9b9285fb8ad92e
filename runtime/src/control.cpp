#include "core.hpp"
#include "log.hpp"

#include <coronet/runtime/join_handle.hpp>

#include <mutex>

namespace coronet::detail {
namespace {

void report_unhandled(const control& c) {
    log().error("coroutine {} ended with an exception nobody joined: {}", type_name(c.function()),
                describe(c.error()));
}

}  // namespace

void control::raise_interrupt() {
    if (terminating_) throw terminated();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    assert(fired_scope_ != 0);
    throw timeout_signal{std::exchange(fired_scope_, 0)};
}

void control::request_terminate() noexcept {
    if (is_done() || terminating_) return;
    terminating_ = true;
    if (wait_) wait_->cancel();
}

void control::request_throw(std::exception_ptr e) noexcept {
    if (is_done()) return;
    error_ = std::move(e);
    if (wait_) wait_->cancel();
}

void control::fire_timeout(std::uint32_t id) noexcept {
    if (is_done()) return;
    for (timeout_scope_link* s = scopes_; s; s = s->outer) {
        if (s->id != id) continue;
        // The outermost deadline wins when several have passed.
        if (fired_scope_ == 0 || id < fired_scope_) fired_scope_ = id;
        if (wait_) wait_->cancel();
        return;
    }
}

// The joiner is published by setting `joining` and taken by setting `done`,
// both by read-modify-writes of the flags: whichever comes first, the other
// sees it.
bool control::add_joiner(join_waiter* w) noexcept {
    std::uint32_t old = flags_.load(std::memory_order_relaxed);
    assert(!(old & joining) && "a coroutine can be joined by one coroutine at a time");
    joiner_ = w;
    while (!(old & done)) {
        if (flags_.compare_exchange_weak(old, old | joining, std::memory_order_acq_rel,
                                         std::memory_order_relaxed))
            return true;
    }
    return false;
}

bool control::remove_joiner() noexcept {
    std::uint32_t old = flags_.load(std::memory_order_relaxed);
    while ((old & joining) && !(old & done)) {
        if (flags_.compare_exchange_weak(old, old & ~std::uint32_t{joining},
                                         std::memory_order_acq_rel, std::memory_order_relaxed))
            return true;
    }
    return false;  // never joined, or the end is waking it
}

void control::wait_blocking() const noexcept {
    assert(!current_shard && "blocking wait on a shard thread");
    for (std::uint32_t f = flags_.load(std::memory_order_acquire); !(f & done);
         f = flags_.load(std::memory_order_acquire))
        flags_.wait(f, std::memory_order_acquire);
}

std::coroutine_handle<> control::start() noexcept {
    if (body_ && !has_interrupt()) return body_;
    if (body_) {
        // Terminated (or thrown into) before its first turn: none of it runs.
        try {
            raise_interrupt();
        } catch (...) {
            error_ = std::current_exception();
        }
        body_.destroy();
        body_ = nullptr;
    }
    release_call();
    complete();
    return nullptr;
}

std::coroutine_handle<> control::end_body() noexcept {
    collect();
    body_.destroy();
    body_ = nullptr;
    if (error_ && holds_exception<hot_swap_signal>(error_)) {
        attachment* a = get_attachment();
        if (void* fn = a ? a->swap_in() : nullptr) {
            error_ = nullptr;
            try {
                return replace(fn);
            } catch (...) {
                error_ = std::current_exception();
            }
        }
    }
    release_call();
    complete();
    return nullptr;
}

void control::complete() noexcept {
    detail::shard& s = *home_;
    if (attachment* a = get_attachment()) a->on_exit(*this);
    s.slots().release(index_);
    bool unhandled_error = error_ && !holds_exception<terminated>(error_);

    std::uint32_t old = flags_.fetch_or(done | (unhandled_error ? std::uint32_t{failed} : 0u),
                                        std::memory_order_acq_rel);
    flags_.notify_all();
    if (old & joining) schedule(joiner_->ctl, joiner_->h);  // the joiner waits until then

    bool unreported = unhandled_error && !(old & handle);
    if (unreported) report_unhandled(*this);
    s.completed.add();
    s.core().on_complete(old, unreported);
    release();
}

void terminate(control* c) noexcept {
    shard* home = c->home_;
    if (current_shard == home) {
        c->request_terminate();
        return;
    }
    home->post([c = control_ref(c)] { c->request_terminate(); });
}

// A coroutine counted on its shard stops being counted there only on that
// shard: made a daemon from another thread, it stays counted (run() waits a
// little longer) until its shard has taken it out.
void set_daemon(control* c, bool on) noexcept {
    shard* home = c->home_;
    bool here = current_shard == home;
    std::uint32_t old = c->flags_.load(std::memory_order_relaxed);
    std::uint32_t next;
    do {
        if ((old & control::done) || bool(old & control::daemon) == on) return;
        next = old ^ control::daemon;
        if (on) {
            if (old & control::live_global) next &= ~std::uint32_t{control::live_global};
            if ((old & control::live_local) && here) next &= ~std::uint32_t{control::live_local};
        } else if (!(old & (control::live_local | control::live_global))) {
            next |= here ? std::uint32_t{control::live_local} : std::uint32_t{control::live_global};
        }
    } while (!c->flags_.compare_exchange_weak(old, next, std::memory_order_acq_rel,
                                              std::memory_order_relaxed));
    auto& core = home->core();
    if ((old & control::live_global) && !(next & control::live_global)) core.live_down();
    if (!(old & control::live_global) && (next & control::live_global)) core.live_up();
    if ((old & control::live_local) && !(next & control::live_local)) home->count_down(false, true);
    if (!(old & control::live_local) && (next & control::live_local)) home->count_up(false, true);
    if (on && (next & control::live_local)) {
        // Counted on its shard, which must take it out.
        home->post([home, c = control_ref(c)] {
            std::uint32_t f = c->flags_.load(std::memory_order_relaxed);
            while ((f & control::daemon) && (f & control::live_local) && !(f & control::done)) {
                if (c->flags_.compare_exchange_weak(f, f & ~std::uint32_t{control::live_local},
                                                    std::memory_order_acq_rel,
                                                    std::memory_order_relaxed)) {
                    home->count_down(false, true);
                    break;
                }
            }
        });
    }
}

void drop_handle(control* c) noexcept {
    std::uint32_t old = c->flags_.fetch_and(~control::handle, std::memory_order_acq_rel);
    if ((old & control::failed) && !(old & control::joined)) {
        report_unhandled(*c);
        c->home_->core().note_unhandled();
    }
}

void mark_joined(control* c) noexcept {
    c->flags_.fetch_or(control::joined, std::memory_order_acq_rel);
}

}  // namespace coronet::detail
