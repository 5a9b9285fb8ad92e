#pragma once

#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/detail/intrusive_list.hpp>

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
    bool empty() const noexcept { return list_.empty(); }
    waiter* front() const noexcept { return list_.front(); }

    void push_back(waiter* w) noexcept {
        list_.push_back(w);
        w->linked_ = true;
    }

    waiter* pop_front() noexcept {
        waiter* w = list_.front();
        if (w) remove(w);
        return w;
    }

    /// Unlinks `w`; false if it was not linked.
    bool remove(waiter* w) noexcept {
        if (!w->linked_) return false;
        list_.remove(w);
        w->linked_ = false;
        return true;
    }

    /// Unlinks every waiter and returns them as a chain through `next_`.
    waiter* take_all() noexcept {
        waiter* all = list_.take_all();
        for (waiter* w = all; w; w = w->next_) w->linked_ = false;
        return all;
    }

private:
    intrusive_list<waiter> list_;
};

}  // namespace coronet::detail
