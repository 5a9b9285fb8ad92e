#pragma once

#include <cstdint>

/// The measured code of every workload, one function per workload and system.
/// Each runs in a process of its own (see main.cpp), returns the workload's
/// number in its unit and throws `failure` when the run went wrong.
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

}  // namespace coronet::bench
