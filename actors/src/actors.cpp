#include <coronet/actors/detail/mailbox.hpp>
#include <coronet/actors/exit_notice.hpp>
#include <coronet/actors/hot_swap.hpp>
#include <coronet/actors/locate.hpp>
#include <coronet/actors/self.hpp>
#include <coronet/actors/send.hpp>
#include <coronet/runtime/detail/remote.hpp>
#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/submit_to.hpp>
#include <coronet/runtime/with_timeout.hpp>

#include "registry.hpp"

#include <ostream>

namespace coronet {

namespace {

using detail::control;
using detail::control_ref;

bool on_home_shard(const pid& p) {
    return detail::on_shard(*p.runtime(), p.shard());
}

/// The live coroutine `p` names, on its own shard (no reference taken).
control* find_here(const pid& p) {
    return detail::find_local(*p.runtime(), p.shard(), p.index(), p.generation());
}

/// Runs `fn(control&)` on `p`'s shard if `p` lives; false if it is known dead.
/// If it ends while `fn` travels to its shard, `ended()` runs there instead.
template <class Fn, class Ended>
bool with_live(const pid& p, Fn fn, Ended ended) {
    if (!p) return false;
    if (on_home_shard(p)) {
        control* c = find_here(p);
        if (!c) return false;
        fn(*c);
        return true;
    }
    control* c = detail::find_live(*p.runtime(), p.shard(), p.index(), p.generation());
    if (!c) return false;
    detail::post_to(
        *p.runtime(), p.shard(),
        [ref = control_ref::adopt(c), fn = std::move(fn), ended = std::move(ended)]() mutable {
            if (ref->is_done())
                ended();
            else
                fn(*ref.get());
        });
    return true;
}

template <class Fn>
bool with_live(const pid& p, Fn fn) {
    return with_live(p, std::move(fn), [] {});
}

/// What a bounded mailbox on another shard said to a message sent to it.
enum class admission { none, reserved, full };

/// Reserves room for a message in `c`'s mailbox if it is bounded; any thread,
/// under the lock of `c`'s slot. An unbounded mailbox is left alone, so that
/// senders on other shards do not write to it.
void admit_remote(control& c, void* out) {
    detail::mailbox* mb = detail::find_mailbox(c);
    if (!mb || mb->capacity() == 0) return;
    *static_cast<admission*>(out) = mb->reserve() ? admission::reserved : admission::full;
}

}  // namespace

// ---------------------------------------------------------------- pid

send_result pid::send(message m) const {
    return detail::send_to(*this, m);  // not through send(), which would move m once more
}

std::string pid::to_string() const {
    std::string out = "<";
    for (std::uint32_t part : {node_, id_.shard, id_.index, id_.generation}) {
        if (out.size() > 1) out += '.';
        out += std::to_string(part);
    }
    out += '>';
    return out;
}

std::ostream& operator<<(std::ostream& os, const pid& p) {
    return os << p.to_string();
}

// ---------------------------------------------------------------- send

send_result send(const pid& to, message m) {
    return detail::send_to(to, m);
}

send_result detail::send_to(const pid& to, message& m) {
    if (!to) return send_result::invalid;
    if (on_home_shard(to)) {
        control* c = find_here(to);
        if (!c) return send_result::dead;
        detail::mailbox& mb = detail::mailbox_of(*c);
        if (mb.hand_over(m)) return send_result::ok;
        if (!mb.reserve()) return send_result::full;
        mb.push(std::move(m));
        return send_result::ok;
    }
    // Across shards nothing of the receiver is written here but a bounded
    // mailbox's count: no reference is taken, its shard finds it again by id.
    // Only a bounded mailbox is looked at, under its slot's lock; otherwise
    // the slot says all there is to know.
    std::int64_t marks = detail::peek_live(*to.runtime(), to.shard(), to.index(), to.generation());
    if (marks < 0) return send_result::dead;
    admission a = admission::none;
    if ((marks & detail::bounded_mailbox_mark) &&
        !detail::visit_live(*to.runtime(), to.shard(), to.index(), to.generation(), admit_remote,
                            &a))
        return send_result::dead;
    if (a == admission::full) return send_result::full;
    detail::post_to(*to.runtime(), to.shard(), [to, m = std::move(m), a]() mutable {
        control* c = find_here(to);
        if (!c) return;  // it ended while the message travelled
        detail::mailbox& mb = detail::mailbox_of(*c);
        if (a != admission::reserved) {
            if (mb.hand_over(m)) return;
            mb.reserve_unchecked();
        }
        mb.push(std::move(m));
    });
    return send_result::ok;
}

namespace {

task<bool> deliver_here(pid to, message m) {
    control* c = find_here(to);
    if (!c) co_return false;
    detail::mailbox& mb = detail::mailbox_of(*c);
    if (mb.reserve()) {
        mb.push(std::move(m));
        co_return true;
    }
    co_return co_await detail::space_waiter(mb, std::move(m));
}

}  // namespace

task<bool> deliver(pid to, message m, std::chrono::steady_clock::duration timeout) {
    if (!to) co_return false;
    auto request = [to, m = std::move(m)]() mutable { return deliver_here(to, std::move(m)); };
    auto work = with_timeout(timeout, submit_to(to.shard(), std::move(request)));
    auto done = co_await std::move(work);
    co_return done&&* done;
}

bool terminate(const pid& p) {
    return with_live(p, [](control& c) { c.request_terminate(); });
}

bool throw_to(const pid& p, std::exception_ptr e) {
    return with_live(p, [e = std::move(e)](control& c) { c.request_throw(e); });
}

// ---------------------------------------------------------------- self

pid self::pid() const noexcept {
    return coronet::pid(&detail::core_of(*c_), 0, {c_->shard(), c_->index(), c_->generation()});
}

std::size_t self::mailbox_size() const {
    detail::mailbox* mb = detail::find_mailbox(*c_);
    return mb ? mb->size() : 0;
}

void self::set_mailbox_capacity(std::size_t n) {
    detail::mailbox_of(*c_).set_capacity(n);
}

bool self::register_name(const std::string& name) {
    auto& reg = detail::use_service<detail::registry>(detail::core_of(*c_));
    if (!reg.add(name, pid())) return false;
    detail::mailbox_of(*c_).names_.push_back(name);
    return true;
}

bool self::unregister_name(const std::string& name) {
    auto& reg = detail::use_service<detail::registry>(detail::core_of(*c_));
    if (!reg.remove(name, pid())) return false;
    std::erase(detail::mailbox_of(*c_).names_, name);
    return true;
}

void self::monitor(const coronet::pid& target) {
    coronet::pid me = pid();
    auto add = [me](detail::control& c) { detail::mailbox_of(c).monitors_.push_back(me); };
    auto gone = [me, target] {
        exit_notice n;
        n.who = target;
        n.reason = exit_reason::gone;
        coronet::send(me, std::move(n));
    };
    if (!with_live(target, add, gone)) gone();
}

void self::hot_swappable(bool on) {
    detail::mailbox_of(*c_).swappable_ = on;
}

// ---------------------------------------------------------------- names

task<std::optional<pid>> locate(std::string name, std::chrono::steady_clock::duration timeout) {
    detail::runtime_core* rt = detail::this_runtime();
    if (!rt) throw std::system_error(make_error_code(errc::not_in_coroutine));
    auto& reg = detail::use_service<detail::registry>(*rt);
    if (auto p = reg.find(name)) co_return p;
    auto found = co_await with_timeout(timeout, detail::registry::name_waiter(reg, name, false));
    if (!found) co_return std::nullopt;
    co_return found->process;
}

// ---------------------------------------------------------------- hot swap

namespace detail {

swap_result request_swap(control& c, const std::type_info& result_type,
                         std::shared_ptr<void> replacement) {
    if (c.is_done()) return swap_result::dead;
    if (c.result_type() != result_type) return swap_result::type_mismatch;
    mailbox& mb = mailbox_of(c);
    if (!mb.swappable_) return swap_result::refused;
    mb.replacement_ = std::move(replacement);
    mb.swap_pending_ = true;
    if (mb.receiver_) mb.receiver_->cancel();  // it is waiting: swap now
    return swap_result::accepted;
}

task<swap_result> hot_swap_erased(pid target, const std::type_info& result_type,
                                  std::shared_ptr<void> replacement) {
    if (!target) co_return swap_result::dead;
    const std::type_info* type = &result_type;
    // Built before the co_await: GCC 12 mishandles lambda temporaries inside one.
    auto request = [target, type, replacement = std::move(replacement)]() {
        control* c = find_here(target);
        return c ? request_swap(*c, *type, replacement) : swap_result::dead;
    };
    task<swap_result> work = submit_to(target.shard(), std::move(request));
    co_return co_await std::move(work);
}

}  // namespace detail

}  // namespace coronet
