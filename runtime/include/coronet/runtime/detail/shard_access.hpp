#pragma once

#include <coronet/runtime/detail/control.hpp>

#include <asio/io_context.hpp>

#include <coroutine>
#include <cstdint>

namespace coronet::detail {

class runtime_core;

/// The I/O context of the calling shard thread; `errc::not_in_coroutine` elsewhere.
asio::io_context& this_io();

/// The runtime of the calling shard thread, or null off the shards.
runtime_core* this_runtime() noexcept;

/// Index of the calling shard thread, or -1 off the shards.
int this_shard_index() noexcept;

/// Queues `h` of `c` behind the coroutines ready on the calling shard, which
/// must be `c`'s.
void push_ready(control* c, std::coroutine_handle<> h) noexcept;

/// A counted reference to a control block that is released when it goes away,
/// for handlers that may be destroyed without being run.
class control_ref {
  public:
    explicit control_ref(control* c) noexcept : c_(c) { c_->add_ref(); }
    control_ref(control_ref&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
    control_ref(const control_ref& o) noexcept : c_(o.c_) { c_->add_ref(); }
    control_ref& operator=(const control_ref&) = delete;
    ~control_ref() {
        if (c_) c_->release();
    }
    control* get() const noexcept { return c_; }
    control* operator->() const noexcept { return c_; }

  private:
    control* c_;
};

}  // namespace coronet::detail
