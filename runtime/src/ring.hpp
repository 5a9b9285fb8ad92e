#pragma once

#include "pages.hpp"

#include <cstddef>
#include <type_traits>
#include <utility>

namespace coronet::detail {

/// A growable FIFO ring of trivially copyable items; single-threaded. A ring
/// past 64 KiB takes its memory from map_populated: a shard's ready queue
/// holding a million coroutines would otherwise fault its pages in one by
/// one as each doubling is first written.
template <class T>
class ring {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    ring() = default;
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;
    ~ring() { release(buf_, cap_); }

    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    void push(const T& v) {
        if (tail_ - head_ == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = v;
    }
    T pop() noexcept { return buf_[head_++ & (cap_ - 1)]; }

private:
    static constexpr std::size_t mapped_bytes = 64 * 1024;

    static T* allocate(std::size_t cap) {
        std::size_t bytes = cap * sizeof(T);
        if (bytes >= mapped_bytes) return static_cast<T*>(map_populated(bytes));
        return static_cast<T*>(::operator new(bytes));
    }
    static void release(T* buf, std::size_t cap) noexcept {
        if (!buf) return;
        std::size_t bytes = cap * sizeof(T);
        if (bytes >= mapped_bytes)
            unmap(buf, bytes);
        else
            ::operator delete(buf);
    }

    void grow() {
        std::size_t cap = cap_ ? cap_ * 2 : 256;
        T* buf = allocate(cap);
        for (std::size_t i = 0; i < tail_ - head_; ++i) buf[i] = buf_[(head_ + i) & (cap_ - 1)];
        tail_ -= head_;
        head_ = 0;
        release(buf_, cap_);
        buf_ = buf;
        cap_ = cap;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace coronet::detail
