#pragma once

#include <cstddef>

namespace coronet::detail {

/// Coroutine frame allocation: per-thread free lists by size class, carved
/// from large slabs, so spawns and awaits rarely reach malloc and frames carry
/// no allocator header. Slabs are never returned to the system; a thread with
/// more free blocks of a class than it keeps hands batches to a shared depot,
/// where other threads take them (frames made on one shard and freed on
/// another move back this way). Under AddressSanitizer frames come from
/// malloc, so that errors in their use are caught.
///
/// Thread-safe: the lists are thread-local, the depot is locked.
void* frame_allocate(std::size_t size);
void frame_deallocate(void* p, std::size_t size) noexcept;

}  // namespace coronet::detail
