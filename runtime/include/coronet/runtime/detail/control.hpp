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
    /// `std::function<task<R>(spawn_context)>` for the coroutine's `R`), or
    /// null. The attachment keeps it alive until the next swap or the end.
    virtual void* swap_in() noexcept { return nullptr; }
};

/// Thrown out of a coroutine's receive to replace the function it runs; the
/// runtime catches it where the body ends and starts the replacement with the
/// same control.
struct hot_swap_signal {};

/// True if `e` holds an exception of type `E` (or of a type derived from it).
template <class E>
bool holds_exception(const std::exception_ptr& e) noexcept {
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

/// A coroutine waiting for another to end (join), in the waiter's frame.
struct join_waiter {
    control* ctl;
    std::coroutine_handle<> h;
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
/// its awaitables: a block of its own beside the frame of the task its
/// function returned (the body). The body's frame is destroyed on the
/// coroutine's shard when it ends, its result moved here first; the block
/// lives as long as somebody needs it (`refs_`: the coroutine itself while it
/// runs, its join_handle, pids being resolved).
///
/// Fields without atomics are touched only on the owner shard (`shard_`).
class control {
public:
    enum flag : std::uint32_t {
        done = 1,     // the coroutine has ended
        daemon = 2,   // not waited for by runtime::run
        handle = 4,   // a join_handle still refers to it
        joined = 8,   // its result was taken by a join
        failed = 16,  // it ended with an exception other than `terminated`
        // Where the runtime counts it (see runtime_core): among all the live
        // coroutines, on its shard (else in the runtime's count), and, while
        // it is not a daemon, among those run() waits for, on its shard or
        // in the runtime's count (neither: not counted).
        all_local = 32,
        live_local = 64,
        live_global = 128,
        joining = 256,  // joiner_ names a coroutine waiting for this one to end
    };

    // --- identity
    std::uint32_t shard() const noexcept { return shard_; }
    std::uint32_t index() const noexcept { return index_; }
    std::uint32_t generation() const noexcept { return generation_; }
    bool is_done() const noexcept { return flags_.load(std::memory_order_acquire) & done; }

    // --- lifetime
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    /// Deletes a control that was never launched.
    void discard() noexcept { delete this; }

    // --- interruption (owner shard only)
    bool has_interrupt() const noexcept { return terminating_ || error_ || fired_scope_ != 0; }
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
    bool add_joiner(join_waiter* w) noexcept;
    /// Withdraws a joiner; false if its wake-up is already under way.
    bool remove_joiner() noexcept;
    /// Blocks the calling (non-shard) thread until the coroutine ends.
    void wait_blocking() const noexcept;

    /// The exception that ended the coroutine, once it has ended.
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
    /// The type of the function the coroutine was spawned with.
    virtual const std::type_info& function() const noexcept = 0;
    /// `R` of the coroutine's `task<R>`.
    virtual const std::type_info& result_type() const noexcept = 0;
    /// A copy of the value it ended with, or empty (no value, or not copyable).
    virtual std::any copy_result() const = 0;

    // --- running the body (owner shard; see shard::run)
    /// The body to resume for the coroutine's first turn; or, when it was
    /// terminated before it began or making the body failed, null: it has
    /// then ended (and this control may be gone).
    std::coroutine_handle<> start() noexcept;
    /// The body reached its final suspension: its result is taken and its
    /// frame destroyed. Returns the body of a hot swap's replacement to
    /// resume, or null: the coroutine has ended (and this control may be gone).
    std::coroutine_handle<> end_body() noexcept;
    /// True when the body's frame has reached its final suspension.
    bool body_done() const noexcept { return body_.done(); }

    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }

protected:
    control() = default;
    virtual ~control() { delete attachment_.load(std::memory_order_relaxed); }

    /// Moves the ended body's value or exception into this block.
    virtual void collect() noexcept = 0;
    /// Destroys the function and the arguments kept for the body.
    virtual void release_call() noexcept = 0;
    /// Makes the body that a hot swap's function (see attachment::swap_in) returns.
    virtual std::coroutine_handle<> replace(void* fn) = 0;

    std::coroutine_handle<> body_;

private:
    /// The end: exit notices, joiners, the runtime's counts; on the owner shard.
    void complete() noexcept;

public:
    // While the coroutine runs: an exception to throw at its next suspension
    // point (request_throw); once its body has ended: the exception that ended
    // it, or null.
    std::exception_ptr error_;

    // The fields below belong to the runtime (src/); other code uses the
    // member functions above.
    // Born with the coroutine's own reference and its join_handle's.
    std::atomic<std::uint32_t> refs_{2};
    std::atomic<std::uint32_t> flags_{handle};
    bool terminating_ = false;
    std::uint32_t shard_ = 0;
    detail::shard* home_ = nullptr;
    std::uint32_t index_ = 0;
    std::uint32_t generation_ = 0;
    std::uint32_t next_scope_ = 0;
    std::uint32_t fired_scope_ = 0;
    wait_node* wait_ = nullptr;
    timeout_scope_link* scopes_ = nullptr;
    join_waiter* joiner_ = nullptr;
    std::atomic<attachment*> attachment_{nullptr};

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
