#pragma once

#include <gtest/gtest.h>
#include <coronet/coronet.hpp>

#include <utility>

namespace coronet::testing {

/// A runtime of two shards for each test, so that cross-shard paths run.
class runtime_test : public ::testing::Test {
protected:
    static runtime_options options() {
        runtime_options o;
        o.shards = 2;
        return o;
    }

    /// Runs `t` on the runtime and returns its value (or rethrows).
    template <class T>
    T run(task<T> t) {
        return rt_.sync_wait(std::move(t));
    }

    runtime rt_{options()};
};

}  // namespace coronet::testing
