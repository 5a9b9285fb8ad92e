#pragma once

#include <coronet/runtime/detail/shard_access.hpp>
#include <coronet/runtime/join_handle.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <tuple>

namespace coronet {

class message;
enum class send_result;

/// Names a coroutine: the node it lives on, its shard, its slot there and the
/// slot's generation (so a reused slot is never taken for a coroutine that
/// ended). A small copyable value; local and remote coroutines alike.
///
/// Thread safety: a value; `send` may be called from any thread.
///
///     coronet::pid server = rt.spawn(serve);   // from a join_handle
///     server.send(std::string("hello"));
class pid {
public:
    pid() noexcept = default;
    pid(detail::runtime_core* rt, std::uint32_t node, coro_id id) noexcept
        : rt_(rt), node_(node), id_(id) {}

    /// The pid of a spawned coroutine.
    template <class R>
    pid(const join_handle<R>& h) noexcept  // NOLINT: implicit, as a handle names a coroutine
        : pid(h.valid() ? &detail::core_of(*h.control()) : nullptr, 0,
              h.valid() ? h.id() : coro_id{}) {}

    /// True unless default-constructed.
    explicit operator bool() const noexcept { return rt_ != nullptr; }

    std::uint32_t node() const noexcept { return node_; }
    std::uint32_t shard() const noexcept { return id_.shard; }
    std::uint32_t index() const noexcept { return id_.index; }
    std::uint32_t generation() const noexcept { return id_.generation; }
    coro_id id() const noexcept { return id_; }
    detail::runtime_core* runtime() const noexcept { return rt_; }

    /// Sends `m` to this coroutine; see coronet::send.
    send_result send(message m) const;

    friend bool operator==(const pid& a, const pid& b) noexcept {
        return a.rt_ == b.rt_ && a.node_ == b.node_ && a.id_ == b.id_;
    }
    friend auto operator<=>(const pid& a, const pid& b) noexcept {
        return std::tie(a.node_, a.id_.shard, a.id_.index, a.id_.generation) <=>
               std::tie(b.node_, b.id_.shard, b.id_.index, b.id_.generation);
    }

    /// "<node.shard.index.generation>".
    std::string to_string() const;
    friend std::ostream& operator<<(std::ostream& os, const pid& p);

private:
    detail::runtime_core* rt_ = nullptr;
    std::uint32_t node_ = 0;
    coro_id id_{};
};

}  // namespace coronet

template <>
struct std::hash<coronet::pid> {
    std::size_t operator()(const coronet::pid& p) const noexcept {
        std::uint64_t a = (std::uint64_t(p.node()) << 32) | p.shard();
        std::uint64_t b = (std::uint64_t(p.index()) << 32) | p.generation();
        return std::hash<std::uint64_t>()(a * 0x9e3779b97f4a7c15ULL ^ b);
    }
};
