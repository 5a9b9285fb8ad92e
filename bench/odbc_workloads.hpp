#pragma once

#include <coronet/runtime/io_policy.hpp>

#include <cstdint>

/// The ODBC workloads (odbc_workloads.cpp), on a SQLite database that each
/// run makes in $TMPDIR (or /tmp) with a table of 10,000 items, and removes.
namespace coronet::bench {

/// `n` lookups by key ("SELECT name, price FROM item WHERE id = ?", prepared
/// once), executed and fetched by one coroutine on one shard through
/// coronet::odbc: queries/s. Reports `inline_share`.
double coronet_odbc_small_queries(std::uint64_t n);
/// The same lookups with plain ODBC calls in a loop on this thread.
double plain_odbc_small_queries(std::uint64_t n);

/// `n` range sums over 200 items each, by 64 coroutines on two shards sharing
/// a pool of 8 connections: queries/s. Reports `inline_share`.
double coronet_odbc_pool(std::uint64_t n);
/// The same queries with plain ODBC calls, one connection, on this thread.
double plain_odbc_pool_queries(std::uint64_t n);

/// `n` queries by 16 coroutines on one shard sharing a pool of 16
/// connections, the dispatcher in `mode`: 90% lookups by key, 10% a slow
/// report (20,000 rows counted): queries/s. Reports `fast_p99`, the 99th
/// percentile of the lookups' latency in us, and `inline_share`.
double odbc_mixed_queries(io_mode mode, std::uint64_t n);

template <io_mode Mode>
double odbc_mixed_queries(std::uint64_t n) {
    return odbc_mixed_queries(Mode, n);
}

}  // namespace coronet::bench
