#pragma once

#include <coronet/runtime/detail/frame_alloc.hpp>
#include <coronet/runtime/errc.hpp>

#include <any>
#include <atomic>
#include <cassert>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <typeinfo>

namespace coronet::detail {

class shard;
class control;
class runtime_core;

/// Something a coroutine is suspended on that can be cut short. `cancel` runs on
/// the coroutine's shard; it makes the operation complete as soon as it can,
/// with `aborted()` true where it was aborted before it completed normally.
class wait_node {
public:
    virtual void cancel() noexcept = 0;

protected:
    ~wait_node() = default;
};

/// Extra state that another module hangs on a coroutine (a mailbox, say).
/// `on_exit` runs on the coroutine's shard when it ends; the attachment is
/// deleted with the coroutine's control block.
class attachment {
public:
    virtual ~attachment() = default;
    virtual void on_exit(control& c) noexcept = 0;
    /// The function a hot swap put in place of the running one (a
    /// `std::function<task<R>(spawn_context)>` for the coroutine's `R`), once.
    virtual std::shared_ptr<void> take_replacement() noexcept { return nullptr; }
};

/// Thrown out of a coroutine's receive to replace the function it runs; the
/// root frame catches it and starts the replacement with the same control.
struct hot_swap_signal {};

/// What the runtime knows of a coroutine's result type.
struct result_ops {
    const std::type_info* type;
    /// A copy of the value it ended with, or empty (no value, or not copyable).
    std::any (*copy)(const control& c);
};

/// Unwinds a coroutine to the `with_timeout` whose deadline passed.
struct timeout_signal {
    std::uint32_t scope;
};

/// A `with_timeout` in progress, linked innermost first.
struct timeout_scope_link {
    std::uint32_t id;
    timeout_scope_link* outer;
};

/// The state of one spawned coroutine, shared by the runtime, its handles and
/// its awaitables. It is the promise of the coroutine's root frame, so it lives
/// exactly as long as that frame (`refs_` counts who still needs it).
///
/// Fields without atomics are touched only on the owner shard (`shard_`).
class control {
public:
    enum flag : std::uint32_t {
        done = 1,       // the coroutine has ended
        daemon = 2,     // not waited for by runtime::run
        handle = 4,     // a join_handle still refers to it
        joined = 8,     // its result was taken by a join
        failed = 16,    // it ended with an exception other than `terminated`
        launched = 32,  // it was handed to its shard
    };

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

    // --- identity
    std::uint32_t shard() const noexcept { return shard_; }
    std::uint32_t index() const noexcept { return index_; }
    std::uint32_t generation() const noexcept { return generation_; }
    bool is_done() const noexcept { return flags_.load(std::memory_order_acquire) & done; }

    // --- lifetime
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) self_.destroy();
    }

    // --- interruption (owner shard only)
    bool has_interrupt() const noexcept { return terminating_ || interrupt_ || fired_scope_ != 0; }
    [[noreturn]] void raise_interrupt();
    /// Throws the pending interrupt, if any: the check made at every suspension point.
    void interruption_point() {
        if (has_interrupt()) raise_interrupt();
    }
    /// Marks the coroutine terminating and aborts what it awaits.
    void request_terminate() noexcept;
    /// Makes `e` be thrown at the coroutine's current or next suspension point.
    void request_throw(std::exception_ptr e) noexcept;
    /// The deadline of timeout scope `id` passed: unwinds to it if it is still open.
    void fire_timeout(std::uint32_t id) noexcept;
    /// Forgets a timeout of scope `id` that fired after its operation had completed.
    void clear_timeout(std::uint32_t id) noexcept {
        if (fired_scope_ == id) fired_scope_ = 0;
    }

    // --- the operation the coroutine is suspended on (owner shard only)
    void set_wait(wait_node* w) noexcept { wait_ = w; }
    void clear_wait() noexcept { wait_ = nullptr; }

    // --- joining: a coroutine waits for this one to end
    /// Registers `waiter` (of coroutine `by`) to be resumed when this coroutine
    /// ends; false if it has ended already. Any thread.
    bool add_joiner(control* by, std::coroutine_handle<> waiter) noexcept;
    /// Withdraws a joiner; false if its wake-up is already under way.
    bool remove_joiner() noexcept;
    /// Blocks the calling (non-shard) thread until the coroutine ends.
    void wait_blocking() const noexcept;

    std::exception_ptr error() const noexcept { return error_; }

    /// The attachment, or null; any thread (it is set once, on the owner shard).
    attachment* get_attachment() const noexcept {
        return attachment_.load(std::memory_order_acquire);
    }
    /// Sets the attachment, which the control then owns; owner shard only, once.
    void set_attachment(attachment* a) noexcept {
        assert(!get_attachment());
        attachment_.store(a, std::memory_order_release);
    }
    const result_ops& result() const noexcept { return *result_ops_; }

    const std::type_info& function() const noexcept { return *function_; }

    /// Called from the root frame's final suspension, on the owner shard.
    void complete() noexcept;

protected:
    control() = default;
    ~control() { delete attachment_.load(std::memory_order_relaxed); }

public:
    std::exception_ptr error_;

    // The fields below belong to the runtime (src/); other code uses the
    // member functions above.
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<std::uint32_t> flags_{0};
    std::atomic<bool> join_lock_{false};
    bool terminating_ = false;
    std::uint32_t shard_ = 0;
    detail::shard* home_ = nullptr;
    std::uint32_t index_ = 0;
    std::uint32_t generation_ = 0;
    std::uint32_t next_scope_ = 0;
    std::uint32_t fired_scope_ = 0;
    wait_node* wait_ = nullptr;
    timeout_scope_link* scopes_ = nullptr;
    control* joiner_ctl_ = nullptr;
    std::coroutine_handle<> joiner_;
    std::exception_ptr interrupt_;
    std::atomic<attachment*> attachment_{nullptr};
    const result_ops* result_ops_ = nullptr;
    const std::type_info* function_ = &typeid(void);
    std::coroutine_handle<> self_;

    // for with_timeout (owner shard only)
    std::uint32_t open_scope(timeout_scope_link& link) noexcept {
        link.id = ++next_scope_;
        link.outer = scopes_;
        scopes_ = &link;
        return link.id;
    }
    void close_scope(timeout_scope_link& link) noexcept {
        assert(scopes_ == &link);
        scopes_ = link.outer;
        clear_timeout(link.id);
    }
};

/// The coroutine whose code runs on this thread right now, or null outside one.
/// constinit: no dynamic initialisation, so other translation units read it
/// directly rather than through a TLS wrapper (whose inlined null check GCC's
/// UBSan misreports inside coroutines).
extern constinit thread_local control* current_control;

inline control* current() noexcept {
    return current_control;
}

/// The current coroutine, or `std::system_error(errc::not_in_coroutine)`.
[[noreturn]] void throw_not_in_coroutine();
inline control& require_current() {
    if (control* c = current_control) return *c;
    throw_not_in_coroutine();
}

/// Resumes `h`, a suspended frame of coroutine `c`, on `c`'s shard: queued there
/// when called on that shard, posted to it otherwise. Any thread.
void schedule(control* c, std::coroutine_handle<> h) noexcept;

/// Resumes `h` of coroutine `c` right now; on `c`'s shard only.
void resume_now(control* c, std::coroutine_handle<> h) noexcept;

}  // namespace coronet::detail
