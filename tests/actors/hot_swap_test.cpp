#include "actors_test_support.hpp"

#include <any>
#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::exit_notice;
using coronet::message;
using coronet::pid;
using coronet::swap_result;
using coronet::task;
using coronet::testing::go;
using coronet::testing::patience;
using coronet::testing::ping;
using coronet::testing::pong;
using coronet::testing::ready;

class HotSwapTest : public coronet::testing::actors_test {};

constexpr unsigned both_shards[] = {0, 1};

/// Answers pings as `version` until a `go`, then returns `version`'s number.
task<int> serve(coronet::self self, std::string version, int number) {
    for (;;) {
        message m = co_await self.receive();
        if (m.is<go>()) co_return number;
        if (auto p = m.get_if<ping>())
            p->reply_to.send(pong{version + " " + self.pid().to_string(), p->n});
    }
}

/// Version 1: accepts swaps (if `swappable`), says it is ready, serves.
task<int> server_v1(coronet::self self, pid test, bool swappable) {
    self.hot_swappable(swappable);
    test.send(ready{self.pid()});
    co_return co_await serve(self, "v1", 1);
}

task<int> server_v2(coronet::self self) {
    co_return co_await serve(self, "v2", 2);
}

task<int> server_v3(coronet::self self) {
    co_return co_await serve(self, "v3", 3);
}

/// The answer of `server` to a ping.
task<std::string> ask(coronet::self& self, pid server, int n) {
    server.send(ping{self.pid(), n});
    pong p = co_await self.receive<pong>();
    EXPECT_EQ(p.n, n);
    co_return p.from;
}

/// Counts its destructions: to see that a swapped-out function was unwound.
struct unwind_probe {
    std::atomic<int>* count;
    ~unwind_probe() { ++*count; }
};

TEST_F(HotSwapTest, AnAcceptedSwapRunsTheNewFunctionUnderTheSamePid) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto server = coronet::spawn_on(s, server_v1, self.pid(), true);
            co_await self.receive<ready>();
            std::string id = pid(server).to_string();
            std::string before = co_await ask(self, server, 1);
            EXPECT_EQ(before, "v1 " + id);
            self.monitor(server);

            auto result =
                co_await coronet::hot_swap(server, [](coronet::self me) { return server_v2(me); });
            EXPECT_EQ(result, swap_result::accepted);
            std::string after = co_await ask(self, server, 2);
            EXPECT_EQ(after, "v2 " + id);

            coronet::send(server, go{});
            EXPECT_EQ(co_await server.join(), 2);
            auto notice = co_await self.receive<exit_notice>(patience);
            EXPECT_TRUE(notice && std::any_cast<int>(notice->value) == 2);
        });
    }
}

TEST_F(HotSwapTest, KeepsTheMailboxAndTakesEffectOnlyAtAReceive) {
    for (unsigned s : both_shards) {
        std::atomic<int> unwound{0};
        auto got = run_on(0, [s, &unwound](coronet::self self) -> task<std::vector<int>> {
            coronet::event go_on;
            auto v1 = [](coronet::self me, pid test, coronet::event* go_on,
                         std::atomic<int>* unwound) -> task<std::vector<int>> {
                unwind_probe probe{unwound};
                me.hot_swappable();
                test.send(ready{me.pid()});
                co_await go_on->wait();  // not a receive: no swap here
                test.send(std::string("still v1"));
                co_await me.receive();  // the swap happens here
                test.send(std::string("v1 got a message"));
                co_return std::vector<int>{};
            };
            auto v2 = [](coronet::self me) -> task<std::vector<int>> {
                std::vector<int> got;
                for (;;) {
                    message m = co_await me.receive();
                    if (m.is<go>()) co_return got;
                    got.push_back(m.get<int>());
                }
            };
            auto server = coronet::spawn_on(s, v1, self.pid(), &go_on, &unwound);
            co_await self.receive<ready>();
            for (int i = 1; i <= 3; ++i) coronet::send(server, i);
            auto result = co_await coronet::hot_swap(server, v2);
            EXPECT_EQ(result, swap_result::accepted);
            EXPECT_EQ(unwound.load(), 0);
            go_on.set();
            std::string said = co_await self.receive<std::string>();
            EXPECT_EQ(said, "still v1");
            coronet::send(server, 4);
            coronet::send(server, go{});
            auto got = co_await server.join();
            EXPECT_EQ(self.mailbox_size(), 0u);  // v1 never got a message
            co_return got;
        });
        EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
        EXPECT_EQ(unwound.load(), 1);
    }
}

TEST_F(HotSwapTest, SwapsACoroutineWaitingInReceiveWithATimeoutAtOnce) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto server = coronet::spawn_on(
                s,
                [](coronet::self me, pid test) -> task<int> {
                    me.hot_swappable();
                    test.send(ready{me.pid()});
                    co_await me.receive(patience);
                    co_return 1;
                },
                self.pid());
            co_await self.receive<ready>();
            auto start = std::chrono::steady_clock::now();
            auto result = co_await coronet::hot_swap(server, server_v2);
            EXPECT_EQ(result, swap_result::accepted);
            std::string after = co_await ask(self, server, 1);
            EXPECT_EQ(after.substr(0, 2), "v2");
            EXPECT_LT(std::chrono::steady_clock::now() - start, patience / 2);
            coronet::send(server, go{});
            EXPECT_EQ(co_await server.join(), 2);
        });
    }
}

TEST_F(HotSwapTest, ASwappedInFunctionCanBeSwappedAgain) {
    run_on(1, [](coronet::self self) -> task<void> {
        auto server = coronet::spawn_on(0, server_v1, self.pid(), true);
        co_await self.receive<ready>();
        auto first = co_await coronet::hot_swap(server, server_v2);
        auto second = co_await coronet::hot_swap(server, server_v3);
        EXPECT_EQ(first, swap_result::accepted);
        EXPECT_EQ(second, swap_result::accepted);
        std::string now = co_await ask(self, server, 1);
        EXPECT_EQ(now.substr(0, 2), "v3");
        coronet::send(server, go{});
        EXPECT_EQ(co_await server.join(), 3);
    });
}

TEST_F(HotSwapTest, ACoroutineThatDidNotAcceptSwapsRefuses) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto never = coronet::spawn_on(s, server_v1, self.pid(), false);
            co_await self.receive<ready>();
            auto result = co_await coronet::hot_swap(never, server_v2);
            EXPECT_EQ(result, swap_result::refused);
            std::string still = co_await ask(self, never, 1);
            EXPECT_EQ(still.substr(0, 2), "v1");
            coronet::send(never, go{});
            EXPECT_EQ(co_await never.join(), 1);
        });
    }
}

TEST_F(HotSwapTest, ACoroutineCanWithdrawItsConsent) {
    run_on(0, [](coronet::self self) -> task<void> {
        auto server = coronet::spawn_on(
            1,
            [](coronet::self me, pid test) -> task<int> {
                me.hot_swappable();
                me.hot_swappable(false);
                test.send(ready{me.pid()});
                co_return co_await serve(me, "v1", 1);
            },
            self.pid());
        co_await self.receive<ready>();
        auto result = co_await coronet::hot_swap(server, server_v2);
        EXPECT_EQ(result, swap_result::refused);
        coronet::send(server, go{});
        EXPECT_EQ(co_await server.join(), 1);
    });
}

TEST_F(HotSwapTest, AFunctionOfAnotherResultTypeIsRefused) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto server = coronet::spawn_on(s, server_v1, self.pid(), true);
            co_await self.receive<ready>();
            auto result = co_await coronet::hot_swap(
                server, [](coronet::self) -> task<std::string> { co_return "wrong"; });
            EXPECT_EQ(result, swap_result::type_mismatch);
            std::string still = co_await ask(self, server, 1);
            EXPECT_EQ(still.substr(0, 2), "v1");
            coronet::send(server, go{});
            EXPECT_EQ(co_await server.join(), 1);
        });
    }
}

TEST_F(HotSwapTest, AnEndedCoroutineReportsDead) {
    for (unsigned s : both_shards) {
        run_on(0, [s](coronet::self self) -> task<void> {
            auto server = coronet::spawn_on(s, server_v1, self.pid(), true);
            co_await self.receive<ready>();
            coronet::send(server, go{});
            EXPECT_EQ(co_await server.join(), 1);
            auto result = co_await coronet::hot_swap(server, server_v2);
            EXPECT_EQ(result, swap_result::dead);
            auto null = co_await coronet::hot_swap(pid(), server_v2);
            EXPECT_EQ(null, swap_result::dead);
        });
    }
}

}  // namespace
