#pragma once

namespace coronet::detail {

/// An intrusive FIFO of `T`, linked through `T::next_` and `T::prev_`; not
/// synchronised (its owner locks it).
template <class T>
class intrusive_list {
public:
    bool empty() const noexcept { return head_ == nullptr; }
    T* front() const noexcept { return head_; }

    void push_back(T* x) noexcept {
        x->next_ = nullptr;
        x->prev_ = tail_;
        if (tail_)
            tail_->next_ = x;
        else
            head_ = x;
        tail_ = x;
    }

    /// Unlinks `x`, which must be in this list.
    void remove(T* x) noexcept {
        if (x->prev_)
            x->prev_->next_ = x->next_;
        else
            head_ = x->next_;
        if (x->next_)
            x->next_->prev_ = x->prev_;
        else
            tail_ = x->prev_;
        x->next_ = x->prev_ = nullptr;
    }

    /// Empties the list and returns its elements as a chain through `next_`.
    T* take_all() noexcept {
        T* all = head_;
        head_ = tail_ = nullptr;
        return all;
    }

private:
    T* head_ = nullptr;
    T* tail_ = nullptr;
};

}  // namespace coronet::detail
