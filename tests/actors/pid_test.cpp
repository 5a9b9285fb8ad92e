#include "actors_test_support.hpp"

#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using coronet::pid;
using coronet::send_result;
using coronet::task;
using coronet::testing::patience;

class PidTest : public coronet::testing::runtime_test {};

task<void> nothing() {
    co_return;
}

task<pid> own_pid(coronet::self self) {
    co_return self.pid();
}

task<int> count_messages(coronet::self self) {
    int n = 0;
    while (auto m = co_await self.receive(patience)) {
        if (m->is<coronet::testing::go>()) break;
        ++n;
    }
    co_return n;
}

TEST_F(PidTest, DefaultConstructedNamesNothing) {
    pid p;
    EXPECT_FALSE(p);
    EXPECT_EQ(p, pid());
    EXPECT_EQ(p.send(1), send_result::invalid);
    EXPECT_EQ(coronet::send(p, 1), send_result::invalid);
    EXPECT_FALSE(coronet::terminate(p));
}

TEST_F(PidTest, FromAnEmptyHandleNamesNothing) {
    coronet::join_handle<void> empty;
    pid p = empty;
    EXPECT_FALSE(p);
}

TEST_F(PidTest, FromAHandleNamesTheCoroutineAndItsShard) {
    for (unsigned shard : {0u, 1u}) {
        auto h = rt_.spawn_on(shard, own_pid);
        pid p = h;
        EXPECT_TRUE(p);
        EXPECT_EQ(p.shard(), shard);
        EXPECT_EQ(p.node(), 0u);
        EXPECT_EQ(p.id(), h.id());
        EXPECT_EQ(p.runtime(), &rt_.core());
        EXPECT_EQ(h.wait(), p);  // the coroutine's own view of itself
    }
}

TEST_F(PidTest, CopiesAreEqualAndHashAlike) {
    auto h = rt_.spawn_on(1, nothing);
    pid a = h;
    pid b = a;
    EXPECT_EQ(a, b);
    EXPECT_FALSE(a < b || b < a);
    EXPECT_EQ(std::hash<pid>()(a), std::hash<pid>()(b));
    h.wait();
}

TEST_F(PidTest, DistinctCoroutinesHaveDistinctPids) {
    std::vector<coronet::join_handle<void>> handles;
    for (int i = 0; i < 100; ++i) handles.push_back(rt_.spawn_on(i % 2, nothing));
    std::unordered_set<pid> hashed;
    std::set<pid> ordered;
    for (auto& h : handles) {
        hashed.insert(h);
        ordered.insert(h);
    }
    EXPECT_EQ(hashed.size(), handles.size());
    EXPECT_EQ(ordered.size(), handles.size());
    for (auto& h : handles) h.wait();
}

TEST_F(PidTest, PrintsAsNodeShardIndexGeneration) {
    auto h = rt_.spawn_on(1, nothing);
    pid p = h;
    std::string expected =
        "<0.1." + std::to_string(p.index()) + "." + std::to_string(p.generation()) + ">";
    EXPECT_EQ(p.to_string(), expected);
    std::ostringstream os;
    os << p;
    EXPECT_EQ(os.str(), expected);
    h.wait();
}

TEST_F(PidTest, AReusedSlotGetsANewGeneration) {
    auto first = rt_.spawn_on(0, nothing);
    pid old = first;
    first.wait();
    // The shard hands out the freed slot again; other coroutines may take it
    // first, so spawn until one lands in it.
    for (int i = 0; i < 1000; ++i) {
        auto next = rt_.spawn_on(0, nothing);
        pid p = next;
        next.wait();
        if (p.index() != old.index()) continue;
        EXPECT_NE(p.generation(), old.generation());
        EXPECT_NE(p, old);
        return;
    }
    FAIL() << "the slot of an ended coroutine was never reused";
}

TEST_F(PidTest, AStalePidIsNotTakenForTheCoroutineNowInItsSlot) {
    auto first = rt_.spawn_on(0, nothing);
    pid stale = first;
    first.wait();
    for (int i = 0; i < 1000; ++i) {
        auto next = rt_.spawn_on(0, count_messages);
        pid now = next;
        if (now.index() != stale.index()) {
            now.send(coronet::testing::go{});
            next.wait();
            continue;
        }
        EXPECT_EQ(stale.send(1), send_result::dead);
        EXPECT_FALSE(coronet::terminate(stale));
        EXPECT_FALSE(coronet::throw_to(stale, std::make_exception_ptr(std::runtime_error("x"))));
        EXPECT_EQ(now.send(2), send_result::ok);
        EXPECT_EQ(now.send(coronet::testing::go{}), send_result::ok);
        EXPECT_EQ(next.wait(), 1);  // only the message sent to its own pid
        return;
    }
    FAIL() << "the slot of an ended coroutine was never reused";
}

}  // namespace
