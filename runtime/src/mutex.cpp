#include <coronet/runtime/mutex.hpp>

#include <cassert>
#include <mutex>

namespace coronet {

bool mutex::try_lock() noexcept {
    std::lock_guard guard(lock_);
    if (locked_) return false;
    locked_ = true;
    return true;
}

void mutex::unlock() noexcept {
    detail::waiter* next;
    {
        std::lock_guard guard(lock_);
        assert(locked_ && "unlock of a mutex that is not locked");
        next = waiters_.pop_front();
        if (!next) locked_ = false;  // else it stays locked, now on behalf of `next`
    }
    if (next) next->wake();
}

namespace detail {

bool mutex_waiter::await_ready() noexcept {
    return m_.try_lock();
}

bool mutex_waiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &require_current();
    if (me_->has_interrupt()) {
        aborted_ = true;
        return false;
    }
    h_ = h;
    std::lock_guard guard(m_.lock_);
    if (!m_.locked_) {
        m_.locked_ = true;
        return false;
    }
    m_.waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

void mutex_waiter::finish() {
    if (!me_) return;  // taken in await_ready: no suspension point
    me_->clear_wait();
    if (aborted_) me_->raise_interrupt();
}

void mutex_waiter::cancel() noexcept {
    {
        std::lock_guard guard(m_.lock_);
        if (!m_.waiters_.remove(this)) return;  // the mutex is already on its way
        aborted_ = true;
    }
    wake();
}

}  // namespace detail
}  // namespace coronet
