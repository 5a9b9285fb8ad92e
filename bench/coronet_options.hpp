#pragma once

#include <coronet/runtime/runtime.hpp>

#include <chrono>

namespace coronet::bench {

/// A runtime of `shards` shards for the engine and actor workloads. Their
/// drivers spawn, wake or send a million times in one go, and the mixed case's
/// factorizer computes, on purpose: not a stall worth a warning.
inline runtime_options with_shards(unsigned shards) {
    runtime_options o;
    o.shards = shards;
    o.stall_threshold = std::chrono::minutes(1);
    return o;
}

}  // namespace coronet::bench
