#include <coronet/actors/channel.hpp>
#include <coronet/actors/send.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include "registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace coronet {
namespace detail {

bool channel_state::subscribe(const pid& p) {
    {
        std::lock_guard guard(mutex_);
        if (closed_ || std::find(subscribers_.begin(), subscribers_.end(), p) != subscribers_.end())
            return false;
        subscribers_.push_back(p);
    }
    subscribers_changed();
    return true;
}

bool channel_state::unsubscribe(const pid& p) {
    std::lock_guard guard(mutex_);
    auto it = std::find(subscribers_.begin(), subscribers_.end(), p);
    if (it == subscribers_.end()) return false;
    subscribers_.erase(it);
    return true;
}

bool channel_state::reaches(const channel_state* other) {
    if (other == this) return true;
    std::vector<std::shared_ptr<channel_state>> children;
    {
        std::lock_guard guard(mutex_);
        children = children_;
    }
    for (auto& c : children)
        if (c->reaches(other)) return true;
    return false;
}

bool channel_state::subscribe(const std::shared_ptr<channel_state>& child) {
    if (!child || child->reaches(this)) return false;  // would make a cycle
    {
        std::lock_guard guard(mutex_);
        if (closed_ || std::find(children_.begin(), children_.end(), child) != children_.end())
            return false;
        children_.push_back(child);
    }
    {
        std::lock_guard guard(child->mutex_);
        child->parents_.push_back(weak_from_this());
    }
    subscribers_changed();
    return true;
}

bool channel_state::unsubscribe(const std::shared_ptr<channel_state>& child) {
    {
        std::lock_guard guard(mutex_);
        auto it = std::find(children_.begin(), children_.end(), child);
        if (it == children_.end()) return false;
        children_.erase(it);
    }
    std::lock_guard guard(child->mutex_);
    std::erase_if(child->parents_, [this](const std::weak_ptr<channel_state>& w) {
        auto p = w.lock();
        return !p || p.get() == this;
    });
    return true;
}

std::size_t channel_state::subscriber_count() {
    std::vector<std::shared_ptr<channel_state>> children;
    std::size_t n;
    {
        std::lock_guard guard(mutex_);
        n = subscribers_.size();
        children = children_;
    }
    for (auto& c : children) n += c->subscriber_count();
    return n;
}

void channel_state::subscribers_changed() {
    std::size_t count = subscriber_count();
    waiter* ready = nullptr;
    std::vector<std::weak_ptr<channel_state>> parents;
    {
        std::lock_guard guard(mutex_);
        for (waiter* w = waiters_.front(); w;) {
            waiter* next = w->next_;
            if (closed_ || static_cast<count_waiter*>(w)->n_ <= count) {
                waiters_.remove(w);
                w->next_ = ready;
                ready = w;
            }
            w = next;
        }
        parents = parents_;
    }
    while (ready) {
        waiter* next = ready->next_;
        ready->wake();
        ready = next;
    }
    for (auto& wp : parents)
        if (auto p = wp.lock()) p->subscribers_changed();
}

std::size_t channel_state::send(message m) {
    std::vector<pid> subscribers;
    std::vector<std::shared_ptr<channel_state>> children;
    {
        std::lock_guard guard(mutex_);
        if (closed_) return 0;
        subscribers = subscribers_;
        children = children_;
    }
    if (transform_ && !transform_(m)) return 0;
    if (!m.copyable() && subscribers.size() + children.size() > 1)
        throw std::logic_error(
            "coronet::channel: a message sent to several subscribers must be copyable");

    std::size_t reached = 0;
    std::size_t total = subscribers.size() + children.size();
    std::size_t i = 0;
    std::vector<pid> dead;
    auto next_copy = [&] { return ++i == total ? std::move(m) : m.clone(); };
    for (const pid& p : subscribers) {
        switch (coronet::send(p, next_copy())) {
            case send_result::ok:
                ++reached;
                break;
            case send_result::dead:
            case send_result::invalid:
                dead.push_back(p);
                break;
            case send_result::full:
                break;
        }
    }
    for (auto& c : children) reached += c->send(next_copy());
    if (!dead.empty()) {
        std::lock_guard guard(mutex_);
        std::erase_if(subscribers_, [&](const pid& p) {
            return std::find(dead.begin(), dead.end(), p) != dead.end();
        });
    }
    return reached;
}

void channel_state::close() {
    std::vector<pid> subscribers;
    {
        std::lock_guard guard(mutex_);
        if (closed_) return;
        closed_ = true;
        subscribers.swap(subscribers_);
        children_.clear();
    }
    if (!name_.empty()) use_service<registry>(rt_).remove_channel(name_, this);
    for (const pid& p : subscribers) coronet::send(p, channel_closed{name_});
    subscribers_changed();  // wakes deliver waiters, which find it closed
}

bool channel_state::closed() {
    std::lock_guard guard(mutex_);
    return closed_;
}

bool channel_state::count_waiter::await_suspend(std::coroutine_handle<> h) {
    me_ = &require_current();
    if (me_->has_interrupt()) return false;
    h_ = h;
    {
        std::lock_guard guard(ch_.mutex_);
        if (ch_.closed_) return false;
        ch_.waiters_.push_back(this);
    }
    // Counted after queueing, so a subscriber added meanwhile is not missed.
    if (ch_.subscriber_count() >= n_) {
        std::lock_guard guard(ch_.mutex_);
        if (ch_.waiters_.remove(this)) return false;
        // else a wake-up is already on its way
    }
    me_->set_wait(this);
    return true;
}

void channel_state::count_waiter::await_resume() {
    if (!me_) return;
    me_->clear_wait();
    if (aborted_ || me_->has_interrupt()) me_->raise_interrupt();
}

void channel_state::count_waiter::cancel() noexcept {
    {
        std::lock_guard guard(ch_.mutex_);
        if (!ch_.waiters_.remove(this)) return;
        aborted_ = true;
    }
    wake();
}

}  // namespace detail

channel channel::create_in(detail::runtime_core& rt, const std::string& name,
                           transform_fn transform) {
    auto s = std::make_shared<detail::channel_state>(rt, name, std::move(transform));
    if (!name.empty() && !detail::use_service<detail::registry>(rt).add_channel(name, s))
        throw std::invalid_argument("coronet::channel: the name '" + name + "' is taken");
    return channel(std::move(s));
}

channel channel::create(const std::string& name, transform_fn transform) {
    detail::runtime_core* rt = detail::this_runtime();
    if (!rt) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return create_in(*rt, name, std::move(transform));
}

channel channel::create(runtime& rt, const std::string& name, transform_fn transform) {
    return create_in(rt.core(), name, std::move(transform));
}

task<std::optional<channel>> channel::locate(std::string name,
                                             std::chrono::steady_clock::duration timeout) {
    detail::runtime_core* rt = detail::this_runtime();
    if (!rt) throw std::system_error(make_error_code(errc::not_in_coroutine));
    auto& reg = detail::use_service<detail::registry>(*rt);
    if (auto s = reg.find_channel(name)) co_return channel(std::move(s));
    auto found = co_await with_timeout(timeout, detail::registry::name_waiter(reg, name, true));
    if (!found) co_return std::nullopt;
    co_return channel(std::move(found->channel));
}

task<std::size_t> channel::deliver(message m, std::size_t n,
                                   std::chrono::steady_clock::duration timeout) const {
    auto s = s_;
    bool enough = co_await with_timeout(timeout, detail::channel_state::count_waiter(*s, n));
    if (!enough || s->closed()) co_return 0;
    co_return s->send(std::move(m));
}

}  // namespace coronet
