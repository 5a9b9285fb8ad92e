#include "registry.hpp"

#include <coronet/actors/detail/channel_state.hpp>

namespace coronet::detail {

waiter* registry::take_waiters(const std::string& name, bool channel) {
    waiter* chain = nullptr;
    for (waiter* w = waiters_.front(); w;) {
        auto* nw = static_cast<name_waiter*>(w);
        waiter* next = w->next_;
        if (nw->channel_ == channel && nw->name_ == name) {
            waiters_.remove(w);
            w->next_ = chain;
            chain = w;
        }
        w = next;
    }
    return chain;
}

void registry::wake_all(waiter* chain) noexcept {
    while (chain) {
        waiter* next = chain->next_;
        chain->wake();
        chain = next;
    }
}

bool registry::add(const std::string& name, const pid& p) {
    waiter* chain;
    {
        std::lock_guard guard(mutex_);
        if (!names_.try_emplace(name, p).second) return false;
        chain = take_waiters(name, false);
        for (waiter* w = chain; w; w = w->next_) static_cast<name_waiter*>(w)->pid_ = p;
    }
    wake_all(chain);
    return true;
}

bool registry::remove(const std::string& name, const pid& p) {
    std::lock_guard guard(mutex_);
    auto it = names_.find(name);
    if (it == names_.end() || it->second != p) return false;
    names_.erase(it);
    return true;
}

void registry::drop_names(const pid& p, const std::vector<std::string>& names) {
    for (const auto& n : names) remove(n, p);
}

std::optional<pid> registry::find(const std::string& name) {
    std::lock_guard guard(mutex_);
    auto it = names_.find(name);
    if (it == names_.end()) return std::nullopt;
    return it->second;
}

bool registry::add_channel(const std::string& name, std::shared_ptr<channel_state> ch) {
    waiter* chain;
    {
        std::lock_guard guard(mutex_);
        if (!channels_.try_emplace(name, ch).second) return false;
        chain = take_waiters(name, true);
        for (waiter* w = chain; w; w = w->next_) static_cast<name_waiter*>(w)->channel_found_ = ch;
    }
    wake_all(chain);
    return true;
}

void registry::remove_channel(const std::string& name, const channel_state* ch) {
    std::lock_guard guard(mutex_);
    auto it = channels_.find(name);
    if (it != channels_.end() && it->second.get() == ch) channels_.erase(it);
}

std::shared_ptr<channel_state> registry::find_channel(const std::string& name) {
    std::lock_guard guard(mutex_);
    auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : it->second;
}

bool registry::name_waiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &require_current();
    if (me_->has_interrupt()) return false;
    h_ = h;
    std::lock_guard guard(r_.mutex_);
    if (channel_) {
        auto it = r_.channels_.find(name_);
        if (it != r_.channels_.end()) {
            channel_found_ = it->second;
            return false;
        }
    } else {
        auto it = r_.names_.find(name_);
        if (it != r_.names_.end()) {
            pid_ = it->second;
            return false;
        }
    }
    r_.waiters_.push_back(this);
    me_->set_wait(this);
    return true;
}

registry::name_waiter::found registry::name_waiter::await_resume() {
    me_->clear_wait();
    if (aborted_ || (!pid_ && !channel_found_)) me_->raise_interrupt();
    return {pid_.value_or(pid()), std::move(channel_found_)};
}

void registry::name_waiter::cancel() noexcept {
    {
        std::lock_guard guard(r_.mutex_);
        if (!r_.waiters_.remove(this)) return;
        aborted_ = true;
    }
    wake();
}

}  // namespace coronet::detail
