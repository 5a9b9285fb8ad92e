#pragma once

#include <coronet/actors/message.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace coronet::detail {

/// The FIFO of a mailbox: a ring of messages that allocates nothing until a
/// message has to wait in it (most coroutines take each message as it
/// arrives) and gives a large buffer back once a burst has drained.
///
/// Thread safety: none; the mailbox's owner shard alone uses it.
class message_queue {
public:
    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    /// The `i`-th message from the front (`i < size()`).
    message& operator[](std::size_t i) noexcept { return buf_[(head_ + i) & (cap_ - 1)]; }

    void push_back(message&& m) {
        if (size() == cap_) grow();
        buf_[tail_++ & (cap_ - 1)] = std::move(m);
    }

    /// Removes the `i`-th message, keeping the others in their order.
    void erase(std::size_t i) noexcept {
        if (i == 0) {
            (*this)[0].reset();
            ++head_;
        } else {
            for (std::size_t j = i; j + 1 < size(); ++j) (*this)[j] = std::move((*this)[j + 1]);
            (*this)[size() - 1].reset();
            --tail_;
        }
        if (empty() && cap_ > keep_capacity) clear();
    }

    void clear() noexcept {
        buf_.reset();
        cap_ = head_ = tail_ = 0;
    }

private:
    /// Room for the first message or two: often a coroutine gets one before it
    /// starts, and then takes each as it arrives.
    static constexpr std::size_t first_capacity = 2;
    /// An empty queue keeps a buffer of up to this many messages (128 KiB), so
    /// that a steady stream of bursts does not allocate anew for each one.
    static constexpr std::size_t keep_capacity = 4096;

    void grow() {
        std::size_t cap = cap_ ? cap_ * 2 : first_capacity;
        auto buf = std::make_unique<message[]>(cap);
        for (std::size_t i = 0; i < size(); ++i) buf[i] = std::move((*this)[i]);
        tail_ -= head_;
        head_ = 0;
        buf_ = std::move(buf);
        cap_ = cap;
    }

    std::unique_ptr<message[]> buf_;
    std::size_t cap_ = 0;  // a power of two, or 0
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace coronet::detail
