#pragma once

#include <coronet/runtime/detail/control.hpp>

#include <coroutine>

namespace coronet::detail {

/// A coroutine suspended in the queue of a synchronisation primitive. It lives
/// in the waiting coroutine's frame. The primitive's lock guards the links and
/// `linked_`; `me_`, `h_` are set before it is linked and read by whoever
/// unlinks it, which then owns its wake-up.
class waiter : public wait_node {
public:
    control* me_ = nullptr;
    std::coroutine_handle<> h_;
    waiter* next_ = nullptr;
    waiter* prev_ = nullptr;
    bool linked_ = false;
    bool aborted_ = false;  // unlinked by cancel(): resume with the interrupt

    /// Wakes the coroutine; call only after unlinking it (any thread).
    void wake() noexcept { schedule(me_, h_); }

protected:
    ~waiter() = default;
};

/// An intrusive FIFO of waiters; not synchronised (the primitive locks it).
class waiter_list {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    waiter* front() const noexcept { return head_; }

    void push_back(waiter* w) noexcept {
        w->next_ = nullptr;
        w->prev_ = tail_;
        if (tail_)
            tail_->next_ = w;
        else
            head_ = w;
        tail_ = w;
        w->linked_ = true;
    }

    waiter* pop_front() noexcept {
        waiter* w = head_;
        if (w) remove(w);
        return w;
    }

    /// Unlinks `w`; false if it was not linked.
    bool remove(waiter* w) noexcept {
        if (!w->linked_) return false;
        if (w->prev_)
            w->prev_->next_ = w->next_;
        else
            head_ = w->next_;
        if (w->next_)
            w->next_->prev_ = w->prev_;
        else
            tail_ = w->prev_;
        w->next_ = w->prev_ = nullptr;
        w->linked_ = false;
        return true;
    }

    /// Unlinks every waiter and returns them as a chain through `next_`.
    waiter* take_all() noexcept {
        waiter* all = head_;
        for (waiter* w = head_; w; w = w->next_) w->linked_ = false;
        head_ = tail_ = nullptr;
        return all;
    }

private:
    waiter* head_ = nullptr;
    waiter* tail_ = nullptr;
};

}  // namespace coronet::detail
