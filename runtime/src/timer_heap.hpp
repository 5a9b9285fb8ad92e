#pragma once

#include <coronet/runtime/detail/timer.hpp>

#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace coronet::detail {

/// The timers of one shard: a binary min-heap of deadlines. Each item keeps its
/// deadline beside the entry's address, so sifting compares within the array
/// and touches an entry only to record its new place. One thread.
class timer_heap {
public:
    using time_point = std::chrono::steady_clock::time_point;

    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    /// The earliest deadline; not when empty.
    time_point next() const noexcept { return heap_.front().deadline; }

    void push(timer_entry& e) {
        assert(e.slot == timer_entry::not_queued);
        heap_.push_back({e.deadline, &e});
        sift_up(heap_.size() - 1, {e.deadline, &e});
    }

    void remove(timer_entry& e) noexcept {
        if (e.slot == timer_entry::not_queued) return;
        std::size_t i = e.slot;
        assert(i < heap_.size() && heap_[i].e == &e);
        e.slot = timer_entry::not_queued;
        item last = heap_.back();
        heap_.pop_back();
        if (i == heap_.size()) return;  // it was the last one
        if (i > 0 && last.deadline < heap_[parent(i)].deadline)
            sift_up(i, last);
        else
            sift_down(i, last);
    }

    /// Takes the earliest entry if its deadline is at or before `now`.
    timer_entry* pop_due(time_point now) noexcept {
        if (heap_.empty() || heap_.front().deadline > now) return nullptr;
        timer_entry* e = heap_.front().e;
        e->slot = timer_entry::not_queued;
        item last = heap_.back();
        heap_.pop_back();
        if (!heap_.empty()) sift_down(0, last);
        return e;
    }

private:
    struct item {
        time_point deadline;
        timer_entry* e;
    };

    static std::size_t parent(std::size_t i) noexcept { return (i - 1) / 2; }

    void place(std::size_t i, item it) noexcept {
        heap_[i] = it;
        it.e->slot = static_cast<std::uint32_t>(i);
    }

    void sift_up(std::size_t i, item it) noexcept {
        while (i > 0 && it.deadline < heap_[parent(i)].deadline) {
            place(i, heap_[parent(i)]);
            i = parent(i);
        }
        place(i, it);
    }

    void sift_down(std::size_t i, item it) noexcept {
        const std::size_t n = heap_.size();
        for (;;) {
            std::size_t child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && heap_[child + 1].deadline < heap_[child].deadline) ++child;
            if (!(heap_[child].deadline < it.deadline)) break;
            place(i, heap_[child]);
            i = child;
        }
        place(i, it);
    }

    std::vector<item> heap_;
};

}  // namespace coronet::detail
