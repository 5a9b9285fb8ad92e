#pragma once

#include <coronet/runtime/semaphore.hpp>
#include <coronet/runtime/task.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

/// Databases through unixODBC (link coronet::odbc).
///
/// Every ODBC call goes through the shard's I/O dispatcher
/// (`coronet::call_blocking` with `io_op::odbc`), keyed by the data source and
/// the statement text: a statement that keeps completing quickly runs inline,
/// at the cost of a function call; a slow one runs on the blocking pool while
/// the shard serves other coroutines. `runtime::io_stats(io_op::odbc)` counts
/// which. Choose `connection` for one session, `pool` to share a bounded set
/// of sessions among many coroutines.
namespace coronet::odbc {

/// An ODBC diagnostic: SQLSTATE, the driver's native code and its message.
/// `what()` also names the call that failed.
class error : public std::runtime_error {
public:
    error(std::string sqlstate, std::int32_t native_code, std::string message,
          const std::string& call);

    /// The five-character SQLSTATE ("42000", "23000", "08S01", ...).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    std::int32_t native_code() const noexcept { return native_code_; }
    /// The driver's message (all its diagnostic records, one per line).
    const std::string& message() const noexcept { return message_; }
    /// The ODBC function (or coronet operation) that failed.
    const std::string& call() const noexcept { return call_; }
    /// True for SQLSTATE class 08: the connection is gone and is not reused.
    /// An error after which the driver says the connection is dead
    /// (SQL_ATTR_CONNECTION_DEAD) is reported as 08S01, whatever its own state.
    bool connection_lost() const noexcept { return sqlstate_.starts_with("08"); }

private:
    std::string sqlstate_;
    std::int32_t native_code_;
    std::string message_;
    std::string call_;
};

/// SQL NULL, as a parameter or a value.
struct null_t {
    bool operator==(const null_t&) const = default;
};
inline constexpr null_t null{};

using blob = std::vector<std::byte>;
using date = std::chrono::year_month_day;
/// A date and time without time zone (SQL TIMESTAMP), to the microsecond.
using timestamp = std::chrono::local_time<std::chrono::microseconds>;

/// A parameter or a column's value.
using value = std::variant<null_t, std::int64_t, double, std::string, blob, date, timestamp>;

/// Makes the value of one parameter: integers (and bool) as `std::int64_t`,
/// floating point as `double`, strings, blobs, dates, timestamps, `null`, and
/// `std::optional` of those (empty for NULL).
template <class T>
value to_value(T&& v) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<U, value>)
        return std::forward<T>(v);
    else if constexpr (std::is_same_v<U, std::nullptr_t> || std::is_same_v<U, null_t>)
        return null;
    else if constexpr (std::is_integral_v<U>)
        return static_cast<std::int64_t>(v);
    else if constexpr (std::is_floating_point_v<U>)
        return static_cast<double>(v);
    else if constexpr (std::is_convertible_v<T, std::string_view>)
        return std::string(std::string_view(v));
    else if constexpr (requires {
                           v.has_value();
                           *v;
                       })
        return v ? to_value(*std::forward<T>(v)) : value(null);
    else
        return value(std::forward<T>(v));
}

/// What the driver says of one result column.
struct column {
    std::string name;
    std::int16_t sql_type = 0;  ///< SQL_INTEGER, SQL_VARCHAR, ... (<sql.h>)
    std::uint64_t size = 0;     ///< the column size (characters, digits, bytes)
    std::int16_t decimal_digits = 0;
    bool nullable = true;  ///< false only when the driver knows it is NOT NULL
};

/// One fetched row. Columns count from 0.
class row {
public:
    row() = default;
    explicit row(std::vector<value> values) : values_(std::move(values)) {}

    std::size_t size() const noexcept { return values_.size(); }
    bool is_null(std::size_t column) const { return std::holds_alternative<null_t>(at(column)); }
    const value& at(std::size_t column) const;

    /// The column as `T` (`std::int64_t`, `double`, `std::string`, `blob`,
    /// `date`, `timestamp`); empty for NULL. Numbers and text convert to each
    /// other where the text is a number; a value that does not convert throws
    /// `odbc::error` with SQLSTATE 22018, an index out of range 07009.
    template <class T>
    std::optional<T> get(std::size_t column) const;

private:
    std::vector<value> values_;
};

struct connection_state;
struct statement_state;

/// A prepared statement of a connection. Parameters (`?`) count from 0.
///
/// Errors: `odbc::error`. Cancellation: terminating the coroutine while
/// `execute` or `fetch` runs on the blocking pool cancels the call with
/// `SQLCancel` (repeated until the driver gives up the call); an inline call
/// runs to its end. Thread safety: one coroutine at a time; the statement may
/// move between shards, and it keeps its connection's handle open (not the
/// connection itself: a closed connection's statements fail).
///
///     auto insert = co_await db.prepare("INSERT INTO t(id, name) VALUES (?, ?)");
///     co_await insert.execute(1, "one");
///     auto select = co_await db.prepare("SELECT name FROM t WHERE id = ?");
///     co_await select.execute(1);
///     while (auto r = co_await select.fetch()) use(r->get<std::string>(0));
class statement {
public:
    statement() noexcept;
    explicit statement(std::shared_ptr<statement_state> s) noexcept;
    statement(statement&&) noexcept;
    statement& operator=(statement&&) noexcept;
    ~statement();

    /// Sets parameter `index` for the following executions.
    statement& bind(std::size_t index, value v);

    /// Binds `args` to the parameters in order (if any are given) and executes
    /// the statement; the previous result set is closed first. Returns the
    /// number of rows affected, or -1 where that does not apply (a SELECT).
    template <class... Args>
    [[nodiscard]] task<std::int64_t> execute(Args&&... args) {
        if constexpr (sizeof...(Args) > 0) {
            std::size_t i = 0;
            (bind(i++, to_value(std::forward<Args>(args))), ...);
        }
        return run();
    }

    /// The next row of the result set, or empty at its end.
    [[nodiscard]] task<std::optional<row>> fetch();
    /// The remaining rows of the result set.
    [[nodiscard]] task<std::vector<row>> fetch_all();

    /// The result set's columns (empty for a statement without one).
    const std::vector<column>& columns() const;
    /// The rows affected by the last execution, or -1.
    std::int64_t affected_rows() const;
    /// The statement's text.
    const std::string& sql() const;
    /// True while a call of the statement is in the driver (any thread).
    bool executing() const noexcept;
    /// The shared state (for coronet::odbc itself).
    const std::shared_ptr<statement_state>& state() const noexcept { return s_; }

private:
    [[nodiscard]] task<std::int64_t> run();
    std::shared_ptr<statement_state> s_;
};

/// How `connection::open` connects.
struct connect_options {
    /// The login timeout handed to the driver (whole seconds, at least 1).
    std::chrono::milliseconds timeout = std::chrono::seconds(15);
    bool autocommit = true;
};

/// One session with a data source.
///
/// `open` takes a DSN ("mydb") or a connection string
/// ("DRIVER=SQLite3;Database=/tmp/x.db"). The dispatcher keys calls by the
/// connection string without its password and the statement text.
///
/// Errors: `odbc::error`; once one of class 08 (connection lost) was thrown,
/// `broken()` is true and the connection should be dropped (a pool does so).
/// Cancellation: as `statement`; `open` cut short closes what it opened.
/// Thread safety: one coroutine at a time; it may move between shards.
/// Closing: `co_await close()` disconnects through the dispatcher; the
/// destructor of a connection still open disconnects synchronously.
///
///     auto db = co_await coronet::odbc::connection::open("DRIVER=SQLite3;Database=app.db");
///     co_await db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)");
///     co_await db.begin();
///     co_await db.execute("INSERT INTO t VALUES (?, ?)", 1, "one");
///     co_await db.commit();
class connection {
public:
    connection() noexcept;
    connection(connection&&) noexcept;
    connection& operator=(connection&&) noexcept;
    ~connection();

    /// Connects to `target`, a DSN or a connection string.
    [[nodiscard]] static task<connection> open(std::string target, connect_options options = {});

    /// Prepares `sql`.
    [[nodiscard]] task<statement> prepare(std::string sql);

    /// Executes `sql` with `args`; the rows affected, or -1. The connection
    /// keeps the statement prepared for the next `execute` or `query` of the
    /// same text (up to 64 statements).
    template <class... Args>
    [[nodiscard]] task<std::int64_t> execute(std::string sql, Args... args) {
        statement s = co_await prepared(std::move(sql));
        co_return co_await s.execute(std::move(args)...);
    }

    /// Executes `sql` with `args`; all the rows it returns. Prepared once, as
    /// `execute`.
    template <class... Args>
    [[nodiscard]] task<std::vector<row>> query(std::string sql, Args... args) {
        statement s = co_await prepared(std::move(sql));
        auto executed = s.execute(std::move(args)...);
        co_await std::move(executed);
        co_return co_await s.fetch_all();
    }

    /// Starts a transaction: turns autocommit off until commit or rollback.
    [[nodiscard]] task<void> begin();
    /// Commits the transaction (and turns autocommit back on after `begin`).
    [[nodiscard]] task<void> commit();
    /// Rolls the transaction back (and turns autocommit back on after `begin`).
    [[nodiscard]] task<void> rollback();
    /// Turns autocommit on or off.
    [[nodiscard]] task<void> set_autocommit(bool on);
    bool autocommit() const noexcept;

    /// True once the connection was lost (an error of SQLSTATE class 08).
    bool broken() const noexcept;
    /// True while connected (not closed, not moved from).
    bool is_open() const noexcept { return s_ != nullptr; }
    /// The data source: the connection string without its password.
    const std::string& data_source() const;

    /// Disconnects.
    [[nodiscard]] task<void> close();

private:
    static constexpr std::size_t max_prepared = 64;
    /// The statement `sql` that execute and query keep prepared.
    [[nodiscard]] task<statement> prepared(std::string sql);
    void forget_prepared() noexcept;
    std::shared_ptr<connection_state> s_;
};

/// How a `pool` connects and how many connections it keeps.
struct pool_options {
    std::size_t max_size = 8;  ///< at most this many connections, in use or idle
    connect_options connect;
};

class pool;

/// A connection taken from a pool; returns it to the pool when destroyed
/// (discards it if it was lost, or if `discard()` was called).
class pooled_connection {
public:
    pooled_connection(pooled_connection&& o) noexcept
        : pool_(std::exchange(o.pool_, nullptr)), c_(std::move(o.c_)) {}
    pooled_connection& operator=(pooled_connection&&) = delete;
    ~pooled_connection();

    connection& operator*() noexcept { return c_; }
    connection* operator->() noexcept { return &c_; }
    /// Do not return the connection to the pool: it is closed instead.
    void discard() noexcept { discard_ = true; }

private:
    friend class pool;
    pooled_connection(pool* p, connection c) noexcept : pool_(p), c_(std::move(c)) {}
    pool* pool_;
    connection c_;
    bool discard_ = false;
};

/// A bounded set of connections to one data source, shared by coroutines on
/// any shard. `acquire` hands out an idle connection, opens a new one while
/// fewer than `max_size` exist, or waits for one to be returned. A lost
/// connection (SQLSTATE class 08) is not returned: it is closed and the next
/// `acquire` opens a new one, so the pool recovers when the server comes back.
///
/// Errors: `acquire` throws the `odbc::error` of a failed connect (the slot
/// is freed). Cancellation: terminating a waiting `acquire` takes it out of
/// the queue. Thread safety: any shard; the pool must outlive its connections.
///
///     coronet::odbc::pool db("DRIVER=SQLite3;Database=app.db", {.max_size = 4});
///     if (auto c = co_await db.acquire(std::chrono::seconds(5))) {
///         auto rows = co_await (*c)->query("SELECT name FROM t WHERE id = ?", 1);
///         show(rows);
///     }  // the connection goes back to the pool here
class pool {
public:
    explicit pool(std::string target, pool_options options = {});
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;
    ~pool();

    /// A connection, waiting at most `timeout` for one; empty on timeout.
    [[nodiscard]] task<std::optional<pooled_connection>> acquire(
        std::chrono::milliseconds timeout = std::chrono::seconds(30));

    /// Connections open now (idle or in use).
    std::size_t size() const;
    /// Connections idle in the pool now.
    std::size_t idle() const;
    /// Connections opened so far.
    std::uint64_t opened() const;
    /// Connections closed because they were lost or discarded.
    std::uint64_t discarded() const;

private:
    friend class pooled_connection;
    void give_back(connection c, bool discard) noexcept;
    [[nodiscard]] task<void> close_retired();

    std::string target_;
    pool_options options_;
    semaphore slots_;
    mutable std::mutex mutex_;
    std::deque<connection> idle_;
    std::vector<connection> retired_;
    std::size_t size_ = 0;
    std::uint64_t opened_ = 0;
    std::uint64_t discarded_ = 0;
};

}  // namespace coronet::odbc
