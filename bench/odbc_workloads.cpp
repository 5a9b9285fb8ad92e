// The ODBC workloads: small queries by one coroutine, and many coroutines on
// a pool, through coronet::odbc (and so the dispatcher), against the same
// queries called synchronously with plain ODBC on one thread.

#include "odbc_workloads.hpp"

#include "measure.hpp"

#include <coronet/net/odbc.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/join_handle.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <sql.h>
#include <sqlext.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace coronet::bench {
namespace {

constexpr std::int64_t items = 10'000;
constexpr std::int64_t range = 200;
constexpr const char* lookup = "SELECT name, price FROM item WHERE id = ?";
constexpr const char* range_sum =
    "SELECT count(*), sum(price) FROM item WHERE id BETWEEN ? AND ? + 199";

// --- plain ODBC, for the peers and to fill the database

void check(SQLRETURN r, SQLSMALLINT type, SQLHANDLE h, const char* what) {
    if (SQL_SUCCEEDED(r)) return;
    std::array<SQLCHAR, 6> state{};
    std::array<SQLCHAR, 512> text{};
    SQLINTEGER native = 0;
    SQLSMALLINT length = 0;
    SQLGetDiagRec(type, h, 1, state.data(), &native, text.data(),
                  static_cast<SQLSMALLINT>(text.size()), &length);
    throw failure(std::string(what) + ": [" + reinterpret_cast<const char*>(state.data()) + "] " +
                  reinterpret_cast<const char*>(text.data()));
}

/// One plain ODBC connection and a statement on it.
class plain_connection {
public:
    explicit plain_connection(const std::string& cs) {
        SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env_);
        SQLSetEnvAttr(env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0);
        SQLAllocHandle(SQL_HANDLE_DBC, env_, &dbc_);
        std::string text = cs;
        check(SQLDriverConnect(dbc_, nullptr, reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS,
                               nullptr, 0, nullptr, SQL_DRIVER_NOPROMPT),
              SQL_HANDLE_DBC, dbc_, "SQLDriverConnect");
        SQLAllocHandle(SQL_HANDLE_STMT, dbc_, &stmt_);
    }
    plain_connection(const plain_connection&) = delete;
    plain_connection& operator=(const plain_connection&) = delete;
    ~plain_connection() {
        SQLFreeHandle(SQL_HANDLE_STMT, stmt_);
        SQLDisconnect(dbc_);
        SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
        SQLFreeHandle(SQL_HANDLE_ENV, env_);
    }

    void run(const char* sql) {
        check(SQLExecDirect(stmt_, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql)), SQL_NTS),
              SQL_HANDLE_STMT, stmt_, sql);
    }
    SQLHSTMT statement() const noexcept { return stmt_; }
    SQLHDBC connection() const noexcept { return dbc_; }

private:
    SQLHENV env_ = SQL_NULL_HENV;
    SQLHDBC dbc_ = SQL_NULL_HDBC;
    SQLHSTMT stmt_ = SQL_NULL_HSTMT;
};

/// A SQLite database of `items` items in a temporary directory.
class item_database {
public:
    item_database() {
        const char* tmp = std::getenv("TMPDIR");
        dir_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/coronet-bench-odbc-XXXXXX";
        if (!::mkdtemp(dir_.data())) throw failure("mkdtemp failed");
        cs_ = "DRIVER=SQLite3;Database=" + dir_ + "/items.db";
        plain_connection c(cs_);
        c.run("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price DOUBLE)");
        c.run("BEGIN");
        c.run(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9999) "
            "INSERT INTO item SELECT i, 'item ' || i, i * 0.5 FROM n");
        c.run("COMMIT");
    }
    item_database(const item_database&) = delete;
    item_database& operator=(const item_database&) = delete;
    ~item_database() { std::filesystem::remove_all(dir_); }
    const std::string& connection_string() const noexcept { return cs_; }

private:
    std::string dir_;
    std::string cs_;
};

/// Runs `sql` prepared with one integer parameter `n` times on plain ODBC,
/// fetching every row's two columns: queries/s.
double plain_queries(const char* sql, std::uint64_t n, std::int64_t (*key)(std::uint64_t)) {
    item_database db;
    plain_connection c(db.connection_string());
    SQLHSTMT s = c.statement();
    check(SQLPrepare(s, reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql)), SQL_NTS),
          SQL_HANDLE_STMT, s, "SQLPrepare");
    SQLBIGINT param = 0;
    SQLLEN param_length = 0;
    SQLSMALLINT count = 0;
    SQLNumParams(s, &count);
    for (SQLUSMALLINT p = 1; p <= static_cast<SQLUSMALLINT>(count); ++p)
        check(SQLBindParameter(s, p, SQL_PARAM_INPUT, SQL_C_SBIGINT, SQL_BIGINT, 0, 0, &param, 0,
                               &param_length),
              SQL_HANDLE_STMT, s, "SQLBindParameter");
    std::array<char, 64> first{};
    double second = 0;
    SQLLEN first_length = 0, second_length = 0;
    std::uint64_t rows = 0;
    auto start = clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        param = key(i);
        check(SQLExecute(s), SQL_HANDLE_STMT, s, "SQLExecute");
        while (SQLFetch(s) == SQL_SUCCESS) {
            SQLGetData(s, 1, SQL_C_CHAR, first.data(), static_cast<SQLLEN>(first.size()),
                       &first_length);
            SQLGetData(s, 2, SQL_C_DOUBLE, &second, 0, &second_length);
            ++rows;
        }
        SQLCloseCursor(s);
    }
    double rate = static_cast<double>(n) / seconds_since(start);
    if (rows != n) throw failure("a query found no row");
    return rate;
}

/// plain_queries on a thread of its own while this one waits, as coronet runs
/// its coroutine on a shard thread: in a process of one thread glibc (mutexes
/// without atomic instructions, no cancellation points around system calls)
/// and the kernel (file descriptors without reference counts) take fast paths
/// that no program using coronet, nor any threaded server, has; SQLite and
/// the driver manager lock a mutex on every call.
double plain_loop(const char* sql, std::uint64_t n, std::int64_t (*key)(std::uint64_t)) {
    double rate = 0;
    std::exception_ptr error;
    std::thread([&] {
        try {
            rate = plain_queries(sql, n, key);
        } catch (...) {
            error = std::current_exception();
        }
    }).join();
    if (error) std::rethrow_exception(error);
    return rate;
}

std::int64_t lookup_key(std::uint64_t i) {
    return static_cast<std::int64_t>(i * 7919 % items);
}
std::int64_t range_start(std::uint64_t i) {
    return static_cast<std::int64_t>(i * 7919 % (items - range));
}

void report_inline_share(const runtime& rt) {
    io_counters c = rt.io_stats(io_op::odbc);
    double all = static_cast<double>(c.inline_completions + c.offloads);
    report_metric("inline_share", all > 0 ? 100.0 * c.inline_completions / all : 0);
}

/// Opens `count` connections of `pool` before the clock starts, as the peers'
/// connection is.
void open_connections(runtime& rt, odbc::pool& pool, std::size_t count) {
    rt.sync_wait([&]() -> task<void> {
        std::vector<odbc::pooled_connection> held;
        for (std::size_t i = 0; i < count; ++i) held.push_back(std::move(*co_await pool.acquire()));
    }());
}

/// Runs `client(k)` for each k < `clients` as a coroutine of `rt`; the sum of
/// what they return.
template <class Client>
std::uint64_t run_clients(runtime& rt, std::uint64_t clients, Client client) {
    std::vector<join_handle<std::uint64_t>> handles;
    for (std::uint64_t k = 0; k < clients; ++k) handles.push_back(rt.spawn(client, k));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += h.wait();
    return sum;
}

}  // namespace

double coronet_odbc_small_queries(std::uint64_t n) {
    item_database db;
    runtime_options o;
    o.shards = 1;
    runtime rt(o);
    double rate = rt.sync_wait([&]() -> task<double> {
        auto c = co_await odbc::connection::open(db.connection_string());
        auto s = co_await c.prepare(lookup);
        std::uint64_t rows = 0;
        auto start = clock::now();
        for (std::uint64_t i = 0; i < n; ++i) {
            co_await s.execute(lookup_key(i));
            while (auto r = co_await s.fetch()) rows += r->get<std::string>(0).has_value();
        }
        double rate = static_cast<double>(n) / seconds_since(start);
        if (rows != n) throw failure("a lookup found no row");
        co_return rate;
    }());
    report_inline_share(rt);
    return rate;
}

double plain_odbc_small_queries(std::uint64_t n) {
    return plain_loop(lookup, n, lookup_key);
}

double coronet_odbc_pool(std::uint64_t n) {
    constexpr std::uint64_t clients = 64;
    item_database db;
    runtime_options o;
    o.shards = 2;
    runtime rt(o);
    odbc::pool pool(db.connection_string(), {.max_size = 8, .connect = {}});
    open_connections(rt, pool, 8);
    auto start = clock::now();
    std::uint64_t found =
        run_clients(rt, clients, [&pool, n](std::uint64_t first) -> task<std::uint64_t> {
            std::uint64_t found = 0;
            for (std::uint64_t i = first; i < n; i += clients) {
                auto c = co_await pool.acquire();
                auto rows = co_await (*c)->query(range_sum, range_start(i), range_start(i));
                found += rows.at(0).get<std::int64_t>(0).value_or(0) == range;
            }
            co_return found;
        });
    double rate = static_cast<double>(n) / seconds_since(start);
    if (found != n) throw failure("a range sum counted the wrong rows");
    report_inline_share(rt);
    return rate;
}

double plain_odbc_pool_queries(std::uint64_t n) {
    return plain_loop(range_sum, n, range_start);
}

double odbc_mixed_queries(io_mode mode, std::uint64_t n) {
    constexpr std::uint64_t clients = 16;
    constexpr const char* slow_report =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) "
        "SELECT count(*) FROM c";
    item_database db;
    runtime_options o;
    o.shards = 1;
    o.io = mode;
    runtime rt(o);
    odbc::pool pool(db.connection_string(), {.max_size = clients, .connect = {}});
    open_connections(rt, pool, clients);
    std::vector<std::vector<double>> latencies(clients);
    auto start = clock::now();
    std::uint64_t found = run_clients(
        rt, clients, [&pool, &latencies, n](std::uint64_t first) -> task<std::uint64_t> {
            std::uint64_t found = 0;
            for (std::uint64_t i = first; i < n; i += clients) {
                auto c = co_await pool.acquire();
                if (i % 10 == 9) {
                    co_await (*c)->query(slow_report);
                    ++found;
                    continue;
                }
                auto t0 = clock::now();
                auto rows = co_await (*c)->query(lookup, lookup_key(i));
                latencies[first].push_back(
                    std::chrono::duration<double, std::micro>(clock::now() - t0).count());
                found += rows.size() == 1;
            }
            co_return found;
        });
    double rate = static_cast<double>(n) / seconds_since(start);
    if (found != n) throw failure("a lookup found no row");
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    report_metric("fast_p99", all.empty() ? 0 : all[all.size() * 99 / 100]);
    report_inline_share(rt);
    return rate;
}

}  // namespace coronet::bench
