#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace coronet::detail {

/// A growable FIFO ring of trivially copyable items; single-threaded.
template <class T>
class ring {
public:
    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    void push(const T& v) {
        if (tail_ - head_ == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = v;
    }
    T pop() noexcept { return buf_[head_++ & (cap_ - 1)]; }

private:
    void grow() {
        std::size_t cap = cap_ ? cap_ * 2 : 256;
        auto buf = std::make_unique<T[]>(cap);
        for (std::size_t i = 0; i < tail_ - head_; ++i) buf[i] = buf_[(head_ + i) & (cap_ - 1)];
        tail_ -= head_;
        head_ = 0;
        buf_ = std::move(buf);
        cap_ = cap;
    }

    std::unique_ptr<T[]> buf_;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace coronet::detail
