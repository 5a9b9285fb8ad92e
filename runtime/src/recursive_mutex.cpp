#include <coronet/runtime/recursive_mutex.hpp>

#include <cassert>
#include <mutex>

namespace coronet {

bool recursive_mutex::try_lock() {
    return try_lock_as(&detail::require_current());
}

bool recursive_mutex::try_lock_as(detail::control* me) noexcept {
    std::lock_guard guard(lock_);
    if (owner_ == me) {
        ++depth_;
        return true;
    }
    if (owner_) return false;
    owner_ = me;
    depth_ = 1;
    return true;
}

void recursive_mutex::unlock() noexcept {
    detail::waiter* next;
    {
        std::lock_guard guard(lock_);
        assert(owner_ && owner_ == detail::current() &&
               "unlock of a recursive_mutex by a coroutine that does not own it");
        if (--depth_ > 0) return;
        next = waiters_.pop_front();
        owner_ = next ? next->me_ : nullptr;
        depth_ = next ? 1 : 0;
    }
    if (next) next->wake();
}

namespace detail {

bool recursive_mutex_waiter::await_ready() {
    return m_.try_lock();
}

bool recursive_mutex_waiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &require_current();
    if (me_->has_interrupt()) {
        aborted_ = true;
        return false;
    }
    h_ = h;
    std::lock_guard guard(m_.lock_);
    if (!m_.owner_) {  // released since await_ready
        m_.owner_ = me_;
        m_.depth_ = 1;
        return false;
    }
    m_.waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

void recursive_mutex_waiter::finish() {
    if (!me_) return;  // taken in await_ready: no suspension point
    me_->clear_wait();
    if (aborted_) me_->raise_interrupt();
}

void recursive_mutex_waiter::cancel() noexcept {
    {
        std::lock_guard guard(m_.lock_);
        if (!m_.waiters_.remove(this)) return;  // the mutex is already on its way
        aborted_ = true;
    }
    wake();
}

}  // namespace detail
}  // namespace coronet
