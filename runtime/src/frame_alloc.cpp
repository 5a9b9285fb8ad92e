#include <coronet/runtime/detail/frame_alloc.hpp>

#include "pages.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CORONET_FRAMES_FROM_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORONET_FRAMES_FROM_MALLOC 1
#endif
#endif

namespace coronet::detail {

#ifdef CORONET_FRAMES_FROM_MALLOC

// Under AddressSanitizer every frame comes from malloc, so that a use after
// free of a frame is caught rather than hidden by a free list.
void* frame_allocate(std::size_t size) {
    return ::operator new(size);
}
void frame_deallocate(void* p, std::size_t) noexcept {
    ::operator delete(p);
}

#else

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t class_count = 64;            // classes of 16 .. 1024 bytes
constexpr std::size_t slab_size = 2 << 20;         // taken from the system at once
constexpr std::size_t carve_size = 64 * 1024;      // taken from a slab by one thread at once
constexpr std::size_t batch = 256;                 // blocks moved to or from the depot at once
constexpr std::size_t keep_per_class = 4 * batch;  // a thread's list beyond this goes to the depot

struct free_node {
    free_node* next;
};

/// A chain of free blocks of one class.
struct chain {
    free_node* head = nullptr;
    std::size_t count = 0;
};

/// A slab straight from the kernel: no allocator header, and its pages
/// faulted in at once (map_populated). (Huge pages, MADV_HUGEPAGE, would need
/// fewer faults still; but on the virtual machines here a huge page that has
/// been free for a while costs far more to fault in again than 512 small
/// ones: a million spawns then ran 4x slower.)
void* map_slab() {
    return map_populated(slab_size);
}

/// What all threads share: the slabs (never returned to the system, so a
/// block freed by any thread is always valid memory) and the free blocks
/// that threads handed back, by class.
class depot {
public:
    /// A fresh region of `carve_size` bytes.
    std::byte* carve() {
        std::lock_guard guard(mutex_);
        if (left_ < carve_size) {
            next_ = static_cast<std::byte*>(map_slab());
            left_ = slab_size;
        }
        std::byte* region = next_;
        next_ += carve_size;
        left_ -= carve_size;
        return region;
    }

    void give(std::size_t cls, chain c) {
        std::lock_guard guard(mutex_);
        chains_[cls].push_back(c);
        counts_[cls].store(chains_[cls].size(), std::memory_order_relaxed);
    }

    /// A chain of free blocks of class `cls`, or an empty one. A thread whose
    /// list ran dry asks on every allocation until it gets one, so an empty
    /// depot answers without its lock.
    chain take(std::size_t cls) {
        if (counts_[cls].load(std::memory_order_relaxed) == 0) return {};
        std::lock_guard guard(mutex_);
        auto& v = chains_[cls];
        if (v.empty()) return {};
        chain c = v.back();
        v.pop_back();
        counts_[cls].store(v.size(), std::memory_order_relaxed);
        return c;
    }

private:
    std::mutex mutex_;
    std::byte* next_ = nullptr;
    std::size_t left_ = 0;
    std::array<std::vector<chain>, class_count> chains_;
    // The chains of each class, read without the lock: a hint (a chain given
    // meanwhile is found by a later call).
    std::array<std::atomic<std::size_t>, class_count> counts_{};
};

depot& the_depot() {
    static depot* d = new depot;  // outlives every thread's cache
    return *d;
}

/// One thread's free lists and carving region.
class frame_cache {
public:
    frame_cache() = default;
    frame_cache(const frame_cache&) = delete;
    frame_cache& operator=(const frame_cache&) = delete;
    ~frame_cache() {
        for (std::size_t cls = 0; cls < class_count; ++cls) {
            if (lists_[cls].head) the_depot().give(cls, lists_[cls]);
            lists_[cls] = {};
        }
    }

    void* allocate(std::size_t cls) {
        chain& l = lists_[cls];
        if (!l.head) {
            l = the_depot().take(cls);
            if (!l.head) return carve((cls + 1) * granule);
        }
        free_node* n = l.head;
        l.head = n->next;
        --l.count;
        return n;
    }

    void free(void* p, std::size_t cls) {
        chain& l = lists_[cls];
        auto* n = static_cast<free_node*>(p);
        n->next = l.head;
        l.head = n;
        if (++l.count <= keep_per_class) return;
        // Too many on this thread (frames made on one shard, freed on another):
        // hand a batch back for the others.
        chain out{l.head, batch};
        free_node* last = l.head;
        for (std::size_t i = 1; i < batch; ++i) last = last->next;
        l.head = last->next;
        l.count -= batch;
        last->next = nullptr;
        the_depot().give(cls, out);
    }

private:
    void* carve(std::size_t bytes) {
        if (left_ < bytes) {
            next_ = the_depot().carve();
            left_ = carve_size;  // the tail of the old region is left unused
        }
        void* p = next_;
        next_ += bytes;
        left_ -= bytes;
        return p;
    }

    std::array<chain, class_count> lists_{};
    std::byte* next_ = nullptr;
    std::size_t left_ = 0;
};

thread_local frame_cache cache;

}  // namespace

void* frame_allocate(std::size_t size) {
    std::size_t cls = (size + granule - 1) / granule - 1;
    if (cls < class_count) return cache.allocate(cls);
    return ::operator new(size);
}

void frame_deallocate(void* p, std::size_t size) noexcept {
    std::size_t cls = (size + granule - 1) / granule - 1;
    if (cls < class_count) {
        cache.free(p, cls);
        return;
    }
    ::operator delete(p);
}

#endif

}  // namespace coronet::detail
