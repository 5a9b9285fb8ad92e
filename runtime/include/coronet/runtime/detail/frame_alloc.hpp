#pragma once

#include <cstddef>

namespace coronet::detail {

/// Coroutine frame allocation: per-thread free lists by size class, so a steady
/// flow of spawns and awaits does not reach malloc.
///
/// Thread-safe: the lists are thread-local, and a frame freed on another thread
/// than the one that allocated it simply joins that thread's lists.
void* frame_allocate(std::size_t size);
void frame_deallocate(void* p, std::size_t size) noexcept;

}  // namespace coronet::detail
