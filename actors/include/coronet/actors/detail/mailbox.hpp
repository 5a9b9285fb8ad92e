#pragma once

#include <coronet/actors/detail/message_queue.hpp>
#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/runtime/detail/control.hpp>
#include <coronet/runtime/detail/waiter.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace coronet::detail {

class mailbox;

/// The owner of a mailbox suspended in receive, with what it accepts.
class receive_waiter : public wait_node {
public:
    using match_fn = bool (*)(const message& m, const void* ctx);

    receive_waiter(match_fn match, const void* ctx) noexcept : match_(match), ctx_(ctx) {}

    bool await_ready();
    bool await_suspend(std::coroutine_handle<> h);
    message await_resume();
    void cancel() noexcept override;

    bool matches(const message& m) const { return !match_ || match_(m, ctx_); }

protected:
    void rebind(const void* ctx) noexcept { ctx_ = ctx; }

private:
    friend class mailbox;
    match_fn match_;
    const void* ctx_;
    mailbox* mb_ = nullptr;
    control* me_ = nullptr;
    std::coroutine_handle<> h_;
    message got_;
    bool received_ = false;
};

/// A sender waiting for room in a full mailbox (deliver), on the owner shard.
class space_waiter final : public waiter {
public:
    space_waiter(mailbox& mb, message m) noexcept : mb_(mb), msg_(std::move(m)) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h);
    bool await_resume();
    void cancel() noexcept override;

private:
    friend class mailbox;
    mailbox& mb_;
    message msg_;
    bool admitted_ = false;
};

/// The mark (set_slot_marks) of a coroutine whose mailbox has a capacity:
/// senders on other shards must reserve room in it before they send.
inline constexpr std::uint32_t bounded_mailbox_mark = 1;

/// The mailbox of one coroutine: its attachment, made when first needed.
/// Everything but `count_` and `capacity_` is touched on the owner shard only.
class mailbox final : public attachment {
public:
    explicit mailbox(control& owner) noexcept : owner_(owner) {}

    /// Counts a message about to be queued; false when at capacity. Any thread.
    bool reserve() noexcept;
    /// Counts a message regardless of capacity (one already admitted). Any thread.
    void reserve_unchecked() noexcept { count_.fetch_add(1, std::memory_order_relaxed); }
    /// Gives `m` straight to the receiver waiting here if it accepts it; false
    /// (and `m` untouched) otherwise. Such a message is never queued, so it is
    /// not counted and needs no reserve().
    bool hand_over(message& m) { return receiver_ && hand_over_to_receiver(m); }
    /// Queues a reserved message, or hands it to the waiting receiver.
    void push(message&& m);
    /// Takes the first message that `w` accepts, if any.
    bool take(receive_waiter& w, message& out) { return !queue_.empty() && take_queued(w, out); }

    std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
    std::size_t capacity() const noexcept { return capacity_.load(std::memory_order_relaxed); }
    void set_capacity(std::size_t n) noexcept;

    void on_exit(control& c) noexcept override;
    void* swap_in() noexcept override {
        if (!replacement_) return nullptr;
        current_ = std::exchange(replacement_, nullptr);
        return current_.get();
    }

    control& owner() noexcept { return owner_; }

    // owner shard only
    receive_waiter* receiver_ = nullptr;
    waiter_list space_waiters_;
    std::vector<pid> monitors_;
    std::vector<std::string> names_;
    bool swappable_ = false;
    bool swap_pending_ = false;
    std::shared_ptr<void> replacement_;  // a swap requested
    std::shared_ptr<void> current_;      // the function swapped in, while it runs

private:
    /// One message left the mailbox: admit a waiting sender, if any.
    void released() noexcept {
        if (!space_waiters_.empty()) admit();
    }
    void admit() noexcept;
    bool hand_over_to_receiver(message& m);
    bool take_queued(receive_waiter& w, message& out);

    control& owner_;
    message_queue queue_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::size_t> capacity_{0};
};

mailbox& make_mailbox(control& c);

/// The mailbox of `c`, made if it has none; on `c`'s shard, while it lives.
inline mailbox& mailbox_of(control& c) {
    if (attachment* a = c.get_attachment()) return *static_cast<mailbox*>(a);
    return make_mailbox(c);
}

/// The mailbox of `c` if it has one, else null; any thread.
inline mailbox* find_mailbox(const control& c) noexcept {
    return static_cast<mailbox*>(c.get_attachment());
}

}  // namespace coronet::detail
