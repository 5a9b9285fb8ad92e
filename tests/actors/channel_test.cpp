#include "actors_test_support.hpp"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using coronet::channel;
using coronet::channel_closed;
using coronet::message;
using coronet::pid;
using coronet::task;
using coronet::testing::brief;
using coronet::testing::go;
using coronet::testing::patience;
using coronet::testing::ready;

class ChannelTest : public coronet::testing::actors_test {};

/// Marks the end of a stream of ints.
struct end_marker {};

/// Receives ints until an end_marker (or the channel's closing) and returns them.
task<std::vector<int>> read_until_end(coronet::self self) {
    std::vector<int> got;
    for (;;) {
        message m = co_await self.receive();
        if (m.is<end_marker>() || m.is<channel_closed>()) co_return got;
        got.push_back(m.get<int>());
    }
}

/// Subscribes itself to `ch`, tells `test`, then reads until the end.
task<std::vector<int>> subscribe_and_read(coronet::self self, channel ch, pid test) {
    EXPECT_TRUE(ch.subscribe(self.pid()));
    test.send(ready{self.pid()});
    co_return co_await read_until_end(self);
}

using readers = std::vector<coronet::join_handle<std::vector<int>>>;

/// What every reader got.
task<std::vector<std::vector<int>>> results(readers& rs) {
    std::vector<std::vector<int>> out;
    for (auto& r : rs) out.push_back(co_await r.join());
    co_return out;
}

// ------------------------------------------------------------------ send

TEST_F(ChannelTest, SendReachesEverySubscriberOnEitherShard) {
    auto got = run_on(0, []() -> task<std::vector<std::vector<int>>> {
        channel ch = channel::create();
        readers rs;
        for (unsigned i = 0; i < 4; ++i) {
            rs.push_back(coronet::spawn_on(i % 2, read_until_end));
            EXPECT_TRUE(ch.subscribe(rs.back()));
        }
        EXPECT_EQ(ch.subscriber_count(), 4u);
        EXPECT_EQ(ch.send(1), 4u);
        EXPECT_EQ(ch.send(2), 4u);
        EXPECT_EQ(ch.send(end_marker{}), 4u);
        co_return co_await results(rs);
    });
    for (auto& g : got) EXPECT_EQ(g, (std::vector<int>{1, 2}));
}

TEST_F(ChannelTest, SendReachesOnlyThoseSubscribedAtThatMoment) {
    auto got = run_on(1, []() -> task<std::vector<std::vector<int>>> {
        channel ch = channel::create();
        readers rs;
        rs.push_back(coronet::spawn_on(0, read_until_end));
        rs.push_back(coronet::spawn_on(1, read_until_end));
        ch.subscribe(rs[0]);
        ch.send(1);
        ch.subscribe(rs[1]);
        ch.send(2);
        EXPECT_TRUE(ch.unsubscribe(rs[0]));
        EXPECT_FALSE(ch.unsubscribe(rs[0]));
        ch.send(3);
        coronet::send(rs[0], end_marker{});
        ch.send(end_marker{});
        co_return co_await results(rs);
    });
    EXPECT_EQ(got[0], (std::vector<int>{1, 2}));
    EXPECT_EQ(got[1], (std::vector<int>{2, 3}));
}

TEST_F(ChannelTest, ASubscriberIsCountedOnce) {
    run_on(0, []() -> task<void> {
        channel ch = channel::create();
        auto r = coronet::spawn_on(1, read_until_end);
        EXPECT_TRUE(ch.subscribe(r));
        EXPECT_FALSE(ch.subscribe(r));
        EXPECT_EQ(ch.subscriber_count(), 1u);
        EXPECT_EQ(ch.send(1), 1u);
        ch.send(end_marker{});
        auto got = co_await r.join();
        EXPECT_EQ(got, std::vector<int>{1});
    });
}

TEST_F(ChannelTest, ReachesTenThousandSubscribers) {
    constexpr int n = 10'000;
    auto sum = run_on(0, []() -> task<long> {
        channel ch = channel::create();
        std::vector<coronet::join_handle<int>> subscribers;
        subscribers.reserve(n);
        for (int i = 0; i < n; ++i) {
            subscribers.push_back(coronet::spawn_on(i % 2, [](coronet::self me) -> task<int> {
                message m = co_await me.receive();
                co_return m.get<int>();
            }));
            ch.subscribe(subscribers.back());
        }
        EXPECT_EQ(ch.subscriber_count(), std::size_t(n));
        EXPECT_EQ(ch.send(3), std::size_t(n));
        long sum = 0;
        for (auto& s : subscribers) sum += co_await s.join();
        co_return sum;
    });
    EXPECT_EQ(sum, 3L * n);
}

TEST_F(ChannelTest, MessagesReachEachSubscriberInTheOrderSent) {
    auto got = run_on(0, []() -> task<std::vector<std::vector<int>>> {
        channel ch = channel::create();
        readers rs;
        for (unsigned i = 0; i < 4; ++i) {
            rs.push_back(coronet::spawn_on(i % 2, read_until_end));
            ch.subscribe(rs.back());
        }
        for (int i = 0; i < 1000; ++i) ch.send(i);
        ch.send(end_marker{});
        co_return co_await results(rs);
    });
    std::vector<int> expected(1000);
    for (int i = 0; i < 1000; ++i) expected[i] = i;
    for (auto& g : got) EXPECT_EQ(g, expected);
}

TEST_F(ChannelTest, AMoveOnlyMessageGoesToOneSubscriberOnly) {
    run_on(0, []() -> task<void> {
        channel ch = channel::create();
        auto one = coronet::spawn_on(1, [](coronet::self me) -> task<int> {
            message m = co_await me.receive();
            co_return *m.take<std::unique_ptr<int>>();
        });
        ch.subscribe(one);
        EXPECT_EQ(ch.send(std::make_unique<int>(5)), 1u);
        EXPECT_EQ(co_await one.join(), 5);
        auto a = coronet::spawn_on(0, read_until_end);
        auto b = coronet::spawn_on(1, read_until_end);
        ch.subscribe(a);
        ch.subscribe(b);
        EXPECT_THROW(ch.send(std::make_unique<int>(6)), std::logic_error);
        ch.send(end_marker{});
        co_await a.join();
        co_await b.join();
    });
}

// ------------------------------------------------------------------ subscribers that stop or end

TEST_F(ChannelTest, ASubscriberWithAFullMailboxDoesNotStallTheOthers) {
    run_on(0, [](coronet::self self) -> task<void> {
        channel ch = channel::create();
        coronet::event go_on;
        auto stuck = coronet::spawn_on(
            1,
            [](coronet::self me, pid test, coronet::event* go_on) -> task<std::vector<int>> {
                me.set_mailbox_capacity(1);
                test.send(ready{me.pid()});
                co_await go_on->wait();
                std::vector<int> got{static_cast<int>(me.mailbox_size())};
                message m = co_await me.receive();
                got.push_back(m.get<int>());
                co_return got;
            },
            self.pid(), &go_on);
        co_await self.receive<ready>();
        auto reader = coronet::spawn_on(1, read_until_end);
        ch.subscribe(stuck);
        ch.subscribe(reader);
        EXPECT_EQ(ch.send(0), 2u);
        for (int i = 1; i < 100; ++i) EXPECT_EQ(ch.send(i), 1u);  // stuck's mailbox is full
        coronet::send(reader, end_marker{});
        auto read = co_await reader.join();
        EXPECT_EQ(read.size(), 100u);
        EXPECT_EQ(ch.subscriber_count(), 2u);  // full is not dead
        go_on.set();
        auto stuck_got = co_await stuck.join();
        EXPECT_EQ(stuck_got, (std::vector<int>{1, 0}));
    });
}

TEST_F(ChannelTest, DeadSubscribersAreDropped) {
    run_on(1, []() -> task<void> {
        channel ch = channel::create();
        auto reader = coronet::spawn_on(0, read_until_end);
        auto ended = coronet::spawn_on(0, []() -> task<void> { co_return; });
        auto ended_too = coronet::spawn_on(1, []() -> task<void> { co_return; });
        ch.subscribe(reader);
        ch.subscribe(ended);
        ch.subscribe(ended_too);
        co_await ended.join();
        co_await ended_too.join();
        EXPECT_EQ(ch.subscriber_count(), 3u);
        EXPECT_EQ(ch.send(1), 1u);
        EXPECT_EQ(ch.subscriber_count(), 1u);
        ch.send(end_marker{});
        auto got = co_await reader.join();
        EXPECT_EQ(got, std::vector<int>{1});
    });
}

// ------------------------------------------------------------------ hierarchies

TEST_F(ChannelTest, ASubChannelPassesMessagesToItsSubscribers) {
    run_on(0, []() -> task<void> {
        channel parent = channel::create();
        channel child = channel::create();
        auto top = coronet::spawn_on(0, read_until_end);
        auto below = coronet::spawn_on(1, read_until_end);
        parent.subscribe(top);
        child.subscribe(below);
        EXPECT_TRUE(parent.subscribe(child));
        EXPECT_FALSE(parent.subscribe(child));
        EXPECT_EQ(parent.subscriber_count(), 2u);
        EXPECT_EQ(parent.send(1), 2u);
        EXPECT_EQ(child.send(2), 1u);  // not up to the parent
        EXPECT_TRUE(parent.unsubscribe(child));
        EXPECT_EQ(parent.send(3), 1u);
        parent.send(end_marker{});
        child.send(end_marker{});
        auto top_got = co_await top.join();
        auto below_got = co_await below.join();
        EXPECT_EQ(top_got, (std::vector<int>{1, 3}));
        EXPECT_EQ(below_got, (std::vector<int>{1, 2}));
    });
}

TEST_F(ChannelTest, ASubscriptionThatWouldMakeACycleIsRefused) {
    run_on(1, []() -> task<void> {
        channel a = channel::create();
        channel b = channel::create();
        channel c = channel::create();
        EXPECT_FALSE(a.subscribe(a));
        EXPECT_TRUE(a.subscribe(b));
        EXPECT_TRUE(b.subscribe(c));
        EXPECT_FALSE(b.subscribe(a));
        EXPECT_FALSE(c.subscribe(a));
        EXPECT_FALSE(c.subscribe(b));
        auto r = coronet::spawn_on(0, read_until_end);
        c.subscribe(r);
        EXPECT_EQ(a.send(7), 1u);  // down two levels, once
        c.send(end_marker{});
        auto got = co_await r.join();
        EXPECT_EQ(got, std::vector<int>{7});
    });
}

// ------------------------------------------------------------------ transform

TEST_F(ChannelTest, ATransformCanAlterOrDropAMessage) {
    run_on(0, []() -> task<void> {
        // Doubles even numbers, drops odd ones; lets anything else through.
        channel ch = channel::create({}, [](message& m) {
            auto n = m.get_if<int>();
            if (!n) return true;
            if (*n % 2) return false;
            m = *n * 2;
            return true;
        });
        auto r = coronet::spawn_on(1, read_until_end);
        ch.subscribe(r);
        for (int i = 0; i < 6; ++i) EXPECT_EQ(ch.send(i), i % 2 ? 0u : 1u);
        ch.send(end_marker{});
        auto got = co_await r.join();
        EXPECT_EQ(got, (std::vector<int>{0, 4, 8}));
    });
}

// ------------------------------------------------------------------ deliver

TEST_F(ChannelTest, DeliverWaitsForEnoughSubscribers) {
    run_on(0, [](coronet::self self) -> task<void> {
        channel ch = channel::create();
        auto sender = coronet::spawn(
            [](channel ch) -> task<std::size_t> {
                std::size_t n = co_await ch.deliver(5, 3, patience);
                co_return n;
            },
            ch);
        co_await coronet::testing::let_others_run();  // the sender waits
        readers rs;
        for (unsigned i = 0; i < 3; ++i) {
            EXPECT_FALSE(sender.done());
            rs.push_back(coronet::spawn_on(i % 2, subscribe_and_read, ch, self.pid()));
            co_await self.receive<ready>();
        }
        EXPECT_EQ(co_await sender.join(), 3u);
        ch.send(end_marker{});
        auto got = co_await results(rs);
        for (auto& g : got) EXPECT_EQ(g, std::vector<int>{5});
    });
}

TEST_F(ChannelTest, DeliverToEnoughSubscribersSendsAtOnce) {
    run_on(1, []() -> task<void> {
        channel ch = channel::create();
        auto r = coronet::spawn_on(0, read_until_end);
        ch.subscribe(r);
        std::size_t n = co_await ch.deliver(1, 1, patience);
        EXPECT_EQ(n, 1u);
        ch.send(end_marker{});
        auto got = co_await r.join();
        EXPECT_EQ(got, std::vector<int>{1});
    });
}

TEST_F(ChannelTest, DeliverTimesOutWithZeroAndSendsNothing) {
    run_on(0, []() -> task<void> {
        channel ch = channel::create();
        auto r = coronet::spawn_on(1, read_until_end);
        ch.subscribe(r);
        auto start = std::chrono::steady_clock::now();
        std::size_t n = co_await ch.deliver(1, 2, brief);
        EXPECT_EQ(n, 0u);
        EXPECT_GE(std::chrono::steady_clock::now() - start, brief);
        ch.send(2);
        ch.send(end_marker{});
        auto got = co_await r.join();
        EXPECT_EQ(got, std::vector<int>{2});
    });
}

TEST_F(ChannelTest, DeliverCountsTheSubscribersOfSubChannels) {
    run_on(0, [](coronet::self self) -> task<void> {
        channel parent = channel::create();
        channel child = channel::create();
        parent.subscribe(child);
        auto sender = coronet::spawn(
            [](channel ch) -> task<std::size_t> {
                std::size_t n = co_await ch.deliver(9, 2, patience);
                co_return n;
            },
            parent);
        co_await coronet::testing::let_others_run();
        readers rs;
        rs.push_back(coronet::spawn_on(1, subscribe_and_read, child, self.pid()));
        co_await self.receive<ready>();
        rs.push_back(coronet::spawn_on(0, subscribe_and_read, parent, self.pid()));
        co_await self.receive<ready>();
        EXPECT_EQ(co_await sender.join(), 2u);
        parent.send(end_marker{});
        auto got = co_await results(rs);
        for (auto& g : got) EXPECT_EQ(g, std::vector<int>{9});
    });
}

// ------------------------------------------------------------------ names, close

TEST_F(ChannelTest, LocateFindsANamedChannel) {
    run_on(0, []() -> task<void> {
        channel news = channel::create("news");
        EXPECT_EQ(news.name(), "news");
        auto found = coronet::spawn_on(1, []() -> task<std::optional<channel>> {
            std::string name = "news";
            auto ch = co_await channel::locate(name, 0ms);
            co_return ch;
        });
        auto ch = co_await found.join();
        EXPECT_TRUE(ch && *ch == news);
        news.close();
    });
}

TEST_F(ChannelTest, LocateBeforeCreateWaitsForTheChannel) {
    run_on(0, []() -> task<void> {
        auto finder = coronet::spawn([]() -> task<std::optional<channel>> {
            std::string name = "later";
            auto ch = co_await channel::locate(name, patience);
            co_return ch;
        });
        co_await coronet::testing::let_others_run();  // it waits
        EXPECT_FALSE(finder.done());
        channel made = co_await coronet::submit_to(1, [] { return channel::create("later"); });
        auto found = co_await finder.join();
        EXPECT_TRUE(found && *found == made);
        made.close();
    });
}

TEST_F(ChannelTest, LocateOfAnUnknownChannelTimesOut) {
    run_on(1, []() -> task<void> {
        std::string name = "absent";
        auto ch = co_await channel::locate(name, brief);
        EXPECT_FALSE(ch);
    });
}

TEST_F(ChannelTest, ANameCanBeTakenOnlyOnce) {
    run_on(0, []() -> task<void> {
        channel first = channel::create("unique");
        EXPECT_THROW(channel::create("unique"), std::invalid_argument);
        first.close();
        channel second = channel::create("unique");  // closing freed the name
        EXPECT_EQ(second.name(), "unique");
        second.close();
        co_return;
    });
}

TEST_F(ChannelTest, CloseTellsTheSubscribersAndFreesTheName) {
    run_on(0, []() -> task<void> {
        channel ch = channel::create("closing");
        auto a = coronet::spawn_on(0, [](coronet::self me) -> task<std::string> {
            channel_closed c = co_await me.receive<channel_closed>();
            co_return c.name;
        });
        auto b = coronet::spawn_on(1, [](coronet::self me) -> task<std::string> {
            channel_closed c = co_await me.receive<channel_closed>();
            co_return c.name;
        });
        ch.subscribe(a);
        ch.subscribe(b);
        EXPECT_FALSE(ch.closed());
        ch.close();
        EXPECT_TRUE(ch.closed());
        EXPECT_EQ(co_await a.join(), "closing");
        EXPECT_EQ(co_await b.join(), "closing");

        EXPECT_EQ(ch.send(1), 0u);
        auto r = coronet::spawn_on(1, read_until_end);
        EXPECT_FALSE(ch.subscribe(r));
        std::size_t delivered = co_await ch.deliver(1, 1, patience);  // at once: closed
        EXPECT_EQ(delivered, 0u);
        std::string name = "closing";
        auto found = co_await channel::locate(name, 0ms);
        EXPECT_FALSE(found);
        coronet::send(r, end_marker{});
        co_await r.join();
    });
}

TEST_F(ChannelTest, CloseEndsAWaitingDeliver) {
    run_on(0, []() -> task<void> {
        channel ch = channel::create();
        auto sender = coronet::spawn_on(
            1,
            [](channel ch) -> task<std::size_t> {
                std::size_t n = co_await ch.deliver(1, 5, patience);
                co_return n;
            },
            ch);
        auto start = std::chrono::steady_clock::now();
        ch.close();
        EXPECT_EQ(co_await sender.join(), 0u);
        EXPECT_LT(std::chrono::steady_clock::now() - start, patience / 2);
    });
}

}  // namespace
