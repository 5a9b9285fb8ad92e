#pragma once

#include <cstdint>

/// The measured code of every workload, one function per workload and system.
/// Each runs in a process of its own (see main.cpp), returns the workload's
/// number in its unit and throws `failure` when the run went wrong
/// (`unavailable` when the system cannot run on this machine).
namespace coronet::bench {

// coronet (coronet_workloads.cpp)
double coronet_spawn(std::uint64_t n);          ///< coroutines/s, one shard
double coronet_parked_memory(std::uint64_t n);  ///< bytes per parked coroutine
double coronet_submit_to(std::uint64_t n);      ///< round trips/s, shard 0 -> 1
double coronet_timer_storm(std::uint64_t n);    ///< ns per sleeping coroutine

// CAF 0.17 (caf_workloads.cpp)
double caf_spawn(std::uint64_t n);             ///< actors/s, one scheduler thread
double caf_parked_memory(std::uint64_t n);     ///< bytes per idle actor
double caf_request_response(std::uint64_t n);  ///< round trips/s, two threads
/// round trips/s, the responder detached on a thread of its own
double caf_request_response_detached(std::uint64_t n);
double caf_timer_storm(std::uint64_t n);  ///< ns per delayed message

// a bare C++20 coroutine, the floor (floor_workloads.cpp)
double frame_spawn(std::uint64_t n);          ///< frames created and completed/s
double frame_parked_memory(std::uint64_t n);  ///< bytes per suspended frame

// The actor workloads (actors_params.hpp holds what the systems share).

// coronet (actors_coronet_workloads.cpp)
double coronet_ping_pong_same(std::uint64_t n);       ///< messages/s, one shard
double coronet_ping_pong_cross(std::uint64_t n);      ///< messages/s, shard 0 <-> 1
double coronet_one_way(std::uint64_t n);              ///< ns per message, one shard
double coronet_broadcast(std::uint64_t n);            ///< deliveries/s, two shards
double coronet_actor_creation(std::uint64_t n);       ///< s for a tree of n actors
double coronet_mailbox_performance(std::uint64_t n);  ///< messages/s, 20 senders
double coronet_mixed_case(std::uint64_t n);           ///< s, n the initial token value

// CAF 0.17 (actors_caf_workloads.cpp)
double caf_ping_pong_same(std::uint64_t n);   ///< messages/s, one scheduler thread
double caf_ping_pong_cross(std::uint64_t n);  ///< messages/s, two scheduler threads
/// messages/s, the ponger detached on a thread of its own
double caf_ping_pong_cross_detached(std::uint64_t n);
double caf_one_way(std::uint64_t n);              ///< ns per message, one thread
double caf_broadcast(std::uint64_t n);            ///< deliveries/s through a group
double caf_actor_creation(std::uint64_t n);       ///< s for a tree of n actors
double caf_mailbox_performance(std::uint64_t n);  ///< messages/s, 20 senders
double caf_mixed_case(std::uint64_t n);           ///< s, n the initial token value

// Go, goroutines and unbuffered channels (go_peer.cpp runs bench/go/)
double go_ping_pong_same(std::uint64_t n);   ///< messages/s, GOMAXPROCS=1
double go_ping_pong_cross(std::uint64_t n);  ///< messages/s, GOMAXPROCS=2

// The TCP echo workloads are in echo.hpp.

// a queue and a coroutine consumer on one thread, the floor (actors_floor_workloads.cpp)
double floor_one_way(std::uint64_t n);  ///< ns per message
// two threads handing a cache line back and forth, the floor (actors_floor_workloads.cpp)
double floor_cross_thread(std::uint64_t n);  ///< hand-overs/s

}  // namespace coronet::bench
