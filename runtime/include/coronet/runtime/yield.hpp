#pragma once

#include <coronet/runtime/detail/shard_access.hpp>

#include <coroutine>

namespace coronet {

namespace detail {
struct yield_awaiter {
    control* me_ = nullptr;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &require_current();
        if (me_->has_interrupt()) return false;
        push_ready(me_, h);
        return true;
    }
    void await_resume() const { me_->interruption_point(); }
};
}  // namespace detail

/// Lets the other coroutines ready on this shard run, then resumes the caller.
///
/// Errors: `coronet::terminated` if the coroutine was terminated meanwhile.
/// Call it from a coroutine of a runtime.
///
///     for (auto& item : big_batch) { work(item); co_await coronet::yield(); }
[[nodiscard]] inline detail::yield_awaiter yield() noexcept {
    return {};
}

}  // namespace coronet
