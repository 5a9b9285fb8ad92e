#pragma once

#include <bit>
#include <cstdint>
#include <vector>

/// The parameters the actor workloads share across systems, so that coronet,
/// CAF and the floor run exactly the same thing. docs/benchmarks.md explains
/// each workload.
namespace coronet::bench {

// ---------------------------------------------------------------- one_way_mailbox

/// The consumer acknowledges every `one_way_window` messages and the producer
/// waits for that before it sends the next window, so the mailbox never holds
/// more than one window (10,000,000 queued messages would measure the memory
/// system rather than the mailbox).
inline constexpr std::uint64_t one_way_window = 1024;

// ---------------------------------------------------------------- broadcast

/// Subscribers of the broadcast channel or group.
inline constexpr std::uint64_t broadcast_subscribers = 1000;
/// Each subscriber acknowledges every `broadcast_window` messages; the sender
/// keeps at most two windows in flight.
inline constexpr std::uint64_t broadcast_window = 100;

// ---------------------------------------------------------------- mailbox_performance

/// Senders, each sending N / mailbox_senders messages to the one receiver.
inline constexpr std::uint64_t mailbox_senders = 20;

// ---------------------------------------------------------------- actor_creation

/// The depth POW of the tree of 2^POW - 1 actors, for N = 2^POW - 1 actors
/// (N is rounded down to such a number).
inline unsigned creation_depth(std::uint64_t n) {
    return static_cast<unsigned>(std::bit_width(n + 1)) - 1;
}
inline std::uint64_t creation_actors(unsigned depth) {
    return (std::uint64_t{1} << depth) - 1;
}

// ---------------------------------------------------------------- mixed_case

/// CAF's mixed_case with N as the initial token value: `mixed_rings` rings of
/// `mixed_ring_size` actors, each rebuilt `mixed_repetitions` times, and per
/// ring and repetition one factorization of `mixed_task` by a worker.
inline constexpr std::uint64_t mixed_rings = 20;
inline constexpr std::uint64_t mixed_ring_size = 50;
inline constexpr std::uint64_t mixed_repetitions = 5;

/// Two primes; CAF's suite uses 86028157 and 329545133, whose product takes
/// seconds to factorize by trial division. These take a few milliseconds.
inline constexpr std::uint64_t mixed_factor1 = 100'003;
inline constexpr std::uint64_t mixed_factor2 = 1'000'003;
inline constexpr std::uint64_t mixed_task = mixed_factor1 * mixed_factor2;

/// The factors of `n` by trial division, as the suite computes them.
inline std::vector<std::uint64_t> factorize(std::uint64_t n) {
    std::vector<std::uint64_t> out;
    if (n <= 3) {
        out.push_back(n);
        return out;
    }
    std::uint64_t d = 2;
    while (d < n) {
        if (n % d == 0) {
            out.push_back(d);
            n /= d;
        } else {
            d = d == 2 ? 3 : d + 2;
        }
    }
    out.push_back(d);
    return out;
}

inline bool factors_ok(const std::vector<std::uint64_t>& f) {
    return f.size() == 2 && f[0] == mixed_factor1 && f[1] == mixed_factor2;
}

}  // namespace coronet::bench
