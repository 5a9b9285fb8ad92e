#include "actors_params.hpp"
#include "coronet_options.hpp"
#include "measure.hpp"
#include "workloads.hpp"

#include <coronet/actors/channel.hpp>
#include <coronet/actors/message.hpp>
#include <coronet/actors/pid.hpp>
#include <coronet/actors/self.hpp>
#include <coronet/actors/send.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

// The coronet side of the actor workloads: coroutines with a mailbox
// (coronet::self), written as a user would.
namespace coronet::bench {
namespace {

/// An acknowledgement (one_way_mailbox, broadcast).
struct ack {};

// ---------------------------------------------------------------- ping-pong

task<void> ponger(self self, pid ping, std::uint64_t rounds) {
    for (std::uint64_t i = 0; i < rounds; ++i) ping.send(co_await self.receive());
}

// Every round is two messages: a long to the ponger and the same long back.
task<void> pinger(self self, unsigned pong_shard, std::uint64_t rounds, std::uint64_t* sum) {
    pid pong = coronet::spawn_on(pong_shard, ponger, self.pid(), rounds);
    for (std::uint64_t i = 0; i < rounds; ++i) {
        pong.send(static_cast<long>(i));
        message m = co_await self.receive();
        *sum += static_cast<std::uint64_t>(m.get<long>());
    }
}

double ping_pong(unsigned shards, std::uint64_t n) {
    runtime rt(with_shards(shards));
    std::uint64_t rounds = n / 2;
    std::uint64_t sum = 0;
    auto start = clock::now();
    rt.spawn_on(0, pinger, shards - 1, rounds, &sum).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("sum of the longs that came back", sum, rounds * (rounds - 1) / 2);
    return static_cast<double>(2 * rounds) / s;
}

// ---------------------------------------------------------------- one-way mailbox

task<void> consumer(self self, pid producer, std::uint64_t n, std::uint64_t* sum) {
    for (std::uint64_t i = 1; i <= n; ++i) {
        message m = co_await self.receive();
        *sum += static_cast<std::uint64_t>(m.get<long>());
        if (i % one_way_window == 0 || i == n) producer.send(ack{});
    }
}

task<void> producer(self self, std::uint64_t n, std::uint64_t* sum) {
    pid c = coronet::spawn(consumer, self.pid(), n, sum);
    for (std::uint64_t i = 1; i <= n; ++i) {
        c.send(static_cast<long>(i));
        if (i % one_way_window == 0 || i == n) co_await self.receive();  // the ack
    }
}

// ---------------------------------------------------------------- broadcast

struct broadcast_count {
    std::uint64_t received = 0;  // summed over the subscribers of one shard
};

task<void> subscriber(self self, pid sender, std::uint64_t n, broadcast_count* count) {
    for (std::uint64_t i = 1; i <= n; ++i) {
        message m = co_await self.receive();
        if (m.is<long>()) ++count->received;
        if (i % broadcast_window == 0 || i == n) sender.send(ack{});
    }
}

// On shard 0; the subscribers alternate between the shards. After each
// window the sender waits for the acknowledgements of the window before it,
// so two windows at most are in flight.
task<void> broadcaster(self self, std::uint64_t n, std::vector<broadcast_count>* counts) {
    unsigned shards = coronet::shard_count();
    channel ch = channel::create();
    for (std::uint64_t i = 0; i < broadcast_subscribers; ++i) {
        unsigned shard = static_cast<unsigned>(i % shards);
        ch.subscribe(coronet::spawn_on(shard, subscriber, self.pid(), n, &(*counts)[shard]));
    }
    std::uint64_t windows_sent = 0;
    std::uint64_t acks_due = 0;  // acknowledgements still to wait for
    for (std::uint64_t i = 1; i <= n; ++i) {
        ch.send(static_cast<long>(i));
        if (i % broadcast_window != 0 && i != n) continue;
        if (++windows_sent > 1) {
            for (std::uint64_t a = 0; a < broadcast_subscribers; ++a) co_await self.receive();
            acks_due -= broadcast_subscribers;
        }
        acks_due += broadcast_subscribers;
    }
    for (; acks_due > 0; --acks_due) co_await self.receive();
}

// ---------------------------------------------------------------- actor_creation

struct spread {
    unsigned depth;
};
struct subtree {
    std::uint64_t actors;
};

// Spawns two children until depth 1 and sends its parent the number of
// actors in its subtree. The root's children go to different shards, each
// subtree stays on its shard.
task<void> testee(self self, pid parent, bool root) {
    message m = co_await self.receive();
    unsigned depth = m.get<spread>().depth;
    if (depth == 1) {
        parent.send(subtree{1});
        co_return;
    }
    unsigned shards = coronet::shard_count();
    for (unsigned k = 0; k < 2; ++k) {
        unsigned shard = root ? k % shards : coronet::this_shard();
        pid child = coronet::spawn_on(shard, testee, self.pid(), false);
        child.send(spread{depth - 1});
    }
    std::uint64_t actors = 1;
    for (int k = 0; k < 2; ++k) {
        message r = co_await self.receive();
        actors += r.get<subtree>().actors;
    }
    parent.send(subtree{actors});
}

task<void> create_tree(self self, unsigned depth, std::uint64_t* actors) {
    pid root = coronet::spawn(testee, self.pid(), true);
    root.send(spread{depth});
    message m = co_await self.receive();
    *actors = m.get<subtree>().actors;
}

// ---------------------------------------------------------------- mailbox_performance

task<void> mailbox_receiver(self self, std::uint64_t n, std::uint64_t* got) {
    for (std::uint64_t i = 0; i < n; ++i) {
        message m = co_await self.receive();
        if (m.is<long>()) ++*got;
    }
}

task<void> mailbox_sender(pid receiver, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i) receiver.send(1L);
    co_return;
}

// ---------------------------------------------------------------- mixed_case

struct calc {
    std::uint64_t n;
};
struct done {};
struct master_done {};
struct token {
    std::uint64_t value;
};

task<void> supervisor(self self, std::uint64_t expected, std::uint64_t* bad) {
    for (std::uint64_t left = expected; left > 0; --left) {
        message m = co_await self.receive();
        if (auto* f = m.get_if<std::vector<std::uint64_t>>(); f && !factors_ok(*f)) ++*bad;
    }
}

task<void> worker(self self, pid collector) {
    for (;;) {
        message m = co_await self.receive();
        if (auto* c = m.get_if<calc>())
            collector.send(factorize(c->n));
        else
            co_return;  // done
    }
}

task<void> chain_link(self self, pid next) {
    for (;;) {
        message m = co_await self.receive();
        std::uint64_t v = m.get<token>().value;
        next.send(std::move(m));
        if (v == 0) co_return;
    }
}

task<void> chain_master(self self, pid collector, std::uint64_t initial_token) {
    pid factorizer = coronet::spawn(worker, collector);
    pid next;
    auto new_ring = [&] {
        factorizer.send(calc{mixed_task});
        next = self.pid();
        for (std::uint64_t i = 1; i < mixed_ring_size; ++i) next = coronet::spawn(chain_link, next);
        next.send(token{initial_token});
    };
    new_ring();
    for (std::uint64_t iteration = 1;;) {
        message m = co_await self.receive();
        std::uint64_t v = m.get<token>().value;
        if (v > 0) {
            next.send(token{v - 1});
        } else if (++iteration <= mixed_repetitions) {
            new_ring();
        } else {
            factorizer.send(done{});
            collector.send(master_done{});
            co_return;
        }
    }
}

}  // namespace

double coronet_ping_pong_same(std::uint64_t n) {
    return ping_pong(1, n);
}

double coronet_ping_pong_cross(std::uint64_t n) {
    return ping_pong(2, n);
}

double coronet_one_way(std::uint64_t n) {
    runtime rt(with_shards(1));
    std::uint64_t sum = 0;
    auto start = clock::now();
    rt.spawn_on(0, producer, n, &sum).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("sum of the longs received", sum, n * (n + 1) / 2);
    return s * 1e9 / static_cast<double>(n);
}

double coronet_broadcast(std::uint64_t n) {
    runtime rt(with_shards(2));
    std::vector<broadcast_count> counts(rt.shard_count());
    auto start = clock::now();
    rt.spawn_on(0, broadcaster, n, &counts).detach();
    rt.run();
    double s = seconds_since(start);
    std::uint64_t received = 0;
    for (auto& c : counts) received += c.received;
    expect_count("messages delivered", received, n * broadcast_subscribers);
    return static_cast<double>(received) / s;
}

double coronet_actor_creation(std::uint64_t n) {
    unsigned depth = creation_depth(n);
    runtime rt(with_shards(2));
    std::uint64_t actors = 0;
    auto start = clock::now();
    rt.spawn_on(0, create_tree, depth, &actors).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("actors in the tree", actors, creation_actors(depth));
    return s;
}

double coronet_mailbox_performance(std::uint64_t n) {
    runtime rt(with_shards(2));
    std::uint64_t per_sender = n / mailbox_senders;
    std::uint64_t total = per_sender * mailbox_senders;
    std::uint64_t got = 0;
    auto start = clock::now();
    pid receiver = rt.spawn_on(0, mailbox_receiver, total, &got);
    for (std::uint64_t i = 0; i < mailbox_senders; ++i)
        rt.spawn(mailbox_sender, receiver, per_sender).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("messages received", got, total);
    return static_cast<double>(total) / s;
}

double coronet_mixed_case(std::uint64_t n) {
    runtime rt(with_shards(2));
    std::uint64_t bad = 0;
    auto start = clock::now();
    pid collector = rt.spawn_on(0, supervisor, mixed_rings * (mixed_repetitions + 1), &bad);
    for (std::uint64_t i = 0; i < mixed_rings; ++i) rt.spawn(chain_master, collector, n).detach();
    rt.run();
    double s = seconds_since(start);
    expect_count("wrong factorizations", bad, 0);
    return s;
}

}  // namespace coronet::bench
