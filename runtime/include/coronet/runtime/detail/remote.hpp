#pragma once

#include <coronet/runtime/detail/frame_alloc.hpp>

#include <type_traits>
#include <utility>

namespace coronet::detail {

class runtime_core;

/// A piece of work handed to another shard: the one primitive for crossing
/// shards. Items from one thread to one shard run in the order posted.
class remote_item {
public:
    virtual ~remote_item() = default;
    /// Runs on the target shard; the item is deleted right after.
    virtual void run() noexcept = 0;

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

    remote_item* next_ = nullptr;
};

template <class Fn>
class remote_call final : public remote_item {
public:
    explicit remote_call(Fn fn) : fn_(std::move(fn)) {}
    void run() noexcept override { fn_(); }

private:
    Fn fn_;
};

/// Queues `item` on shard `shard` of `core`, waking the shard if it sleeps.
/// Any thread; takes ownership of `item`.
void post_item(runtime_core& core, unsigned shard, remote_item* item) noexcept;

/// Runs `fn()` on shard `shard` of `core`, after what is already queued
/// there from this thread. Any thread. If the runtime stops first, `fn` is
/// destroyed without being called, so captured resources are still released.
template <class Fn>
void post_to(runtime_core& core, unsigned shard, Fn&& fn) {
    post_item(core, shard, new remote_call<std::decay_t<Fn>>(std::forward<Fn>(fn)));
}

}  // namespace coronet::detail
