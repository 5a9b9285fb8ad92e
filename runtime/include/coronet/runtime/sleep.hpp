#pragma once

#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/detail/timer.hpp>

#include <chrono>
#include <coroutine>

namespace coronet {

namespace detail {

class sleep_awaiter final : public wait_node, private timer_entry {
public:
    explicit sleep_awaiter(std::chrono::steady_clock::time_point deadline) noexcept {
        this->deadline = deadline;
        fire = [](timer_entry& t) noexcept {
            auto& self = static_cast<sleep_awaiter&>(t);
            push_ready(self.me_, self.h_);
        };
    }

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        me_ = &require_current();
        if (me_->has_interrupt()) return false;
        h_ = h;
        add_timer(*this);
        me_->set_wait(this);
        return true;
    }
    void await_resume() {
        me_->clear_wait();
        if (aborted_ || me_->has_interrupt()) me_->raise_interrupt();
    }
    void cancel() noexcept override {
        if (slot == not_queued) return;  // already due: resumes as it is
        remove_timer(*this);
        aborted_ = true;
        push_ready(me_, h_);
    }

private:
    control* me_ = nullptr;
    std::coroutine_handle<> h_;
    bool aborted_ = false;
};

}  // namespace detail

/// Suspends the calling coroutine for `d` (at least), on its shard's timers.
///
/// Errors: none of its own. Cancellation: terminating the coroutine ends the
/// sleep at once with `coronet::terminated`. Call it from a coroutine of a
/// runtime (else `errc::not_in_coroutine`).
///
///     co_await coronet::sleep(250ms);
template <class Rep, class Period>
[[nodiscard]] detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) {
    return detail::sleep_awaiter(
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
}

/// Suspends the calling coroutine until `deadline`; as `sleep`.
[[nodiscard]] inline detail::sleep_awaiter sleep_until(
    std::chrono::steady_clock::time_point deadline) {
    return detail::sleep_awaiter(deadline);
}

}  // namespace coronet
