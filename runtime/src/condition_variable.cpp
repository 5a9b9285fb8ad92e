#include <coronet/runtime/condition_variable.hpp>

#include <mutex>

namespace coronet {

// Lock order: a condition variable's lock, then its waiters' mutex's lock.

bool condition_variable::pass_to_mutex(awaiter* w) noexcept {
    mutex& m = w->m_;
    std::lock_guard guard(m.lock_);
    if (!m.locked_) {
        m.locked_ = true;
        return true;
    }
    m.waiters_.push_back(w);
    return false;
}

void condition_variable::notify_one() noexcept {
    awaiter* handed = nullptr;
    {
        std::lock_guard guard(lock_);
        auto* w = static_cast<awaiter*>(waiters_.pop_front());
        if (!w) return;
        w->queued_ = false;
        if (pass_to_mutex(w)) handed = w;
    }
    if (handed) handed->wake();
}

void condition_variable::notify_all() noexcept {
    detail::waiter* handed = nullptr;
    {
        std::lock_guard guard(lock_);
        detail::waiter** tail = &handed;
        while (auto* w = static_cast<awaiter*>(waiters_.pop_front())) {
            w->queued_ = false;
            if (pass_to_mutex(w)) {
                *tail = w;  // in no list: its links are ours
                tail = &w->next_;
            }
        }
    }
    while (handed) {
        detail::waiter* next = handed->next_;  // read before the waiter may resume
        handed->wake();
        handed = next;
    }
}

bool condition_variable::awaiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &detail::require_current();
    if (me_->has_interrupt()) {
        aborted_ = true;  // throws with the mutex still held
        return false;
    }
    h_ = h;
    me_->set_wait(this);
    {
        std::lock_guard guard(cv_.lock_);
        cv_.waiters_.push_back(this);
        queued_ = true;
    }
    // Queued first, so a notification sent once the mutex is free reaches this
    // waiter. It may even be moved to the mutex's queue and handed the mutex
    // by this very unlock; it resumes only after this function returns.
    m_.unlock();
    return true;
}

void condition_variable::awaiter::await_resume() {
    me_->clear_wait();
    if (aborted_) me_->raise_interrupt();  // the mutex is held again
}

void condition_variable::awaiter::cancel() noexcept {
    bool handed;
    {
        std::lock_guard guard(cv_.lock_);
        // Not queued: notified, on its way to the mutex; it returns normally.
        if (!queued_) return;
        cv_.waiters_.remove(this);
        queued_ = false;
        aborted_ = true;
        // The mutex must be held again before the interrupt is thrown.
        handed = pass_to_mutex(this);
    }
    if (handed) wake();
}

}  // namespace coronet
