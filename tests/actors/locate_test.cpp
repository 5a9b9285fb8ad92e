#include "actors_test_support.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::pid;
using coronet::task;
using coronet::testing::brief;
using coronet::testing::go;
using coronet::testing::patience;
using coronet::testing::ready;

class LocateTest : public coronet::testing::actors_test {};

constexpr unsigned both_shards[] = {0, 1};

/// Registers `name`, tells `test`, and holds the name until a `go`.
task<void> hold_name(coronet::self self, std::string name, pid test) {
    bool registered = self.register_name(name);
    EXPECT_TRUE(registered);
    test.send(ready{self.pid()});
    co_await self.receive<go>();
}

/// Registers `name` on a `go`, then holds it until another `go`.
task<void> register_on_go(coronet::self self, std::string name) {
    co_await self.receive<go>();
    self.register_name(name);
    co_await self.receive<go>();
}

task<std::optional<pid>> look_for(std::string name) {
    auto found = co_await coronet::locate(std::move(name), patience);
    co_return found;
}

TEST_F(LocateTest, FindsARegisteredCoroutineOnEitherShard) {
    for (unsigned s : both_shards) {
        run_on(1 - s, [s](coronet::self self) -> task<void> {
            auto holder = coronet::spawn_on(s, hold_name, std::string("server"), self.pid());
            co_await self.receive<ready>();
            std::string name = "server";
            auto found = co_await coronet::locate(name, 0ms);
            EXPECT_EQ(found, std::optional<pid>(holder));
            if (found) found->send(go{});
            co_await holder.join();
        });
    }
}

TEST_F(LocateTest, BeforeRegisterWaitsAndGetsThePid) {
    for (unsigned s : both_shards) {
        run_on(0, [s]() -> task<void> {
            auto holder = coronet::spawn_on(s, register_on_go, std::string("late"));
            // Both locators start on this shard and are waiting by the time
            // the yield returns; one more waits on the other shard.
            auto here = coronet::spawn(look_for, std::string("late"));
            auto also_here = coronet::spawn(look_for, std::string("late"));
            co_await coronet::testing::let_others_run();
            EXPECT_FALSE(here.done());
            EXPECT_FALSE(also_here.done());
            auto there = coronet::spawn_on(1, look_for, std::string("late"));
            coronet::send(holder, go{});
            auto a = co_await here.join();
            auto b = co_await also_here.join();
            auto c = co_await there.join();
            EXPECT_EQ(a, std::optional<pid>(holder));
            EXPECT_EQ(b, std::optional<pid>(holder));
            EXPECT_EQ(c, std::optional<pid>(holder));
            coronet::send(holder, go{});
            co_await holder.join();
        });
    }
}

TEST_F(LocateTest, TimesOutWithNulloptWhenNobodyRegisters) {
    run_on(1, []() -> task<void> {
        auto start = std::chrono::steady_clock::now();
        std::string name = "nobody";
        auto found = co_await coronet::locate(name, brief);
        EXPECT_FALSE(found);
        EXPECT_GE(std::chrono::steady_clock::now() - start, brief);
    });
}

TEST_F(LocateTest, ATimedOutLocateDoesNotStayInTheWay) {
    run_on(0, [](coronet::self self) -> task<void> {
        std::string name = "soon";
        auto early = co_await coronet::locate(name, brief);
        EXPECT_FALSE(early);
        auto holder = coronet::spawn_on(1, hold_name, name, self.pid());
        co_await self.receive<ready>();
        auto found = co_await coronet::locate(name, patience);
        EXPECT_EQ(found, std::optional<pid>(holder));
        coronet::send(holder, go{});
        co_await holder.join();
    });
}

TEST_F(LocateTest, TerminatingALocatorEndsItsWait) {
    run_on(0, []() -> task<void> {
        auto waiting = coronet::spawn(look_for, std::string("never"));
        co_await coronet::testing::let_others_run();  // it waits in locate
        EXPECT_FALSE(waiting.done());
        EXPECT_TRUE(coronet::terminate(waiting));
        try {
            co_await waiting.join();
            ADD_FAILURE() << "a terminated locate returned";
        } catch (const coronet::terminated&) {
        }
    });
}

TEST_F(LocateTest, DoesNotFindANameThatWasFreed) {
    run_on(1, [](coronet::self self) -> task<void> {
        std::string name = "freed";
        auto holder = coronet::spawn_on(0, hold_name, name, self.pid());
        co_await self.receive<ready>();
        coronet::send(holder, go{});
        co_await holder.join();
        auto found = co_await coronet::locate(name, 0ms);
        EXPECT_FALSE(found);
    });
}

}  // namespace
