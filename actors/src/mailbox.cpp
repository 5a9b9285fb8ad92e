#include <coronet/actors/detail/mailbox.hpp>
#include <coronet/actors/exit_notice.hpp>
#include <coronet/actors/send.hpp>
#include <coronet/runtime/detail/shard_access.hpp>

#include "registry.hpp"

#include <cassert>

namespace coronet::detail {

namespace {

void describe(const std::exception_ptr& e, exit_notice& n) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        n.error_type = demangle(typeid(ex));
        n.error = ex.what();
    } catch (...) {
        n.error_type = "unknown";
    }
}

}  // namespace

mailbox& make_mailbox(control& c) {
    auto* mb = new mailbox(c);
    c.set_attachment(mb);
    return *mb;
}

bool mailbox::reserve() noexcept {
    std::size_t cap = capacity_.load(std::memory_order_relaxed);
    if (cap == 0) {
        count_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    std::size_t n = count_.load(std::memory_order_relaxed);
    do {
        if (n >= cap) return false;
    } while (!count_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
    return true;
}

void mailbox::set_capacity(std::size_t n) noexcept {
    capacity_.store(n, std::memory_order_relaxed);
    set_slot_marks(owner_, n != 0 ? bounded_mailbox_mark : 0);
    released();  // a raised capacity may admit waiting senders
}

bool mailbox::hand_over_to_receiver(message& m) {
    if (!receiver_->matches(m)) return false;
    receive_waiter* r = std::exchange(receiver_, nullptr);
    r->got_ = std::move(m);
    r->received_ = true;
    schedule(r->me_, r->h_);
    return true;
}

void mailbox::push(message&& m) {
    if (hand_over(m)) {
        count_.fetch_sub(1, std::memory_order_relaxed);  // it was reserved
        released();
        return;
    }
    queue_.push_back(std::move(m));
}

bool mailbox::take_queued(receive_waiter& w, message& out) {
    for (std::size_t i = 0; i < queue_.size(); ++i) {
        if (!w.matches(queue_[i])) continue;
        out = std::move(queue_[i]);
        queue_.erase(i);
        count_.fetch_sub(1, std::memory_order_relaxed);
        released();
        return true;
    }
    return false;
}

void mailbox::admit() noexcept {
    while (!space_waiters_.empty()) {
        std::size_t cap = capacity_.load(std::memory_order_relaxed);
        if (cap != 0 && count_.load(std::memory_order_relaxed) >= cap) return;
        auto* w = static_cast<space_waiter*>(space_waiters_.pop_front());
        w->admitted_ = true;
        reserve_unchecked();
        message m = std::move(w->msg_);
        w->wake();
        push(std::move(m));
    }
}

void mailbox::on_exit(control& c) noexcept {
    pid me(&core_of(c), 0, {c.shard(), c.index(), c.generation()});
    if (!names_.empty()) use_service<registry>(core_of(c)).drop_names(me, names_);
    // Senders waiting for room learn that nobody will read.
    while (waiter* w = space_waiters_.pop_front()) w->wake();
    queue_.clear();
    replacement_ = nullptr;  // the functions die on the shard, with the body
    current_ = nullptr;
    if (monitors_.empty()) return;
    exit_notice n;
    n.who = me;
    std::exception_ptr e = c.error();
    if (!e) {
        n.reason = exit_reason::normal;
        n.value = c.copy_result();
    } else if (holds_exception<terminated>(e)) {
        n.reason = exit_reason::terminated;
    } else {
        n.reason = exit_reason::exception;
        describe(e, n);
    }
    for (std::size_t i = 0; i < monitors_.size(); ++i) {
        try {
            send(monitors_[i], i + 1 == monitors_.size() ? std::move(n) : exit_notice(n));
        } catch (...) {  // out of memory: the notice is lost, the shard keeps going
        }
    }
}

// ---------------------------------------------------------------- receive

bool receive_waiter::await_ready() {
    me_ = &require_current();
    mb_ = &mailbox_of(*me_);
    if (me_->has_interrupt() || mb_->swap_pending_) return true;
    return received_ = mb_->take(*this, got_);
}

bool receive_waiter::await_suspend(std::coroutine_handle<> h) {
    assert(!mb_->receiver_ && "two receives at once on one mailbox");
    h_ = h;
    mb_->receiver_ = this;
    me_->set_wait(this);
    return true;
}

message receive_waiter::await_resume() {
    me_->clear_wait();
    if (!received_) {
        if (mb_->swap_pending_ && !me_->has_interrupt()) {
            mb_->swap_pending_ = false;
            throw hot_swap_signal{};
        }
        me_->raise_interrupt();
    }
    return std::move(got_);
}

void receive_waiter::cancel() noexcept {
    if (mb_->receiver_ != this) return;
    mb_->receiver_ = nullptr;
    schedule(me_, h_);
}

// ---------------------------------------------------------------- deliver

bool space_waiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &require_current();
    if (me_->has_interrupt()) return false;
    h_ = h;
    mb_.space_waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

bool space_waiter::await_resume() {
    if (me_) me_->clear_wait();
    if (admitted_) return true;
    if (aborted_ || (me_ && me_->has_interrupt())) me_->raise_interrupt();
    return false;  // the receiver ended
}

void space_waiter::cancel() noexcept {
    if (!mb_.space_waiters_.remove(this)) return;
    aborted_ = true;
    wake();
}

}  // namespace coronet::detail
