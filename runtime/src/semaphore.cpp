#include <coronet/runtime/semaphore.hpp>

#include <mutex>

namespace coronet {

bool semaphore::try_acquire() noexcept {
    std::lock_guard guard(lock_);
    if (permits_ == 0) return false;
    --permits_;
    return true;
}

void semaphore::release(std::size_t n) noexcept {
    detail::waiter* woken = nullptr;
    {
        std::lock_guard guard(lock_);
        detail::waiter** tail = &woken;
        for (; n > 0 && !waiters_.empty(); --n) {
            detail::waiter* w = waiters_.pop_front();
            *tail = w;  // unlinked: its links are ours now
            tail = &w->next_;
        }
        permits_ += n;
    }
    while (woken) {
        detail::waiter* next = woken->next_;  // read before the waiter may resume
        woken->wake();
        woken = next;
    }
}

std::size_t semaphore::available() const noexcept {
    std::lock_guard guard(lock_);
    return permits_;
}

bool semaphore::awaiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &detail::require_current();
    if (me_->has_interrupt()) {
        aborted_ = true;
        return false;
    }
    h_ = h;
    std::lock_guard guard(s_.lock_);
    if (s_.permits_ > 0) {  // released since await_ready
        --s_.permits_;
        return false;
    }
    s_.waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

void semaphore::awaiter::await_resume() {
    if (!me_) return;  // taken in await_ready: no suspension point
    me_->clear_wait();
    if (aborted_) me_->raise_interrupt();
}

void semaphore::awaiter::cancel() noexcept {
    {
        std::lock_guard guard(s_.lock_);
        if (!s_.waiters_.remove(this)) return;  // a permit is already on its way
        aborted_ = true;
    }
    wake();
}

}  // namespace coronet
