#include "actors_test_support.hpp"

#include <any>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::exit_notice;
using coronet::exit_reason;
using coronet::message;
using coronet::pid;
using coronet::send_result;
using coronet::task;
using coronet::testing::brief;
using coronet::testing::go;
using coronet::testing::patience;
using coronet::testing::ready;

class SelfTest : public coronet::testing::actors_test {};

constexpr unsigned both_shards[] = {0, 1};

/// Receives `n` ints and returns them in the order received.
task<std::vector<int>> collect(coronet::self self, int n) {
    std::vector<int> got;
    for (int i = 0; i < n; ++i) {
        message m = co_await self.receive();
        got.push_back(m.get<int>());
    }
    co_return got;
}

/// Waits for a `go`, then returns `value`.
task<int> return_on_go(coronet::self self, int value) {
    co_await self.receive<go>();
    co_return value;
}

/// Waits for a `go`, then throws.
task<int> throw_on_go(coronet::self self) {
    co_await self.receive<go>();
    throw std::runtime_error("boom");
}

/// Tells `test` it is ready, then waits for an event before reading its mailbox.
task<std::vector<int>> full_mailbox_reader(coronet::self self, pid test, coronet::event* go_on) {
    self.set_mailbox_capacity(1);
    test.send(ready{self.pid()});
    co_await go_on->wait();
    std::vector<int> got{static_cast<int>(self.mailbox_size())};
    message first = co_await self.receive();
    got.push_back(first.get<int>());
    test.send(ready{self.pid()});
    message second = co_await self.receive();
    got.push_back(second.get<int>());
    co_return got;
}

// ------------------------------------------------------------------ receive

TEST_F(SelfTest, ReceiveReturnsMessagesInTheOrderSent) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s]() -> task<std::vector<int>> {
            auto h = coronet::spawn_on(s, collect, 100);
            for (int i = 0; i < 100; ++i) EXPECT_EQ(coronet::send(h, i), send_result::ok);
            co_return co_await h.join();
        });
        ASSERT_EQ(got.size(), 100u);
        for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], i);
    }
}

TEST_F(SelfTest, ReceiveWaitsUntilAMessageArrives) {
    for (unsigned s : both_shards) {
        int got = run_on(0, [s](coronet::self self) -> task<int> {
            auto h = coronet::spawn_on(
                s,
                [](coronet::self me, pid test) -> task<int> {
                    test.send(ready{me.pid()});
                    message m = co_await me.receive();
                    co_return m.get<int>();
                },
                self.pid());
            co_await self.receive<ready>();
            EXPECT_FALSE(h.done());
            coronet::send(h, 5);
            co_return co_await h.join();
        });
        EXPECT_EQ(got, 5);
    }
}

TEST_F(SelfTest, ReceiveWithATimeoutReturnsNulloptWhenNothingComes) {
    run_on(1, [](coronet::self self) -> task<void> {
        auto start = std::chrono::steady_clock::now();
        auto m = co_await self.receive(brief);
        EXPECT_FALSE(m);
        EXPECT_GE(std::chrono::steady_clock::now() - start, brief);
    });
}

TEST_F(SelfTest, ReceiveWithATimeoutReturnsAMessageThatComesInTime) {
    for (unsigned s : both_shards) {
        int got = run_on(0, [s](coronet::self self) -> task<int> {
            auto h = coronet::spawn_on(
                s,
                [](coronet::self me, pid test) -> task<int> {
                    test.send(ready{me.pid()});
                    auto m = co_await me.receive(patience);
                    co_return m ? m->get<int>() : -1;
                },
                self.pid());
            co_await self.receive<ready>();
            coronet::send(h, 8);
            co_return co_await h.join();
        });
        EXPECT_EQ(got, 8);
    }
}

TEST_F(SelfTest, AMailboxIsMadeOnlyWhenFirstNeeded) {
    run_on(1, [](coronet::self self) -> task<void> {
        EXPECT_EQ(coronet::detail::find_mailbox(self.control()), nullptr);
        EXPECT_EQ(self.mailbox_size(), 0u);
        self.pid().send(1);
        EXPECT_NE(coronet::detail::find_mailbox(self.control()), nullptr);
        EXPECT_EQ(self.mailbox_size(), 1u);
        co_return;
    });
}

TEST_F(SelfTest, MailboxSizeCountsTheQueuedMessages) {
    for (unsigned s : both_shards) {
        auto sizes = run_on(0, [s](coronet::self self) -> task<std::vector<std::size_t>> {
            coronet::event go_on;
            auto h = coronet::spawn_on(
                s,
                [](coronet::self me, pid test,
                   coronet::event* go_on) -> task<std::vector<std::size_t>> {
                    me.set_mailbox_capacity(0);  // makes the mailbox: messages are counted
                    test.send(ready{me.pid()});
                    co_await go_on->wait();
                    std::vector<std::size_t> sizes{me.mailbox_size()};
                    co_await me.receive();
                    sizes.push_back(me.mailbox_size());
                    co_return sizes;
                },
                self.pid(), &go_on);
            co_await self.receive<ready>();
            // Delivered, not sent: a message sent across shards is on its way
            // (not yet in the mailbox, not counted) until its shard queues it.
            for (int i = 0; i < 3; ++i) EXPECT_TRUE(co_await coronet::deliver(h, i, 10s));
            go_on.set();
            co_return co_await h.join();
        });
        EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 2}));
    }
}

// ------------------------------------------------------------------ selective receive

TEST_F(SelfTest, SelectiveReceiveByTypeLeavesTheOthersQueuedInOrder) {
    run_on(0, [](coronet::self self) -> task<void> {
        pid me = self.pid();
        me.send(1);
        me.send(std::string("a"));
        me.send(2);
        me.send(std::string("b"));
        me.send(2.5);
        std::string a = co_await self.receive<std::string>();
        double d = co_await self.receive<double>();
        EXPECT_EQ(a, "a");
        EXPECT_EQ(d, 2.5);
        EXPECT_EQ(self.mailbox_size(), 3u);
        message m1 = co_await self.receive();
        message m2 = co_await self.receive();
        message m3 = co_await self.receive();
        EXPECT_EQ(m1.get<int>(), 1);
        EXPECT_EQ(m2.get<int>(), 2);
        EXPECT_EQ(m3.get<std::string>(), "b");
    });
}

TEST_F(SelfTest, SelectiveReceiveKeepsTheOrderOfAQueueThatGrewAndWrapped) {
    run_on(0, [](coronet::self self) -> task<void> {
        pid me = self.pid();
        int next = 0;  // the next int expected
        int sent = 0;
        for (int round = 0; round < 3; ++round) {
            // Some ints are taken before more are queued, so the ring wraps.
            for (int i = 0; i < 300; ++i) me.send(sent++);
            me.send(std::string("mid"));
            for (int i = 0; i < 700; ++i) me.send(sent++);
            std::string s = co_await self.receive<std::string>();
            EXPECT_EQ(s, "mid");
            for (int i = 0; i < 500; ++i) {
                message m = co_await self.receive();
                EXPECT_EQ(m.get<int>(), next++);
            }
        }
        EXPECT_EQ(self.mailbox_size(), static_cast<std::size_t>(sent - next));
        while (next < sent) {
            message m = co_await self.receive();
            EXPECT_EQ(m.get<int>(), next++);
        }
    });
}

TEST_F(SelfTest, SelectiveReceiveWaitsForAMatchingMessage) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            auto h = coronet::spawn_on(
                s,
                [](coronet::self me, pid test) -> task<std::vector<int>> {
                    test.send(ready{me.pid()});
                    std::string text = co_await me.receive<std::string>();
                    std::vector<int> got{static_cast<int>(text.size())};
                    for (int i = 0; i < 3; ++i) {
                        message m = co_await me.receive();
                        got.push_back(m.get<int>());
                    }
                    co_return got;
                },
                self.pid());
            co_await self.receive<ready>();
            coronet::send(h, 1);
            coronet::send(h, 2);
            coronet::send(h, std::string("four"));
            coronet::send(h, 3);
            co_return co_await h.join();
        });
        EXPECT_EQ(got, (std::vector<int>{4, 1, 2, 3}));
    }
}

TEST_F(SelfTest, SelectiveReceiveByPredicateTakesTheFirstMatch) {
    run_on(1, [](coronet::self self) -> task<void> {
        for (int n : {3, 12, 5, 40}) self.pid().send(n);
        message big = co_await self.receive_if([](const message& m) {
            auto n = m.get_if<int>();
            return n && *n > 9;
        });
        EXPECT_EQ(big.get<int>(), 12);
        message next = co_await self.receive_if([](const message& m) { return m.get<int>() > 9; });
        EXPECT_EQ(next.get<int>(), 40);
        message first = co_await self.receive();
        message second = co_await self.receive();
        EXPECT_EQ(first.get<int>(), 3);
        EXPECT_EQ(second.get<int>(), 5);
    });
}

TEST_F(SelfTest, SelectiveReceiveWithATimeoutLeavesTheMailboxAsItWas) {
    run_on(0, [](coronet::self self) -> task<void> {
        self.pid().send(1);
        self.pid().send(2);
        auto text = co_await self.receive<std::string>(brief);
        EXPECT_FALSE(text);
        auto none =
            co_await self.receive_if([](const message& m) { return m.is<double>(); }, brief);
        EXPECT_FALSE(none);
        EXPECT_EQ(self.mailbox_size(), 2u);
        auto one = co_await self.receive_if([](const message& m) { return m.is<int>(); }, brief);
        EXPECT_TRUE(one && one->get<int>() == 1);
    });
}

// ------------------------------------------------------------------ capacity

TEST_F(SelfTest, SendReportsFullWhenTheMailboxIsAtCapacity) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            coronet::event go_on;
            auto h = coronet::spawn_on(
                s,
                [](coronet::self me, pid test, coronet::event* go_on) -> task<std::vector<int>> {
                    me.set_mailbox_capacity(2);
                    test.send(ready{me.pid()});
                    co_await go_on->wait();
                    std::vector<int> got{static_cast<int>(me.mailbox_size())};
                    for (int i = 0; i < 2; ++i) {
                        message m = co_await me.receive();
                        got.push_back(m.get<int>());
                    }
                    co_return got;
                },
                self.pid(), &go_on);
            co_await self.receive<ready>();
            EXPECT_EQ(coronet::send(h, 1), send_result::ok);
            EXPECT_EQ(coronet::send(h, 2), send_result::ok);
            EXPECT_EQ(coronet::send(h, 3), send_result::full);
            go_on.set();
            co_return co_await h.join();
        });
        EXPECT_EQ(got, (std::vector<int>{2, 1, 2}));
    }
}

TEST_F(SelfTest, DeliverToAFullMailboxWaitsForRoom) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            coronet::event go_on;
            auto r = coronet::spawn_on(s, full_mailbox_reader, self.pid(), &go_on);
            co_await self.receive<ready>();
            EXPECT_EQ(coronet::send(r, 1), send_result::ok);
            EXPECT_EQ(coronet::send(r, 2), send_result::full);
            auto d = coronet::spawn(
                [](pid to) -> task<bool> {
                    bool delivered = co_await coronet::deliver(to, 3, patience);
                    co_return delivered;
                },
                pid(r));
            co_await coronet::testing::let_others_run();
            EXPECT_FALSE(d.done());  // the mailbox stays full until go_on
            go_on.set();
            EXPECT_TRUE(co_await d.join());
            co_await self.receive<ready>();
            co_return co_await r.join();
        });
        EXPECT_EQ(got, (std::vector<int>{1, 1, 3}));
    }
}

TEST_F(SelfTest, DeliverToAFullMailboxTimesOutAndQueuesNothing) {
    for (unsigned s : both_shards) {
        auto got = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            coronet::event go_on;
            auto r = coronet::spawn_on(s, full_mailbox_reader, self.pid(), &go_on);
            co_await self.receive<ready>();
            EXPECT_EQ(coronet::send(r, 1), send_result::ok);
            auto start = std::chrono::steady_clock::now();
            bool delivered = co_await coronet::deliver(r, 2, brief);
            EXPECT_FALSE(delivered);
            EXPECT_GE(std::chrono::steady_clock::now() - start, brief);
            go_on.set();
            co_await self.receive<ready>();  // it took the first message
            EXPECT_EQ(coronet::send(r, 99), send_result::ok);
            co_return co_await r.join();
        });
        EXPECT_EQ(got, (std::vector<int>{1, 1, 99}));
    }
}

// ------------------------------------------------------------------ names

TEST_F(SelfTest, RegisterNameRefusesANameThatIsTaken) {
    run_on(0, [](coronet::self self) -> task<void> {
        EXPECT_TRUE(self.register_name("taken"));
        EXPECT_FALSE(self.register_name("taken"));
        auto other = [](coronet::self me) -> task<bool> { co_return me.register_name("taken"); };
        auto first = coronet::spawn_on(1, other);
        EXPECT_FALSE(co_await first.join());
        EXPECT_TRUE(self.unregister_name("taken"));
        auto second = coronet::spawn_on(1, other);
        EXPECT_TRUE(co_await second.join());
    });
}

TEST_F(SelfTest, UnregisterNameGivesUpOnlyANameItHolds) {
    run_on(1, [](coronet::self self) -> task<void> {
        EXPECT_FALSE(self.unregister_name("never"));
        auto holder = coronet::spawn_on(
            0,
            [](coronet::self me, pid test) -> task<void> {
                me.register_name("theirs");
                test.send(ready{me.pid()});
                co_await me.receive<go>();
            },
            self.pid());
        co_await self.receive<ready>();
        EXPECT_FALSE(self.unregister_name("theirs"));
        auto found = co_await coronet::locate("theirs", 0ms);
        EXPECT_EQ(found, std::optional<pid>(holder));
        EXPECT_TRUE(self.register_name("mine"));
        EXPECT_TRUE(self.unregister_name("mine"));
        auto gone = co_await coronet::locate("mine", 0ms);
        EXPECT_FALSE(gone);
        coronet::send(holder, go{});
        co_await holder.join();
    });
}

TEST_F(SelfTest, NamesAreFreedWhenTheCoroutineEnds) {
    for (unsigned s : both_shards) {
        run_on(0, [s]() -> task<void> {
            auto holder = coronet::spawn_on(s, [](coronet::self me) -> task<bool> {
                co_return me.register_name("short-lived") && me.register_name("alias");
            });
            EXPECT_TRUE(co_await holder.join());
            auto first = co_await coronet::locate("short-lived", 0ms);
            auto second = co_await coronet::locate("alias", 0ms);
            EXPECT_FALSE(first);
            EXPECT_FALSE(second);
            auto next = coronet::spawn_on(1 - s, [](coronet::self me) -> task<bool> {
                bool ok = me.register_name("short-lived");
                co_return ok;
            });
            EXPECT_TRUE(co_await next.join());
        });
    }
}

// ------------------------------------------------------------------ monitors

TEST_F(SelfTest, MonitorReportsANormalExitWithItsValue) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto target = coronet::spawn_on(s, return_on_go, 42);
            self.monitor(target);
            coronet::send(target, go{});
            auto n = co_await self.receive<exit_notice>(patience);
            EXPECT_TRUE(n);
            if (n) {
                EXPECT_EQ(n->who, pid(target));
                EXPECT_EQ(n->reason, exit_reason::normal);
                EXPECT_EQ(std::any_cast<int>(n->value), 42);
                EXPECT_TRUE(n->error.empty());
            }
            EXPECT_EQ(co_await target.join(), 42);
        });
    }
}

TEST_F(SelfTest, MonitorReportsAnExceptionWithItsTypeAndMessage) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto target = coronet::spawn_on(s, throw_on_go);
            self.monitor(target);
            coronet::send(target, go{});
            auto n = co_await self.receive<exit_notice>(patience);
            EXPECT_TRUE(n);
            if (n) {
                EXPECT_EQ(n->who, pid(target));
                EXPECT_EQ(n->reason, exit_reason::exception);
                EXPECT_EQ(n->error_type, "std::runtime_error");
                EXPECT_EQ(n->error, "boom");
                EXPECT_FALSE(n->value.has_value());
            }
            try {
                co_await target.join();
                ADD_FAILURE() << "the join did not rethrow";
            } catch (const std::runtime_error& e) {
                EXPECT_STREQ(e.what(), "boom");
            }
        });
    }
}

TEST_F(SelfTest, MonitorReportsATerminatedCoroutine) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto target = coronet::spawn_on(s, return_on_go, 1);
            self.monitor(target);
            EXPECT_TRUE(coronet::terminate(target));
            auto n = co_await self.receive<exit_notice>(patience);
            EXPECT_TRUE(n);
            if (n) {
                EXPECT_EQ(n->who, pid(target));
                EXPECT_EQ(n->reason, exit_reason::terminated);
            }
            try {
                co_await target.join();
                ADD_FAILURE() << "the join did not throw";
            } catch (const coronet::terminated&) {
            }
        });
    }
}

TEST_F(SelfTest, MonitorOfAnEndedCoroutineReportsGoneAtOnce) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto target = coronet::spawn_on(s, [](coronet::self) -> task<int> { co_return 3; });
            EXPECT_EQ(co_await target.join(), 3);
            self.monitor(target);
            EXPECT_EQ(self.mailbox_size(), 1u);  // already there
            auto n = co_await self.receive<exit_notice>(0ms);
            EXPECT_TRUE(n);
            if (n) {
                EXPECT_EQ(n->who, pid(target));
                EXPECT_EQ(n->reason, exit_reason::gone);
            }
        });
    }
}

TEST_F(SelfTest, MonitorOfANullPidReportsGone) {
    run_on(1, [](coronet::self self) -> task<void> {
        self.monitor(pid());
        auto n = co_await self.receive<exit_notice>(0ms);
        EXPECT_TRUE(n && n->reason == exit_reason::gone);
    });
}

TEST_F(SelfTest, EveryMonitorGetsANotice) {
    for (unsigned s : both_shards) {
        auto reasons = run_on(0, [s](coronet::self self) -> task<std::vector<int>> {
            auto target = coronet::spawn_on(s, return_on_go, 5);
            auto watch = [](coronet::self me, pid test, pid target) -> task<int> {
                me.monitor(target);
                test.send(ready{me.pid()});
                auto n = co_await me.receive<exit_notice>(patience);
                co_return n && n->who == target ? std::any_cast<int>(n->value) : -1;
            };
            auto w0 = coronet::spawn_on(0, watch, self.pid(), pid(target));
            auto w1 = coronet::spawn_on(1, watch, self.pid(), pid(target));
            co_await self.receive<ready>();
            co_await self.receive<ready>();
            // Both monitors were set on the target's shard before this arrives there.
            coronet::send(target, go{});
            std::vector<int> got;
            got.push_back(co_await w0.join());
            got.push_back(co_await w1.join());
            got.push_back(co_await target.join());
            co_return got;
        });
        EXPECT_EQ(reasons, (std::vector<int>{5, 5, 5}));
    }
}

TEST_F(SelfTest, MonitorOfACoroutineThatEndsMeanwhileStillReports) {
    int rounds = coronet::testing::actors_under_tsan ? 200 : 2000;
    int missing = run_on(0, [rounds](coronet::self self) -> task<int> {
        int missing = 0;
        for (int i = 0; i < rounds && missing == 0; ++i) {
            auto target = coronet::spawn_on(1, []() -> task<int> { co_return 1; });
            self.monitor(target);
            auto n = co_await self.receive<exit_notice>(5s);
            if (!n || n->who != pid(target)) ++missing;
            co_await target.join();
        }
        co_return missing;
    });
    EXPECT_EQ(missing, 0);
}

}  // namespace
