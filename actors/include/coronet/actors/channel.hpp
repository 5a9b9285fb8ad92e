#pragma once

#include <coronet/actors/detail/channel_state.hpp>
#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace coronet {

class runtime;

/// What every subscriber of a channel receives when the channel closes.
struct channel_closed {
    std::string name;
};

/// A broadcast channel: every message sent to it goes to each subscriber
/// present at that moment, coroutines (by pid) and other channels alike.
/// A channel with a name is registered in its runtime, where `locate` finds it.
///
/// Each subscriber gets its own copy of a message, so its type must be
/// copyable. A subscriber that stops reading does not stall the others: its
/// mailbox keeps growing, or, if it set a mailbox capacity, the messages that
/// find it full are dropped for it alone (and not counted as received).
/// A subscriber found dead is unsubscribed.
///
/// Thread safety: a channel is a cheap shared handle; every member may be
/// called from any thread.
///
///     auto news = coronet::channel::create("news");
///     news.subscribe(self.pid());
///     news.send(std::string("hello"));            // to every subscriber now
///     auto n = co_await news.deliver(42, 2, 1s);  // once 2 are subscribed
class channel {
public:
    /// Keeps or changes a message (return true), or drops it (return false).
    using transform_fn = std::function<bool(message&)>;

    channel() = default;

    /// A new channel in the calling coroutine's runtime; registered under
    /// `name` unless it is empty. `std::invalid_argument` if the name is taken.
    static channel create(const std::string& name = {}, transform_fn transform = {});
    /// As create(), in runtime `rt`, from any thread.
    static channel create(runtime& rt, const std::string& name = {}, transform_fn transform = {});

    /// The channel registered as `name` in the calling coroutine's runtime,
    /// waiting up to `timeout` for it to appear; `std::nullopt` on timeout.
    [[nodiscard]] static task<std::optional<channel>> locate(
        std::string name, std::chrono::steady_clock::duration timeout);

    explicit operator bool() const noexcept { return static_cast<bool>(s_); }
    const std::string& name() const { return s_->name(); }

    /// Adds a subscriber; false if it already is one or the channel is closed.
    bool subscribe(const pid& p) { return s_->subscribe(p); }
    bool unsubscribe(const pid& p) { return s_->unsubscribe(p); }
    /// Adds a channel as a subscriber (a hierarchy); false if that would make a
    /// cycle, it already is one, or the channel is closed.
    bool subscribe(const channel& child) { return s_->subscribe(child.s_); }
    bool unsubscribe(const channel& child) { return s_->unsubscribe(child.s_); }

    /// Subscribers reached through this channel (sub-channels included).
    std::size_t subscriber_count() const { return s_->subscriber_count(); }

    /// Sends `m` to every subscriber present now, through the transform.
    /// Returns how many subscribers accepted it (0 if closed or dropped).
    std::size_t send(message m) const { return s_->send(std::move(m)); }

    /// Waits until at least `n` subscribers are present (for at most
    /// `timeout`), then sends; returns how many accepted it, 0 on timeout.
    /// Cancellation: a terminated caller sends nothing. From a coroutine.
    [[nodiscard]] task<std::size_t> deliver(message m, std::size_t n,
                                            std::chrono::steady_clock::duration timeout) const;

    /// Closes the channel: it sends nothing more, its name is freed, every
    /// coroutine subscribed to it directly receives a `channel_closed`, and its
    /// sub-channels are unsubscribed (they stay open: other channels may feed them).
    void close() const { s_->close(); }
    bool closed() const { return s_->closed(); }

    friend bool operator==(const channel& a, const channel& b) noexcept { return a.s_ == b.s_; }

private:
    explicit channel(std::shared_ptr<detail::channel_state> s) noexcept : s_(std::move(s)) {}
    static channel create_in(detail::runtime_core& rt, const std::string& name,
                             transform_fn transform);

    std::shared_ptr<detail::channel_state> s_;
};

}  // namespace coronet
