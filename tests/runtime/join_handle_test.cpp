#include <coronet_probes.hpp>
#include <coronet_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <stdexcept>
#include <thread>
#include <utility>

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::testing::destruction_probe;

class JoinHandleTest : public coronet::testing::runtime_test {};

task<int> identity(int x) {
    co_return x;
}

task<int> value_once_set(coronet::event& go, int value) {
    co_await go.wait();
    co_return value;
}

task<void> wait_for(coronet::event& e) {
    co_await e.wait();
}

/// Joins `h` and tells whether it ended by `coronet::terminated`.
template <class R>
task<bool> ended_terminated(coronet::join_handle<R>& h) {
    try {
        co_await h.join();
    } catch (const coronet::terminated&) {
        co_return true;
    }
    co_return false;
}

// ------------------------------------------------------------------ join

TEST_F(JoinHandleTest, JoinReturnsTheValueOfTheCoroutine) {
    EXPECT_EQ(run([]() -> task<int> {
                  auto h = coronet::spawn([]() -> task<int> {
                      co_await coronet::yield();
                      co_return 42;
                  });
                  co_return co_await h.join();
              }()),
              42);
}

TEST_F(JoinHandleTest, JoinRethrowsTheExceptionThatEndedTheCoroutine) {
    EXPECT_THROW(run([]() -> task<int> {
                     auto h = coronet::spawn([]() -> task<int> {
                         co_await coronet::yield();
                         throw std::out_of_range("gone");
                     });
                     co_return co_await h.join();
                 }()),
                 std::out_of_range);
}

TEST_F(JoinHandleTest, JoinThrowsTerminatedForATerminatedCoroutine) {
    coronet::event never;
    auto h = rt_.spawn(wait_for, std::ref(never));
    EXPECT_TRUE(run([&]() -> task<bool> {
        h.terminate();
        co_return co_await ended_terminated(h);
    }()));
}

TEST_F(JoinHandleTest, TerminatedIsASystemErrorWithTheTerminatedCode) {
    coronet::event never;
    auto h = rt_.spawn(wait_for, std::ref(never));
    h.terminate();
    try {
        h.wait();
        ADD_FAILURE() << "wait() returned for a terminated coroutine";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), coronet::errc::terminated);
    }
}

TEST_F(JoinHandleTest, JoinWaitsForACoroutineOnAnotherShard) {
    auto h = rt_.spawn_on(0, []() -> task<std::pair<unsigned, unsigned>> {
        coronet::event go;
        auto child = coronet::spawn_on(1, [&go]() -> task<unsigned> {
            co_await go.wait();
            co_return coronet::this_shard();
        });
        // Queued behind this coroutine: it lets the child end only once the
        // join below has suspended.
        auto starter = coronet::spawn([&go]() -> task<void> {
            go.set();
            co_return;
        });
        unsigned there = co_await child.join();
        co_await starter.join();
        co_return std::pair{there, coronet::this_shard()};
    });
    EXPECT_EQ(h.wait(), std::pair(1u, 0u));
}

TEST_F(JoinHandleTest, JoiningAnEndedCoroutineReturnsAtOnce) {
    EXPECT_EQ(run([]() -> task<int> {
                  auto h = coronet::spawn(identity, 8);
                  co_await coronet::yield();  // it runs to its end meanwhile
                  EXPECT_TRUE(h.done());
                  co_return co_await h.join();
              }()),
              8);
}

TEST_F(JoinHandleTest, WaitBlocksAPlainThreadUntilTheCoroutineEnds) {
    coronet::event go;
    auto h = rt_.spawn(value_once_set, std::ref(go), 9);
    int got = 0;
    std::thread waiter([&] { got = h.wait(); });
    EXPECT_FALSE(h.done());
    go.set();
    waiter.join();
    EXPECT_EQ(got, 9);
    EXPECT_TRUE(h.done());
}

TEST_F(JoinHandleTest, WaitRethrowsTheExceptionThatEndedTheCoroutine) {
    auto h = rt_.spawn([]() -> task<void> {
        co_await coronet::yield();
        throw std::invalid_argument("bad");
    });
    EXPECT_THROW(h.wait(), std::invalid_argument);
}

TEST_F(JoinHandleTest, DoneTurnsTrueWhenTheCoroutineEnds) {
    coronet::event go;
    auto h = rt_.spawn(value_once_set, std::ref(go), 1);
    EXPECT_FALSE(h.done());
    go.set();
    EXPECT_EQ(h.wait(), 1);
    EXPECT_TRUE(h.done());
}

TEST_F(JoinHandleTest, IdsTellCoroutinesApartEvenWhenASlotIsReused) {
    coronet::event go;
    auto a = rt_.spawn_on(0, value_once_set, std::ref(go), 1);
    auto b = rt_.spawn_on(0, value_once_set, std::ref(go), 2);
    EXPECT_EQ(a.id().shard, 0u);
    EXPECT_NE(a.id(), b.id());
    go.set();
    a.wait();
    b.wait();
    // Later coroutines on the same shard may take the freed slots, not the ids.
    for (int i = 0; i < 4; ++i) {
        auto c = rt_.spawn_on(0, identity, i);
        EXPECT_NE(c.id(), a.id());
        EXPECT_NE(c.id(), b.id());
        c.wait();
    }
}

TEST_F(JoinHandleTest, AMovedHandleTakesTheCoroutineWithIt) {
    auto a = rt_.spawn(identity, 3);
    auto id = a.id();
    coronet::join_handle<int> b = std::move(a);
    EXPECT_FALSE(a.valid());
    ASSERT_TRUE(b.valid());
    EXPECT_EQ(b.id(), id);
    EXPECT_EQ(b.wait(), 3);
}

TEST_F(JoinHandleTest, DroppingTheHandleLeavesTheCoroutineRunning) {
    coronet::event go;
    coronet::event finished;
    rt_.spawn([&]() -> task<void> {
        co_await go.wait();
        finished.set();
    });
    go.set();
    EXPECT_TRUE(run(finished.wait(10s)));
}

// ------------------------------------------------------------------ terminate

TEST_F(JoinHandleTest, TerminateCancelsASleepAndUnwindsTheCoroutine) {
    std::atomic<int> unwound{0};
    std::atomic<bool> woke{false};
    std::latch asleep(1);
    auto h = rt_.spawn([&]() -> task<void> {
        destruction_probe probe(unwound);
        asleep.count_down();
        co_await coronet::sleep(24h);
        woke = true;
    });
    asleep.wait();
    h.terminate();
    EXPECT_THROW(h.wait(), coronet::terminated);
    EXPECT_EQ(unwound.load(), 1);
    EXPECT_FALSE(woke.load());
}

TEST_F(JoinHandleTest, TerminateTakesAWaiterOutOfTheEvent) {
    coronet::event ev;
    std::atomic<int> unwound{0};
    std::latch waiting(2);
    auto doomed = rt_.spawn_on(0, [&]() -> task<void> {
        destruction_probe probe(unwound);
        waiting.count_down();
        co_await ev.wait();
        ADD_FAILURE() << "a terminated waiter was woken";
    });
    auto other = rt_.spawn_on(1, [&]() -> task<int> {
        waiting.count_down();
        co_await ev.wait();
        co_return 1;
    });
    waiting.wait();
    doomed.terminate();
    EXPECT_THROW(doomed.wait(), coronet::terminated);
    EXPECT_EQ(unwound.load(), 1);
    ev.set();  // must not reach the frame of the terminated waiter
    EXPECT_EQ(other.wait(), 1);
}

TEST_F(JoinHandleTest, TerminateEndsAJoinButNotTheJoinedCoroutine) {
    coronet::event go;
    std::atomic<int> unwound{0};
    std::latch joining(1);
    auto child = rt_.spawn_on(1, value_once_set, std::ref(go), 5);
    auto joiner = rt_.spawn_on(0, [&]() -> task<int> {
        destruction_probe probe(unwound);
        joining.count_down();
        co_return co_await child.join();
    });
    joining.wait();
    joiner.terminate();
    EXPECT_THROW(joiner.wait(), coronet::terminated);
    EXPECT_EQ(unwound.load(), 1);
    EXPECT_FALSE(child.done());
    go.set();
    EXPECT_EQ(child.wait(), 5);
}

TEST_F(JoinHandleTest, ACoroutineTerminatedBeforeItStartedRunsNoneOfItsBody) {
    std::atomic<bool> ran{false};
    std::atomic<int> arguments_destroyed{0};
    EXPECT_TRUE(run([&]() -> task<bool> {
        auto h = coronet::spawn(
            [&ran](destruction_probe) -> task<void> {
                ran = true;
                co_return;
            },
            destruction_probe(arguments_destroyed));
        h.terminate();  // on this shard, before the new coroutine had a turn
        co_return co_await ended_terminated(h);
    }()));
    EXPECT_FALSE(ran.load());
    EXPECT_EQ(arguments_destroyed.load(), 1);
}

TEST_F(JoinHandleTest, ATerminatedCoroutineThatCatchesItIsTerminatedAgainAtItsNextSuspension) {
    coronet::event never;
    std::atomic<int> caught{0};
    std::latch waiting(1);
    auto h = rt_.spawn([&]() -> task<void> {
        try {
            waiting.count_down();
            co_await never.wait();
        } catch (const coronet::terminated&) {
            ++caught;
        }
        co_await coronet::yield();
        ADD_FAILURE() << "a terminated coroutine went on past a suspension point";
    });
    waiting.wait();
    h.terminate();
    EXPECT_THROW(h.wait(), coronet::terminated);
    EXPECT_EQ(caught.load(), 1);
}

TEST_F(JoinHandleTest, TerminatingAnEndedCoroutineLeavesItsResult) {
    EXPECT_EQ(run([]() -> task<int> {
                  auto h = coronet::spawn(identity, 4);
                  co_await coronet::yield();
                  EXPECT_TRUE(h.done());
                  h.terminate();
                  co_return co_await h.join();
              }()),
              4);
}

TEST_F(JoinHandleTest, TerminateFromAnotherShardUnwindsTheCoroutine) {
    coronet::event never;
    std::atomic<int> unwound{0};
    std::latch waiting(1);
    auto victim = rt_.spawn_on(1, [&]() -> task<void> {
        destruction_probe probe(unwound);
        waiting.count_down();
        co_await never.wait();
    });
    waiting.wait();
    EXPECT_TRUE(rt_.spawn_on(0,
                             [&]() -> task<bool> {
                                 victim.terminate();
                                 co_return co_await ended_terminated(victim);
                             })
                    .wait());
    EXPECT_EQ(unwound.load(), 1);
}

// ------------------------------------------------------------------ daemons

TEST_F(JoinHandleTest, ADaemonIsNotWaitedForByRun) {
    coronet::event never;
    auto h = rt_.spawn(wait_for, std::ref(never));
    h.set_daemon();
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_FALSE(h.done());
    rt_.stop();
    EXPECT_THROW(h.wait(), coronet::terminated);
}

TEST_F(JoinHandleTest, ClearingTheDaemonFlagMakesRunWaitAgain) {
    std::atomic<bool> ended{false};
    auto h = rt_.spawn([&]() -> task<void> {
        co_await coronet::sleep(30ms);
        ended = true;
    });
    h.set_daemon();
    h.set_daemon(false);
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_TRUE(ended.load());
}

TEST_F(JoinHandleTest, SettingTheDaemonFlagTwiceCountsOnce) {
    coronet::event never;
    std::atomic<bool> ended{false};
    auto daemon = rt_.spawn(wait_for, std::ref(never));
    daemon.set_daemon();
    daemon.set_daemon();
    rt_.spawn([&]() -> task<void> {
        co_await coronet::sleep(30ms);
        ended = true;
    });
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_TRUE(ended.load()) << "run() returned before a non-daemon coroutine ended";
    rt_.stop();
}

// A coroutine spawned from its own shard is counted on that shard; these
// change its daemon flag there and from another shard.

TEST_F(JoinHandleTest, ADaemonMadeOnItsOwnShardIsNotWaitedForByRun) {
    coronet::event never;
    rt_.spawn_on(0, [&]() -> task<void> {
        coronet::spawn(wait_for, std::ref(never)).set_daemon();
        co_return;
    });
    EXPECT_EQ(rt_.run(), 0);
    rt_.stop();
}

TEST_F(JoinHandleTest, ADaemonMadeFromAnotherShardIsNotWaitedForByRun) {
    coronet::event never;
    rt_.spawn_on(0, [&]() -> task<void> {
        auto h = coronet::spawn(wait_for, std::ref(never));
        co_await coronet::submit_to(1, [&h] { h.set_daemon(); });
    });
    EXPECT_EQ(rt_.run(), 0);
    rt_.stop();
}

TEST_F(JoinHandleTest, ClearingTheDaemonFlagFromAnotherShardMakesRunWaitAgain) {
    std::atomic<bool> ended{false};
    rt_.spawn_on(0, [&]() -> task<void> {
        auto h = coronet::spawn([&]() -> task<void> {
            co_await coronet::sleep(30ms);
            ended = true;
        });
        h.set_daemon();  // on its shard: no longer counted there
        co_await coronet::submit_to(1, [&h] { h.set_daemon(false); });
    });
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_TRUE(ended.load()) << "run() returned before a non-daemon coroutine ended";
}

TEST_F(JoinHandleTest, ADaemonFlagSetAndClearedFromAnotherShardLeavesTheCoroutineWaitedFor) {
    std::atomic<bool> ended{false};
    rt_.spawn_on(0, [&]() -> task<void> {
        auto h = coronet::spawn([&]() -> task<void> {
            co_await coronet::sleep(30ms);
            ended = true;
        });
        co_await coronet::submit_to(1, [&h] {
            h.set_daemon();       // its shard has yet to take it out of its count...
            h.set_daemon(false);  // ...and must not, now
        });
    });
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_TRUE(ended.load()) << "run() returned before a non-daemon coroutine ended";
}

TEST_F(JoinHandleTest, ChangingTheDaemonFlagOfAnEndedCoroutineChangesNothing) {
    auto h = rt_.spawn(identity, 1);
    EXPECT_EQ(h.wait(), 1);
    h.set_daemon();
    h.set_daemon(false);
    h.set_daemon();
    std::atomic<bool> ended{false};
    rt_.spawn([&]() -> task<void> {
        co_await coronet::sleep(30ms);
        ended = true;
    });
    EXPECT_EQ(rt_.run(), 0);
    EXPECT_TRUE(ended.load());
}

}  // namespace
