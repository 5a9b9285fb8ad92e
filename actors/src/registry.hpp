#pragma once

#include <coronet/actors/pid.hpp>
#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/detail/waiter.hpp>

#include <coroutine>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace coronet::detail {

class channel_state;

/// The names of one runtime: coroutines and channels, each a namespace of its
/// own, and the coroutines waiting for a name to appear. Any thread.
class registry final : public service {
public:
    explicit registry(runtime_core&) {}

    bool add(const std::string& name, const pid& p);
    bool remove(const std::string& name, const pid& p);
    /// Drops every name of `p` (it ended).
    void drop_names(const pid& p, const std::vector<std::string>& names);
    std::optional<pid> find(const std::string& name);

    bool add_channel(const std::string& name, std::shared_ptr<channel_state> ch);
    void remove_channel(const std::string& name, const channel_state* ch);
    std::shared_ptr<channel_state> find_channel(const std::string& name);

    /// Waits for `name` (a coroutine's, or a channel's) to be registered.
    class name_waiter final : public waiter {
    public:
        name_waiter(registry& r, std::string name, bool channel)
            : r_(r), name_(std::move(name)), channel_(channel) {}
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h);
        /// What was found: a pid, or (for a channel) the channel.
        struct found {
            pid process;
            std::shared_ptr<channel_state> channel;
        };
        found await_resume();
        void cancel() noexcept override;

        std::optional<pid> pid_;
        std::shared_ptr<channel_state> channel_found_;

    private:
        friend class registry;
        registry& r_;
        std::string name_;
        bool channel_;
    };

private:
    /// Unlinks the waiters for `name` of that kind; under the lock.
    waiter* take_waiters(const std::string& name, bool channel);
    static void wake_all(waiter* chain) noexcept;

    std::mutex mutex_;
    std::unordered_map<std::string, pid> names_;
    std::unordered_map<std::string, std::shared_ptr<channel_state>> channels_;
    waiter_list waiters_;
};

}  // namespace coronet::detail
