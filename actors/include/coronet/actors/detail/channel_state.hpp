#pragma once

#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/runtime/detail/waiter.hpp>

#include <coroutine>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace coronet::detail {

class runtime_core;

/// The shared state of a channel; see coronet::channel. Any thread: the
/// subscriber lists are guarded by `mutex_`, messages are sent outside it.
class channel_state : public std::enable_shared_from_this<channel_state> {
public:
    using transform_fn = std::function<bool(message&)>;

    channel_state(runtime_core& rt, std::string name, transform_fn transform)
        : rt_(rt), name_(std::move(name)), transform_(std::move(transform)) {}

    const std::string& name() const noexcept { return name_; }
    runtime_core& runtime() const noexcept { return rt_; }

    bool subscribe(const pid& p);
    bool unsubscribe(const pid& p);
    bool subscribe(const std::shared_ptr<channel_state>& child);
    bool unsubscribe(const std::shared_ptr<channel_state>& child);
    /// Subscribers reached through this channel, its sub-channels included.
    std::size_t subscriber_count();
    /// Sends to every subscriber present now; how many accepted it.
    std::size_t send(message m);
    void close();
    bool closed();

    /// A deliver waiting for at least `n` subscribers.
    class count_waiter final : public waiter {
    public:
        count_waiter(channel_state& ch, std::size_t n) noexcept : ch_(ch), n_(n) {}
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h);
        void await_resume();
        void cancel() noexcept override;

    private:
        friend class channel_state;
        channel_state& ch_;
        std::size_t n_;
    };

private:
    bool reaches(const channel_state* other);  // other is this or below it
    void subscribers_changed();                // wakes deliver waiters, here and above

    runtime_core& rt_;
    std::string name_;
    transform_fn transform_;
    std::mutex mutex_;
    std::vector<pid> subscribers_;
    std::vector<std::shared_ptr<channel_state>> children_;
    std::vector<std::weak_ptr<channel_state>> parents_;
    waiter_list waiters_;
    bool closed_ = false;
};

}  // namespace coronet::detail
