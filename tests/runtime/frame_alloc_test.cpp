#include <coronet/runtime/detail/frame_alloc.hpp>
#include <coronet_test.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using coronet::detail::frame_allocate;
using coronet::detail::frame_deallocate;

/// What a test writes into a block: who made it, which one and how big,
/// repeated over the whole block, so that any overlap or reuse shows.
struct stamp {
    std::uint32_t owner;
    std::uint32_t seq;
    std::uint64_t size;
};

void write_stamp(void* p, std::size_t size, std::uint32_t owner, std::uint32_t seq) {
    auto* bytes = static_cast<std::byte*>(p);
    stamp s{owner, seq, size};
    for (std::size_t at = 0; at + sizeof s <= size; at += sizeof s)
        std::memcpy(bytes + at, &s, sizeof s);
}

bool stamp_intact(const void* p, std::size_t size, std::uint32_t owner, std::uint32_t seq) {
    const auto* bytes = static_cast<const std::byte*>(p);
    for (std::size_t at = 0; at + sizeof(stamp) <= size; at += sizeof(stamp)) {
        stamp s;
        std::memcpy(&s, bytes + at, sizeof s);
        if (s.owner != owner || s.seq != seq || s.size != size) return false;
    }
    return true;
}

// Sizes across the classes (16-byte steps up to 1 KiB) and beyond them.
constexpr std::size_t sizes[] = {16, 24, 48, 96, 120, 256, 500, 1024, 1100, 4096};

TEST(FrameAllocTest, LiveBlocksNeverOverlap) {
    struct block {
        void* p;
        std::size_t size;
        std::uint32_t seq;
    };
    std::vector<block> blocks;
    std::uint32_t seq = 0;
    for (int round = 0; round < 300; ++round) {
        for (std::size_t size : sizes) {
            void* p = frame_allocate(size);
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << "size " << size;
            write_stamp(p, size, 0, seq);
            blocks.push_back({p, size, seq++});
        }
    }
    for (const block& b : blocks) EXPECT_TRUE(stamp_intact(b.p, b.size, 0, b.seq));
    for (const block& b : blocks) frame_deallocate(b.p, b.size);
}

TEST(FrameAllocTest, AFreedBlockIsReusedByItsThread) {
    if (coronet::testing::address_sanitizer) GTEST_SKIP() << "frames come from malloc under ASan";
    void* first = frame_allocate(96);
    frame_deallocate(first, 96);
    void* again = frame_allocate(96);
    EXPECT_EQ(again, first) << "a free block of the class was not taken first";
    frame_deallocate(again, 96);
}

// Blocks made on each thread are freed on the next one, in a ring: every
// thread's lists overflow into the shared depot and are refilled from it.
// Runs under ThreadSanitizer.
TEST(FrameAllocTest, BlocksFreedOnOtherThreadsAreReusedIntact) {
    constexpr unsigned threads = 4;
    constexpr std::uint32_t per_thread = 100'000;
    struct handed {
        void* p;
        std::size_t size;
        std::uint32_t owner;
        std::uint32_t seq;
    };
    struct mailbox {
        std::mutex m;
        std::deque<handed> q;
    };
    std::vector<mailbox> boxes(threads);
    std::vector<std::uint64_t> corrupt(threads, 0), freed(threads, 0);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            auto drain = [&](bool all) {
                for (;;) {
                    std::deque<handed> got;
                    {
                        std::lock_guard lock(boxes[t].m);
                        got.swap(boxes[t].q);
                    }
                    for (const handed& h : got) {
                        if (!stamp_intact(h.p, h.size, h.owner, h.seq)) ++corrupt[t];
                        frame_deallocate(h.p, h.size);
                        ++freed[t];
                    }
                    if (!all || freed[t] == per_thread) return;
                    std::this_thread::yield();  // the previous thread is still making them
                }
            };
            mailbox& next = boxes[(t + 1) % threads];
            for (std::uint32_t i = 0; i < per_thread; ++i) {
                std::size_t size = sizes[(i * 7 + t) % 8];  // within the classes
                void* p = frame_allocate(size);
                write_stamp(p, size, t, i);
                {
                    std::lock_guard lock(next.m);
                    next.q.push_back({p, size, t, i});
                }
                if (i % 512 == 0) drain(false);
            }
            drain(true);
        });
    }
    for (auto& th : pool) th.join();
    for (unsigned t = 0; t < threads; ++t) {
        EXPECT_EQ(corrupt[t], 0u) << "thread " << t;
        EXPECT_EQ(freed[t], per_thread) << "thread " << t;
    }
}

}  // namespace
