#pragma once

// Memory straight from the kernel, its pages faulted in at once.

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace coronet::detail {

/// `bytes` of zeroed memory mapped with MAP_POPULATE: one system call for all
/// of its pages instead of a page fault for each as it is first touched,
/// which on the virtual machines here costs several microseconds apiece and
/// dominated the spawning of a million coroutines. Throws std::bad_alloc.
inline void* map_populated(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
}

/// Returns memory from map_populated.
inline void unmap(void* p, std::size_t bytes) noexcept {
    ::munmap(p, bytes);
}

}  // namespace coronet::detail
