#include <coronet/runtime/detail/frame_alloc.hpp>

#include <array>
#include <cstdlib>
#include <new>

namespace coronet::detail {
namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t class_count = 64;  // classes of 16 .. 1024 bytes
constexpr std::size_t max_cached_bytes = 64 * 1024 * 1024;

struct free_node {
    free_node* next;
};

/// Free lists of one thread. Blocks come from malloc, so a block freed on
/// another thread is as good as its own; the lists are released at thread exit.
class frame_cache {
public:
    frame_cache() = default;
    frame_cache(const frame_cache&) = delete;
    frame_cache& operator=(const frame_cache&) = delete;
    ~frame_cache() {
        for (free_node*& head : lists_) {
            while (head) {
                free_node* next = head->next;
                std::free(head);
                head = next;
            }
        }
    }

    void* allocate(std::size_t cls) noexcept {
        free_node* n = lists_[cls];
        if (!n) return nullptr;
        lists_[cls] = n->next;
        cached_bytes_ -= (cls + 1) * granule;
        return n;
    }

    bool keep(void* p, std::size_t cls) noexcept {
        if (cached_bytes_ >= max_cached_bytes) return false;
        auto* n = static_cast<free_node*>(p);
        n->next = lists_[cls];
        lists_[cls] = n;
        cached_bytes_ += (cls + 1) * granule;
        return true;
    }

private:
    std::array<free_node*, class_count> lists_{};
    std::size_t cached_bytes_ = 0;
};

thread_local frame_cache cache;

}  // namespace

void* frame_allocate(std::size_t size) {
    std::size_t cls = (size + granule - 1) / granule - 1;
    if (cls < class_count) {
        if (void* p = cache.allocate(cls)) return p;
        if (void* p = std::malloc((cls + 1) * granule)) return p;
        throw std::bad_alloc();
    }
    return ::operator new(size);
}

void frame_deallocate(void* p, std::size_t size) noexcept {
    std::size_t cls = (size + granule - 1) / granule - 1;
    if (cls < class_count) {
        if (!cache.keep(p, cls)) std::free(p);
        return;
    }
    ::operator delete(p);
}

}  // namespace coronet::detail
