#include "actors_test_support.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace {

using coronet::message;
using coronet::task;
using coronet::testing::patience;

/// Counts its copies and moves in shared counters.
struct counted {
    static inline std::atomic<int> copies{0};
    static inline std::atomic<int> moves{0};
    static inline std::atomic<int> live{0};

    explicit counted(int v) : value(v) { ++live; }
    counted(const counted& o) : value(o.value) {
        ++copies;
        ++live;
    }
    counted(counted&& o) noexcept : value(o.value) {
        ++moves;
        ++live;
    }
    counted& operator=(const counted&) = delete;
    ~counted() { --live; }

    static void reset() { copies = moves = live = 0; }
    int value;
};

/// Too large to live inside a message.
struct big {
    char bytes[256] = {};
    int value = 0;
};

TEST(MessageTest, DefaultConstructedIsEmpty) {
    message m;
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.type(), typeid(void));
    EXPECT_FALSE(m.is<int>());
    EXPECT_EQ(m.get_if<int>(), nullptr);
    EXPECT_FALSE(m.copyable());
}

TEST(MessageTest, HoldsAValueOfItsOwnType) {
    message m = 42L;
    EXPECT_FALSE(m.empty());
    EXPECT_TRUE(m.is<long>());
    EXPECT_FALSE(m.is<int>());
    EXPECT_EQ(m.type(), typeid(long));
    ASSERT_NE(m.get_if<long>(), nullptr);
    EXPECT_EQ(*m.get_if<long>(), 42L);
    EXPECT_EQ(m.get_if<int>(), nullptr);
    EXPECT_EQ(m.get<long>(), 42L);
    const message& c = m;
    EXPECT_EQ(*c.get_if<long>(), 42L);
}

TEST(MessageTest, GetOfAnotherTypeThrowsBadCast) {
    message m = std::string("text");
    EXPECT_THROW(m.get<int>(), std::bad_cast);
    EXPECT_THROW(m.take<int>(), std::bad_cast);
    EXPECT_EQ(m.get<std::string>(), "text");
}

TEST(MessageTest, TakeMovesTheValueOutAndLeavesItEmpty) {
    message m = std::make_unique<int>(7);
    auto p = m.take<std::unique_ptr<int>>();
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 7);
    EXPECT_TRUE(m.empty());
}

TEST(MessageTest, HoldsSmallAndLargeValuesAlike) {
    big b;
    b.value = 9;
    message large = b;
    message small = 'x';
    EXPECT_EQ(large.get<big>().value, 9);
    EXPECT_EQ(small.get<char>(), 'x');
    message moved = std::move(large);
    EXPECT_TRUE(large.empty());
    EXPECT_EQ(moved.get<big>().value, 9);
}

TEST(MessageTest, MovingLeavesTheSourceEmpty) {
    message a = std::string("payload");
    message b = std::move(a);
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(b.get<std::string>(), "payload");
    a = std::move(b);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(a.get<std::string>(), "payload");
}

TEST(MessageTest, DestroysItsValueExactlyOnce) {
    counted::reset();
    {
        message a = counted(1);
        message b = std::move(a);
        message c;
        c = std::move(b);
        c.reset();
        EXPECT_EQ(counted::live, 0);
        message d = counted(2);
    }
    EXPECT_EQ(counted::live, 0);
    EXPECT_EQ(counted::copies, 0);
}

TEST(MessageTest, CloneCopiesACopyableValue) {
    message a = std::vector<int>{1, 2, 3};
    EXPECT_TRUE(a.copyable());
    message b = a.clone();
    EXPECT_EQ(b.get<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(a.get<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
    EXPECT_TRUE(message().clone().empty());
}

TEST(MessageTest, CloneOfAMoveOnlyValueThrowsLogicError) {
    message m = std::make_unique<int>(1);
    EXPECT_FALSE(m.copyable());
    EXPECT_THROW((void)m.clone(), std::logic_error);
    EXPECT_TRUE(m.is<std::unique_ptr<int>>());
}

class MessageDeliveryTest : public coronet::testing::runtime_test {};

task<int> value_received(coronet::self self) {
    message m = co_await self.receive();
    co_return m.get<counted>().value;
}

TEST_F(MessageDeliveryTest, IsMovedNeverCopiedBetweenCoroutines) {
    counted::reset();
    for (unsigned shard : {0u, 1u}) {
        auto h = rt_.spawn_on(shard, value_received);
        EXPECT_EQ(coronet::pid(h).send(counted(int(shard) + 5)), coronet::send_result::ok);
        EXPECT_EQ(h.wait(), int(shard) + 5);
    }
    EXPECT_EQ(counted::copies, 0);
    EXPECT_EQ(counted::live, 0);
}

TEST_F(MessageDeliveryTest, CarriesMoveOnlyValuesAcrossShards) {
    int got = run([]() -> task<int> {
        auto h = coronet::spawn_on(1 - coronet::this_shard(), [](coronet::self self) -> task<int> {
            auto m = co_await self.receive(patience);
            co_return **m->get_if<std::unique_ptr<int>>();
        });
        coronet::pid(h).send(std::make_unique<int>(11));
        co_return co_await h.join();
    }());
    EXPECT_EQ(got, 11);
}

}  // namespace
