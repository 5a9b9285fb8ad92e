#include <coronet/runtime/event.hpp>

#include <mutex>

namespace coronet {

void event::set() noexcept {
    detail::waiter* all;
    {
        std::lock_guard guard(lock_);
        set_ = true;
        all = waiters_.take_all();
    }
    while (all) {
        detail::waiter* next = all->next_;  // read before the waiter may resume
        all->wake();
        all = next;
    }
}

void event::clear() noexcept {
    std::lock_guard guard(lock_);
    set_ = false;
}

bool event::is_set() const noexcept {
    std::lock_guard guard(lock_);
    return set_;
}

bool event::awaiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &detail::require_current();
    if (me_->has_interrupt()) return false;
    h_ = h;
    std::lock_guard guard(e_.lock_);
    if (e_.set_) return false;
    e_.waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

void event::awaiter::await_resume() {
    if (!me_) return;  // was set already: no suspension point
    me_->clear_wait();
    if (aborted_ || me_->has_interrupt()) me_->raise_interrupt();
}

void event::awaiter::cancel() noexcept {
    {
        std::lock_guard guard(e_.lock_);
        if (!e_.waiters_.remove(this)) return;
        aborted_ = true;
    }
    wake();
}

}  // namespace coronet
