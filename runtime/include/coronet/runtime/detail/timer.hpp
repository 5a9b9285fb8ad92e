#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace coronet::detail {

/// A deadline on a shard's timers: once `deadline` has passed, the shard's
/// thread calls `fire(*this)` (at most once), unless the entry was removed
/// first. The entry is the caller's (in a coroutine frame, usually): it must
/// not move while queued. Sleeps and with_timeout are built on it.
struct timer_entry {
    static constexpr std::uint32_t not_queued = std::numeric_limits<std::uint32_t>::max();

    std::chrono::steady_clock::time_point deadline;
    void (*fire)(timer_entry&) noexcept = nullptr;
    std::uint32_t slot = not_queued;  ///< its place in the shard's heap
};

/// Queues `e` on the calling shard; `errc::not_in_coroutine` off the shards.
void add_timer(timer_entry& e);

/// Takes `e` off the calling shard's timers if it is still queued; call it on
/// the shard that queued it.
void remove_timer(timer_entry& e) noexcept;

}  // namespace coronet::detail
