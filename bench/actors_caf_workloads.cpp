#include "actors_params.hpp"
#include "measure.hpp"
#include "workloads.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

// The CAF 0.17 side of the actor workloads: event-based actors, with atoms
// naming the messages as CAF's own benchmark suite does.
namespace coronet::bench {
namespace {

using ack_atom = caf::atom_constant<caf::atom("ack")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using spread_atom = caf::atom_constant<caf::atom("spread")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using calc_atom = caf::atom_constant<caf::atom("calc")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using masterdone_atom = caf::atom_constant<caf::atom("masterdone")>;
using token_atom = caf::atom_constant<caf::atom("token")>;

/// CAF's scheduler with `threads` worker threads, as coronet's shards.
class caf_config : public caf::actor_system_config {
public:
    explicit caf_config(unsigned threads) {
        set("scheduler.max-threads", static_cast<std::int64_t>(threads));
    }
};

// ---------------------------------------------------------------- ping-pong

caf::behavior ponger(caf::event_based_actor* self, caf::actor ping, std::uint64_t rounds) {
    auto left = std::make_shared<std::uint64_t>(rounds);
    return {[=](long v) {
        self->send(ping, v);
        if (--*left == 0) self->quit();
    }};
}

void pinger(caf::event_based_actor* self, caf::actor pong, std::uint64_t rounds,
            std::uint64_t* sum) {
    auto got = std::make_shared<std::uint64_t>(0);
    self->send(pong, 0L);
    self->become([=](long v) {
        *sum += static_cast<std::uint64_t>(v);
        if (++*got == rounds) {
            self->quit();
            return;
        }
        self->send(pong, static_cast<long>(*got));
    });
}

/// Spawns the pinger first, so the ponger can be given its handle; the
/// pinger starts with a message naming the ponger.
caf::behavior pinger_init(caf::event_based_actor* self, std::uint64_t rounds, std::uint64_t* sum) {
    return {[=](caf::actor pong) { pinger(self, pong, rounds, sum); }};
}

template <caf::spawn_options PongOptions>
double ping_pong(unsigned threads, std::uint64_t n) {
    caf_config cfg(threads);
    caf::actor_system sys{cfg};
    std::uint64_t rounds = n / 2;
    std::uint64_t sum = 0;
    auto start = clock::now();
    caf::actor ping = sys.spawn(pinger_init, rounds, &sum);
    caf::actor pong = sys.spawn<PongOptions>(ponger, ping, rounds);
    caf::anon_send(ping, pong);
    ping = nullptr;
    pong = nullptr;
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("sum of the longs that came back", sum, rounds * (rounds - 1) / 2);
    return static_cast<double>(2 * rounds) / s;
}

// ---------------------------------------------------------------- one-way mailbox

caf::behavior consumer(caf::event_based_actor* self, caf::actor producer, std::uint64_t n,
                       std::uint64_t* sum) {
    auto i = std::make_shared<std::uint64_t>(0);
    return {[=](long v) {
        *sum += static_cast<std::uint64_t>(v);
        if (++*i % one_way_window == 0 || *i == n) self->send(producer, ack_atom::value);
        if (*i == n) self->quit();
    }};
}

caf::behavior producer(caf::event_based_actor* self, std::uint64_t n, std::uint64_t* sum) {
    auto c = self->spawn(consumer, caf::actor_cast<caf::actor>(self), n, sum);
    auto sent = std::make_shared<std::uint64_t>(0);
    auto send_window = [=] {
        do {
            self->send(c, static_cast<long>(++*sent));
        } while (*sent % one_way_window != 0 && *sent != n);
    };
    send_window();
    return {[=](ack_atom) {
        if (*sent == n)
            self->quit();
        else
            send_window();
    }};
}

// ---------------------------------------------------------------- broadcast

caf::behavior subscriber(caf::event_based_actor* self, caf::group grp, caf::actor sender,
                         std::uint64_t n, std::atomic<std::uint64_t>* received) {
    self->join(grp);
    self->send(sender, ready_atom::value);
    auto i = std::make_shared<std::uint64_t>(0);
    return {[=](long) {
        received->fetch_add(1, std::memory_order_relaxed);
        if (++*i % broadcast_window == 0 || *i == n) self->send(sender, ack_atom::value);
        if (*i == n) self->quit();
    }};
}

// As coronet's broadcaster: after each window, wait for the acknowledgements
// of the window before it; at the end, for those of the last one.
caf::behavior broadcaster(caf::event_based_actor* self, std::uint64_t n,
                          std::atomic<std::uint64_t>* received) {
    caf::group grp = self->system().groups().anonymous();
    for (std::uint64_t i = 0; i < broadcast_subscribers; ++i)
        self->spawn(subscriber, grp, caf::actor_cast<caf::actor>(self), n, received);
    struct state {
        std::uint64_t ready = 0;
        std::uint64_t sent = 0;
        std::uint64_t windows = 0;
        std::uint64_t acks = 0;  // received and not yet waited for
        bool waiting = false;    // for a window's acknowledgements
    };
    auto st = std::make_shared<state>();
    // Takes a window's acknowledgements if they are all there.
    auto take_window_acks = [=] {
        if (st->acks < broadcast_subscribers) return false;
        st->acks -= broadcast_subscribers;
        return true;
    };
    auto send_more = [=] {
        while (st->sent < n) {
            do {
                self->send(grp, static_cast<long>(++st->sent));
            } while (st->sent % broadcast_window != 0 && st->sent != n);
            if (++st->windows > 1 && !take_window_acks()) {
                st->waiting = true;
                return;
            }
        }
        st->waiting = true;  // for the last window's
        if (take_window_acks()) self->quit();
    };
    return {[=](ready_atom) {
                if (++st->ready == broadcast_subscribers) send_more();
            },
            [=](ack_atom) {
                ++st->acks;
                if (!st->waiting) return;
                if (st->sent == n) {
                    if (take_window_acks()) self->quit();
                } else if (take_window_acks()) {
                    st->waiting = false;
                    send_more();
                }
            }};
}

// ---------------------------------------------------------------- actor_creation

caf::behavior testee(caf::event_based_actor* self, caf::actor parent) {
    return {[=](spread_atom, std::uint32_t depth) {
        if (depth == 1) {
            self->send(parent, result_atom::value, std::uint64_t{1});
            self->quit();
            return;
        }
        for (int k = 0; k < 2; ++k)
            self->send(self->spawn(testee, caf::actor_cast<caf::actor>(self)), spread_atom::value,
                       depth - 1);
        self->become([=](result_atom, std::uint64_t r1) {
            self->become([=](result_atom, std::uint64_t r2) {
                self->send(parent, result_atom::value, 1 + r1 + r2);
                self->quit();
            });
        });
    }};
}

caf::behavior create_tree(caf::event_based_actor* self, std::uint32_t depth,
                          std::uint64_t* actors) {
    auto root = self->spawn(testee, caf::actor_cast<caf::actor>(self));
    self->send(root, spread_atom::value, depth);
    return {[=](result_atom, std::uint64_t r) {
        *actors = r;
        self->quit();
    }};
}

// ---------------------------------------------------------------- mailbox_performance

caf::behavior mailbox_receiver(caf::event_based_actor* self, std::uint64_t n, std::uint64_t* got) {
    return {[=](long) {
        if (++*got == n) self->quit();
    }};
}

void mailbox_sender(caf::event_based_actor* self, caf::actor receiver, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i) self->send(receiver, 1L);
}

// ---------------------------------------------------------------- mixed_case

caf::behavior supervisor(caf::event_based_actor* self, std::uint64_t expected, std::uint64_t* bad) {
    auto left = std::make_shared<std::uint64_t>(expected);
    auto one_less = [=] {
        if (--*left == 0) self->quit();
    };
    return {[=](masterdone_atom) { one_less(); },
            [=](result_atom, const std::vector<std::uint64_t>& f) {
                if (!factors_ok(f)) ++*bad;
                one_less();
            }};
}

caf::behavior worker(caf::event_based_actor* self, caf::actor collector) {
    return {[=](calc_atom, std::uint64_t what) {
                self->send(collector, result_atom::value, factorize(what));
            },
            [=](done_atom) { self->quit(); }};
}

caf::behavior chain_link(caf::event_based_actor* self, caf::actor next) {
    return {[=](token_atom, std::uint64_t v) {
        self->send(next, token_atom::value, v);
        if (v == 0) self->quit();
    }};
}

caf::behavior chain_master(caf::event_based_actor* self, caf::actor collector,
                           std::uint64_t initial_token) {
    struct state {
        caf::actor factorizer;
        caf::actor next;
        std::uint64_t iteration = 1;
    };
    auto st = std::make_shared<state>();
    st->factorizer = self->spawn(worker, collector);
    auto new_ring = [=] {
        self->send(st->factorizer, calc_atom::value, mixed_task);
        st->next = caf::actor_cast<caf::actor>(self);
        for (std::uint64_t i = 1; i < mixed_ring_size; ++i)
            st->next = self->spawn(chain_link, st->next);
        self->send(st->next, token_atom::value, initial_token);
    };
    new_ring();
    return {[=](token_atom, std::uint64_t v) {
        if (v > 0) {
            self->send(st->next, token_atom::value, v - 1);
        } else if (++st->iteration <= mixed_repetitions) {
            new_ring();
        } else {
            self->send(st->factorizer, done_atom::value);
            self->send(collector, masterdone_atom::value);
            st->factorizer = nullptr;
            st->next = nullptr;
            self->quit();
        }
    }};
}

}  // namespace

double caf_ping_pong_same(std::uint64_t n) {
    return ping_pong<caf::no_spawn_options>(1, n);
}

double caf_ping_pong_cross(std::uint64_t n) {
    return ping_pong<caf::no_spawn_options>(2, n);
}

double caf_ping_pong_cross_detached(std::uint64_t n) {
    return ping_pong<caf::detached>(1, n);
}

double caf_one_way(std::uint64_t n) {
    caf_config cfg(1);
    caf::actor_system sys{cfg};
    std::uint64_t sum = 0;
    auto start = clock::now();
    sys.spawn(producer, n, &sum);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("sum of the longs received", sum, n * (n + 1) / 2);
    return s * 1e9 / static_cast<double>(n);
}

double caf_broadcast(std::uint64_t n) {
    caf_config cfg(2);
    caf::actor_system sys{cfg};
    std::atomic<std::uint64_t> received{0};
    auto start = clock::now();
    sys.spawn(broadcaster, n, &received);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("messages delivered", received.load(), n * broadcast_subscribers);
    return static_cast<double>(received.load()) / s;
}

double caf_actor_creation(std::uint64_t n) {
    unsigned depth = creation_depth(n);
    caf_config cfg(2);
    caf::actor_system sys{cfg};
    std::uint64_t actors = 0;
    auto start = clock::now();
    sys.spawn(create_tree, static_cast<std::uint32_t>(depth), &actors);
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("actors in the tree", actors, creation_actors(depth));
    return s;
}

double caf_mailbox_performance(std::uint64_t n) {
    caf_config cfg(2);
    caf::actor_system sys{cfg};
    std::uint64_t per_sender = n / mailbox_senders;
    std::uint64_t total = per_sender * mailbox_senders;
    std::uint64_t got = 0;
    auto start = clock::now();
    caf::actor receiver = sys.spawn(mailbox_receiver, total, &got);
    for (std::uint64_t i = 0; i < mailbox_senders; ++i)
        sys.spawn(mailbox_sender, receiver, per_sender);
    receiver = nullptr;
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("messages received", got, total);
    return static_cast<double>(total) / s;
}

double caf_mixed_case(std::uint64_t n) {
    caf_config cfg(2);
    caf::actor_system sys{cfg};
    std::uint64_t bad = 0;
    auto start = clock::now();
    caf::actor collector = sys.spawn(supervisor, mixed_rings * (mixed_repetitions + 1), &bad);
    for (std::uint64_t i = 0; i < mixed_rings; ++i) sys.spawn(chain_master, collector, n);
    collector = nullptr;
    sys.await_all_actors_done();
    double s = seconds_since(start);
    expect_count("wrong factorizations", bad, 0);
    return s;
}

}  // namespace coronet::bench
