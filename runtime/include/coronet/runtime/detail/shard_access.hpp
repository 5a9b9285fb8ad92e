#pragma once

#include <coronet/runtime/detail/control.hpp>

#include <asio/io_context.hpp>

#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>

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

/// A readable (demangled) name of a type.
std::string demangle(const std::type_info& t);

/// The runtime that coroutine `c` belongs to; any thread.
runtime_core& core_of(const control& c) noexcept;

/// The I/O context of shard `index` of `core`, to post work to it; any thread.
asio::io_context& shard_io(runtime_core& core, unsigned index);

/// The coroutine of that shard, slot and generation if it is alive, with a
/// reference the caller must release; null otherwise. Any thread.
control* find_live(runtime_core& core, unsigned shard, std::uint32_t index,
                   std::uint32_t generation) noexcept;

/// What a thread may learn of the coroutine of that shard, slot and
/// generation without taking a lock or touching it: -1 if it is not alive,
/// else the marks its shard put on its slot (set_slot_marks). Any thread; a
/// snapshot that its shard may contradict a moment later.
std::int64_t peek_live(runtime_core& core, unsigned shard, std::uint32_t index,
                       std::uint32_t generation) noexcept;

/// Marks the slot of live coroutine `c` with flags of a module built on the
/// runtime (the actor layer marks a bounded mailbox), for peek_live; on
/// `c`'s shard. The marks go with the slot when the coroutine ends.
void set_slot_marks(control& c, std::uint32_t marks) noexcept;

/// Calls `fn(c, ctx)` with the coroutine `c` of that shard, slot and
/// generation if it is alive, and returns true; false if it is not. `c` stays
/// allocated while `fn` runs (it may be ending on its shard meanwhile). Any
/// thread; `fn` runs under a lock, so it must be short and must not block.
bool visit_live(runtime_core& core, unsigned shard, std::uint32_t index, std::uint32_t generation,
                void (*fn)(control& c, void* ctx), void* ctx);

/// True when the calling thread is shard `shard` of `core`.
bool on_shard(const runtime_core& core, unsigned shard) noexcept;

/// As find_live, called on that shard itself: no lock, no reference taken.
control* find_local(runtime_core& core, unsigned shard, std::uint32_t index,
                    std::uint32_t generation) noexcept;

/// A per-runtime object of a module built on the runtime (a name registry,
/// say). Made on first use, destroyed after the runtime has stopped.
class service {
public:
    virtual ~service() = default;
};

service& use_service(runtime_core& core, const std::type_info& key,
                     std::unique_ptr<service> (*make)(runtime_core&));

template <class S>
S& use_service(runtime_core& core) {
    return static_cast<S&>(use_service(
        core, typeid(S),
        [](runtime_core& c) -> std::unique_ptr<service> { return std::make_unique<S>(c); }));
}

/// A counted reference to a control block that is released when it goes away,
/// for handlers that may be destroyed without being run.
class control_ref {
public:
    explicit control_ref(control* c) noexcept : c_(c) { c_->add_ref(); }
    /// Takes over a reference the caller already holds.
    static control_ref adopt(control* c) noexcept {
        control_ref r;
        r.c_ = c;
        return r;
    }
    control_ref(control_ref&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
    control_ref(const control_ref& o) noexcept : c_(o.c_) { c_->add_ref(); }
    control_ref& operator=(const control_ref&) = delete;
    ~control_ref() {
        if (c_) c_->release();
    }
    control* get() const noexcept { return c_; }
    control* operator->() const noexcept { return c_; }

private:
    control_ref() noexcept = default;
    control* c_ = nullptr;
};

}  // namespace coronet::detail
