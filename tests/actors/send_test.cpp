#include "actors_test_support.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::message;
using coronet::pid;
using coronet::send_result;
using coronet::task;
using coronet::testing::go;
using coronet::testing::patience;
using coronet::testing::ready;

class SendTest : public coronet::testing::actors_test {};

constexpr unsigned both_shards[] = {0, 1};

task<void> nothing() {
    co_return;
}

/// Receives until a `go`; how many ints came in order 0, 1, 2, ... (-1 at the
/// first one out of order).
task<int> count_in_order(coronet::self self) {
    int next = 0;
    for (;;) {
        message m = co_await self.receive();
        if (m.is<go>()) co_return next;
        if (m.get<int>() != next) co_return -1;
        ++next;
    }
}

/// One of several senders' numbered messages.
struct numbered {
    int sender;
    int seq;
};

/// Receives `n` numbered messages; true if each sender's came in order.
task<bool> in_order_per_sender(coronet::self self, int senders, int n) {
    std::vector<int> next(senders, 0);
    bool ordered = true;
    for (int i = 0; i < n; ++i) {
        numbered m = co_await self.receive<numbered>();
        ordered = ordered && m.seq == next[m.sender];
        next[m.sender] = m.seq + 1;
    }
    co_return ordered;
}

/// What a test throws into a coroutine.
struct injected_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Waits in receive; what it caught, if an injected_error was thrown into it.
task<std::string> catch_in_receive(coronet::self self, pid test) {
    test.send(ready{self.pid()});
    try {
        co_await self.receive();
    } catch (const injected_error& e) {
        co_return e.what();
    }
    co_return "nothing";
}

/// Waits in receive for as long as it takes.
task<void> wait_in_receive(coronet::self self, pid test) {
    test.send(ready{self.pid()});
    co_await self.receive();
}

// ------------------------------------------------------------------ send

TEST_F(SendTest, SendDoesNotWaitForTheReceiver) {
    for (unsigned s : both_shards) {
        auto h = rt_.spawn_on(s, count_in_order);
        // From outside the runtime, and before the receiver has even started.
        for (int i = 0; i < 3; ++i) EXPECT_EQ(coronet::send(h, i), send_result::ok);
        EXPECT_EQ(pid(h).send(go{}), send_result::ok);
        EXPECT_EQ(h.wait(), 3);
    }
}

TEST_F(SendTest, MessagesFromOneSenderArriveInOrderAcrossShards) {
    constexpr int n = 10'000;
    for (unsigned from : both_shards) {
        int received = run_on(from, [from]() -> task<int> {
            auto r = coronet::spawn_on(1 - from, count_in_order);
            for (int i = 0; i < n; ++i) coronet::send(r, i);
            coronet::send(r, go{});
            co_return co_await r.join();
        });
        EXPECT_EQ(received, n);
    }
}

TEST_F(SendTest, MessagesFromOutsideTheRuntimeArriveInOrder) {
    auto r = rt_.spawn_on(1, count_in_order);
    for (int i = 0; i < 10'000; ++i) coronet::send(r, i);
    coronet::send(r, go{});
    EXPECT_EQ(r.wait(), 10'000);
}

TEST_F(SendTest, MessagesOfSeveralSendersKeepEachSendersOrder) {
    // Each receive<T>() that finds its message queued completes at once: where
    // that costs a stack frame (no tail calls), fewer messages.
    constexpr int per_sender = coronet::testing::no_tail_calls ? 500 : 5'000;
    for (unsigned s : both_shards) {
        bool ordered = run_on(0, [s]() -> task<bool> {
            auto r = coronet::spawn_on(s, in_order_per_sender, 4, 4 * per_sender);
            std::vector<coronet::join_handle<void>> senders;
            for (int id = 0; id < 4; ++id)
                senders.push_back(coronet::spawn_on(
                    id % 2,
                    [](pid to, int id) -> task<void> {
                        for (int i = 0; i < per_sender; ++i) coronet::send(to, numbered{id, i});
                        co_return;
                    },
                    pid(r), id));
            for (auto& h : senders) co_await h.join();
            co_return co_await r.join();
        });
        EXPECT_TRUE(ordered);
    }
}

TEST_F(SendTest, PingPongAcrossShardsLosesAndReordersNothing) {
    // Each side waits for the other's answer, so the shards keep going idle
    // and being woken: by a message that comes while they spin, or after
    // they have blocked.
    constexpr int rounds = coronet::testing::actors_under_tsan ? 2'000 : 50'000;
    int answered = run_on(0, [](coronet::self self) -> task<int> {
        auto echo = coronet::spawn_on(
            1,
            [](coronet::self me, pid back) -> task<void> {
                for (int i = 0; i < rounds; ++i) back.send(co_await me.receive());
            },
            self.pid());
        int in_order = 0;
        for (int i = 0; i < rounds; ++i) {
            EXPECT_EQ(coronet::send(echo, i), send_result::ok);
            message m = co_await self.receive();
            if (m.get<int>() == i) ++in_order;
        }
        co_await echo.join();
        co_return in_order;
    });
    EXPECT_EQ(answered, rounds);
}

TEST_F(SendTest, MessagesToACoroutineThatEndsOnTheirWayAreReleased) {
    auto token = std::make_shared<int>(0);
    bool all_ok = run_on(0, [token]() -> task<bool> {
        auto r = coronet::spawn_on(1, [](coronet::self me) -> task<void> {
            co_await me.receive();  // ends at the first message: the others find it gone
        });
        bool ok = true;
        for (int i = 0; i < 1'000; ++i) ok = coronet::send(r, token) != send_result::full && ok;
        co_await r.join();
        // Work posted from here to shard 1 runs in order: once this has run
        // there, so have the messages.
        co_await coronet::submit_to(1, [] {});
        co_return ok;
    });
    EXPECT_TRUE(all_ok);
    EXPECT_EQ(token.use_count(), 1);
}

TEST_F(SendTest, SendToAnEndedCoroutineReportsDead) {
    for (unsigned s : both_shards) {
        auto h = rt_.spawn_on(s, nothing);
        pid p = h;
        h.wait();
        EXPECT_EQ(coronet::send(p, 1), send_result::dead);  // from outside the runtime
        auto from_inside = run_on(
            1 - s, [p]() -> task<send_result> { co_return coronet::send(p, std::string("late")); });
        EXPECT_EQ(from_inside, send_result::dead);
        auto from_its_shard = run_on(s, [p]() -> task<send_result> { co_return p.send(2); });
        EXPECT_EQ(from_its_shard, send_result::dead);
    }
}

// ------------------------------------------------------------------ deliver

TEST_F(SendTest, DeliverReturnsOnceTheMessageIsQueued) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            coronet::event go_on;
            auto r = coronet::spawn_on(
                s,
                [](coronet::self me, pid test, coronet::event* go_on) -> task<std::vector<int>> {
                    test.send(ready{me.pid()});
                    co_await go_on->wait();
                    std::vector<int> got{static_cast<int>(me.mailbox_size())};
                    message m = co_await me.receive();
                    got.push_back(m.get<int>());
                    co_return got;
                },
                self.pid(), &go_on);
            co_await self.receive<ready>();
            bool delivered = co_await coronet::deliver(r, 7, patience);
            EXPECT_TRUE(delivered);
            go_on.set();
            co_return co_await r.join();
        });
        EXPECT_EQ(got, (std::vector<int>{1, 7}));
    }
}

TEST_F(SendTest, DeliverKeepsTheOrderOfTheSendersMessages) {
    for (unsigned s : both_shards) {
        int received = run_on(0, [s]() -> task<int> {
            auto r = coronet::spawn_on(s, count_in_order);
            coronet::send(r, 0);
            bool delivered = co_await coronet::deliver(r, 1, patience);
            EXPECT_TRUE(delivered);
            coronet::send(r, 2);
            coronet::send(r, go{});
            co_return co_await r.join();
        });
        EXPECT_EQ(received, 3);
    }
}

TEST_F(SendTest, DeliverToAnEndedCoroutineReturnsFalse) {
    for (unsigned s : both_shards) {
        bool delivered = run_on(0, [s]() -> task<bool> {
            auto h = coronet::spawn_on(s, nothing);
            co_await h.join();
            bool ok = co_await coronet::deliver(h, 1, patience);
            co_return ok;
        });
        EXPECT_FALSE(delivered);
        EXPECT_FALSE(run_on(1, []() -> task<bool> {
            bool ok = co_await coronet::deliver(pid(), 1, patience);
            co_return ok;
        }));
    }
}

TEST_F(SendTest, DeliverToACoroutineThatEndsWhileItWaitsReturnsFalse) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            coronet::event go_on;
            auto r = coronet::spawn_on(
                s,
                [](coronet::self me, pid test, coronet::event* go_on) -> task<void> {
                    me.set_mailbox_capacity(1);
                    test.send(ready{me.pid()});
                    co_await go_on->wait();  // ends without reading
                },
                self.pid(), &go_on);
            co_await self.receive<ready>();
            EXPECT_EQ(coronet::send(r, 1), send_result::ok);
            auto d = coronet::spawn(
                [](pid to) -> task<bool> {
                    bool ok = co_await coronet::deliver(to, 2, patience);
                    co_return ok;
                },
                pid(r));
            co_await coronet::testing::let_others_run();
            go_on.set();
            auto start = std::chrono::steady_clock::now();
            EXPECT_FALSE(co_await d.join());
            EXPECT_LT(std::chrono::steady_clock::now() - start, patience / 2);
            co_await r.join();
        });
    }
}

// ------------------------------------------------------------------ terminate, throw_to

TEST_F(SendTest, TerminateEndsACoroutineWaitingInReceive) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto r = coronet::spawn_on(s, wait_in_receive, self.pid());
            co_await self.receive<ready>();
            EXPECT_TRUE(coronet::terminate(r));
            try {
                co_await r.join();
                ADD_FAILURE() << "a terminated coroutine returned";
            } catch (const coronet::terminated&) {
            }
            EXPECT_FALSE(coronet::terminate(r));  // it has ended
        });
    }
}

TEST_F(SendTest, TerminateFromOutsideTheRuntime) {
    auto r = rt_.spawn_on(1, count_in_order);
    EXPECT_TRUE(coronet::terminate(r));
    EXPECT_THROW(r.wait(), coronet::terminated);
}

TEST_F(SendTest, ThrowToRaisesTheExceptionWhereTheCoroutineWaits) {
    for (unsigned s : both_shards) {
        auto caught = run_on(0, [s](coronet::self self) -> task<std::string> {
            auto r = coronet::spawn_on(s, catch_in_receive, self.pid());
            co_await self.receive<ready>();
            EXPECT_TRUE(coronet::throw_to(r, std::make_exception_ptr(injected_error("thrown in"))));
            co_return co_await r.join();
        });
        EXPECT_EQ(caught, "thrown in");
    }
}

TEST_F(SendTest, AnExceptionThrownInAndNotCaughtEndsTheCoroutine) {
    for (unsigned s : both_shards) {
        run_on(1 - s, [s](coronet::self self) -> task<void> {
            auto r = coronet::spawn_on(s, wait_in_receive, self.pid());
            co_await self.receive<ready>();
            coronet::throw_to(r, std::make_exception_ptr(std::logic_error("unhandled")));
            try {
                co_await r.join();
                ADD_FAILURE() << "the exception did not end it";
            } catch (const std::logic_error& e) {
                EXPECT_STREQ(e.what(), "unhandled");
            }
            EXPECT_FALSE(coronet::throw_to(r, std::make_exception_ptr(std::logic_error("late"))));
        });
    }
}

}  // namespace
