#pragma once

// The state behind coronet::odbc's handles, and the one way ODBC is called:
// through the dispatcher, keyed by data source and statement.

#include <coronet/net/odbc.hpp>
#include <coronet/runtime/call_blocking.hpp>

#include <sql.h>
#include <sqlext.h>

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace coronet::odbc {

/// Throws the diagnostics of `handle` as an `odbc::error`.
[[noreturn]] void throw_diagnostics(SQLSMALLINT type, SQLHANDLE handle, const char* call);

/// Throws unless `r` is SQL_SUCCESS or SQL_SUCCESS_WITH_INFO.
inline void check(SQLRETURN r, SQLSMALLINT type, SQLHANDLE handle, const char* call) {
    if (r != SQL_SUCCESS && r != SQL_SUCCESS_WITH_INFO) throw_diagnostics(type, handle, call);
}

struct statement_state;

/// The driver's own SQLCancel, called around the driver manager: unixODBC's
/// SQLCancel clears the statement's diagnostics without a lock while the call
/// being cancelled, on another thread, writes them. Null when the driver
/// could not be found (the manager's SQLCancel is used instead).
using cancel_function = SQLRETURN (*)(SQLHSTMT);

struct connection_state {
    SQLHDBC dbc = SQL_NULL_HDBC;
    std::string source;  ///< the connection string without its password
    cancel_function driver_cancel = nullptr;
    void* driver_library = nullptr;  ///< holds the driver loaded for driver_cancel
    std::atomic<bool> broken{false};
    bool autocommit = true;
    bool end_restores_autocommit = false;  ///< begin() turned it off
    /// The statements connection::execute and query prepared, by text.
    std::unordered_map<std::string, std::shared_ptr<statement_state>> prepared;

    connection_state() = default;
    connection_state(const connection_state&) = delete;
    connection_state& operator=(const connection_state&) = delete;
    ~connection_state() { disconnect(); }
    /// SQLDisconnect and free, now, on the calling thread.
    void disconnect() noexcept;
};

/// How a parameter is bound (the arguments of SQLBindParameter).
struct parameter_binding {
    SQLSMALLINT c_type, sql_type, digits;
    SQLULEN size;
    SQLPOINTER data;
    SQLLEN length;
    SQLLEN* indicator;
    bool operator==(const parameter_binding&) const = default;
};

/// The buffers SQLBindParameter points into, alive until SQLExecute returns,
/// and how the parameter is bound now (empty: not yet, or not known).
struct parameter_buffer {
    SQLLEN indicator = 0;
    SQL_DATE_STRUCT day{};
    SQL_TIMESTAMP_STRUCT stamp{};
    std::optional<parameter_binding> bound;
};

struct statement_state : std::enable_shared_from_this<statement_state> {
    std::shared_ptr<connection_state> conn;
    SQLHSTMT stmt = SQL_NULL_HSTMT;
    SQLHSTMT driver_stmt = SQL_NULL_HSTMT;  ///< the driver's handle of `stmt`
    std::string sql;
    blocking_target target;  ///< the dispatcher's key: data source and statement
    bool described = false;  ///< `columns` holds the result's description
    std::size_t parameter_count = 0;
    std::vector<std::optional<value>> params;
    std::vector<parameter_buffer> buffers;
    std::vector<column> columns;
    std::int64_t affected = -1;
    bool cursor_open = false;  ///< the driver has rows left to fetch
    /// Rows of the result read in the call that executed or fetched before:
    /// the next fetch takes `ahead[ahead_taken]` without calling the driver.
    std::vector<row> ahead;
    std::size_t ahead_taken = 0;
    /// What reading ahead threw, for the fetch after the rows in `ahead`.
    std::exception_ptr ahead_error;

    // A call in the driver that SQLCancel may cut short (see canceller).
    std::mutex call_mutex;
    bool in_call = false;
    std::uint64_t calls = 0;  ///< calls that entered the driver so far
    std::atomic<bool> executing{false};

    statement_state() = default;
    statement_state(const statement_state&) = delete;
    statement_state& operator=(const statement_state&) = delete;
    ~statement_state() {
        // SQLDisconnect frees the statements of its connection.
        if (stmt != SQL_NULL_HSTMT && conn->dbc != SQL_NULL_HDBC)
            SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    }
};

/// Cancels the statement's running call with SQLCancel on the terminating
/// coroutine's shard, and again every few milliseconds until the call has
/// returned: a cancel that lands before the driver started the work is lost.
struct canceller {
    statement_state* s;  // alive: its caller waits for the call
    void operator()() const noexcept;
};

/// The dispatcher's key for `what` (a statement's text, or the name of a
/// call) on connection `c`.
inline std::string key_of(const connection_state& c, std::string_view what) {
    std::string key;
    key.reserve(c.source.size() + 1 + what.size());
    key.append(c.source).append(1, '\n').append(what);
    return key;
}

/// After `e`: marks `c` lost when `e` says so (class 08) or the driver says
/// the connection is dead (SQL_ATTR_CONNECTION_DEAD), and rethrows; a dead
/// connection's error is reported as 08S01 whatever the driver called it.
[[noreturn]] void rethrow_marking_loss(connection_state& c, const error& e);

/// `fn` wrapped to mark connection `c` broken when an error lost it.
template <class Fn>
auto marking_loss(connection_state& c, Fn fn) {
    return [&c, fn = std::move(fn)]() mutable {
        try {
            return fn();
        } catch (const error& e) {
            rethrow_marking_loss(c, e);
        }
    };
}

/// Runs `fn` on connection `c` through the dispatcher under `key` (see
/// key_of). An error that lost the connection marks it broken; a broken one
/// is not called. `c` must stay alive until the call returns.
template <class Fn, class Interrupt = detail::no_interrupt>
[[nodiscard]] auto call(connection_state& c, std::string key, Fn fn, Interrupt interrupt = {}) {
    if (c.broken.load()) throw error("08003", 0, "the connection was lost earlier", key);
    return call_blocking(io_op::odbc, std::move(key), marking_loss(c, std::move(fn)),
                         std::move(interrupt));
}

/// As above, for a statement's calls, under its `target`; `target` must stay
/// alive until the call returns.
template <class Fn, class Interrupt = detail::no_interrupt>
[[nodiscard]] auto call(connection_state& c, blocking_target& target, Fn fn,
                        Interrupt interrupt = {}) {
    if (c.broken.load()) throw error("08003", 0, "the connection was lost earlier", target.name());
    return call_blocking(target, marking_loss(c, std::move(fn)), std::move(interrupt));
}

}  // namespace coronet::odbc
