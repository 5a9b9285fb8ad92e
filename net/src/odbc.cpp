#include <coronet/net/odbc.hpp>
#include <coronet/runtime/detail/shard_access.hpp>

#include "odbc_calls.hpp"

#include <asio/steady_timer.hpp>

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace coronet::odbc {

namespace {

/// The process's ODBC environment (ODBC 3), made on first use.
SQLHENV environment() {
    static SQLHENV env = [] {
        SQLHENV e = SQL_NULL_HENV;
        if (SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &e) != SQL_SUCCESS)
            throw error("HY001", 0, "cannot allocate an ODBC environment", "SQLAllocHandle");
        check(
            SQLSetEnvAttr(e, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3), 0),
            SQL_HANDLE_ENV, e, "SQLSetEnvAttr");
        return e;
    }();
    return env;
}

/// Held while a driver connects: one connect at a time in the process.
/// psqlODBC sets the process's locale while it connects (setlocale(LC_CTYPE,
/// "") to learn the client's encoding) and reads the name setlocale returns,
/// which another thread's setlocale frees: two connects at once on two pool
/// threads read freed memory.
std::mutex& connect_mutex() {
    static std::mutex m;
    return m;
}

/// `target` as a connection string: a bare name is a DSN.
std::string connection_string(const std::string& target) {
    if (target.find('=') == std::string::npos) return "DSN=" + target + ";";
    return target;
}

bool is_password_key(std::string_view key) {
    std::string k;
    for (char ch : key)
        if (ch != ' ') k += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return k == "PWD" || k == "PASSWORD";
}

/// The connection string without PWD=...: the dispatcher's key, and what
/// data_source() shows.
std::string without_password(const std::string& s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t end = i;
        int braces = 0;
        while (end < s.size() && (s[end] != ';' || braces > 0)) {
            if (s[end] == '{') ++braces;
            if (s[end] == '}' && braces > 0) --braces;
            ++end;
        }
        std::string_view part(s.data() + i, end - i);
        std::string_view key = part.substr(0, part.find('='));
        if (!part.empty() && !is_password_key(key)) {
            out.append(part);
            out += ';';
        }
        i = end + 1;
    }
    return out;
}

std::int64_t affected_rows_of(SQLHSTMT stmt) {
    SQLLEN n = -1;
    check(SQLRowCount(stmt, &n), SQL_HANDLE_STMT, stmt, "SQLRowCount");
    return n;
}

std::vector<column> describe(SQLHSTMT stmt) {
    SQLSMALLINT count = 0;
    check(SQLNumResultCols(stmt, &count), SQL_HANDLE_STMT, stmt, "SQLNumResultCols");
    std::vector<column> cols(static_cast<std::size_t>(count));
    for (SQLUSMALLINT i = 0; i < static_cast<SQLUSMALLINT>(count); ++i) {
        std::array<SQLCHAR, 256> name{};
        SQLSMALLINT name_length = 0, type = 0, digits = 0, nullable = SQL_NULLABLE_UNKNOWN;
        SQLULEN size = 0;
        check(SQLDescribeCol(stmt, i + 1, name.data(), static_cast<SQLSMALLINT>(name.size()),
                             &name_length, &type, &size, &digits, &nullable),
              SQL_HANDLE_STMT, stmt, "SQLDescribeCol");
        column& c = cols[i];
        c.name = reinterpret_cast<const char*>(name.data());
        c.sql_type = type;
        c.size = size;
        c.decimal_digits = digits;
        c.nullable = nullable != SQL_NO_NULLS;
    }
    return cols;
}

// --- parameters

SQL_DATE_STRUCT to_sql(const date& d) {
    return {static_cast<SQLSMALLINT>(static_cast<int>(d.year())),
            static_cast<SQLUSMALLINT>(static_cast<unsigned>(d.month())),
            static_cast<SQLUSMALLINT>(static_cast<unsigned>(d.day()))};
}

SQL_TIMESTAMP_STRUCT to_sql(const timestamp& t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    hh_mm_ss<microseconds> tod(t - day);
    SQL_DATE_STRUCT d = to_sql(year_month_day(day));
    return {d.year,
            d.month,
            d.day,
            static_cast<SQLUSMALLINT>(tod.hours().count()),
            static_cast<SQLUSMALLINT>(tod.minutes().count()),
            static_cast<SQLUSMALLINT>(tod.seconds().count()),
            static_cast<SQLUINTEGER>(tod.subseconds().count() * 1000)};
}

date from_sql(const SQL_DATE_STRUCT& d) {
    return std::chrono::year_month_day(std::chrono::year(d.year), std::chrono::month(d.month),
                                       std::chrono::day(d.day));
}

timestamp from_sql(const SQL_TIMESTAMP_STRUCT& t) {
    using namespace std::chrono;
    auto day = local_days(from_sql(SQL_DATE_STRUCT{t.year, t.month, t.day}));
    return day + hours(t.hour) + minutes(t.minute) + seconds(t.second) +
           microseconds(t.fraction / 1000);
}

/// Binds `v` as parameter `number`, unless it is bound as it would be: the
/// driver reads the value through the bound pointer when it executes.
void bind_one(SQLHSTMT stmt, SQLUSMALLINT number, value& v, parameter_buffer& b) {
    SQLSMALLINT c_type = SQL_C_CHAR, sql_type = SQL_VARCHAR, digits = 0;
    SQLULEN size = 1;
    SQLPOINTER data = nullptr;
    SQLLEN length = 0;
    b.indicator = 0;
    std::visit(
        [&](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, null_t>) {
                b.indicator = SQL_NULL_DATA;
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                c_type = SQL_C_SBIGINT, sql_type = SQL_BIGINT, size = 19, data = &x;
            } else if constexpr (std::is_same_v<T, double>) {
                c_type = SQL_C_DOUBLE, sql_type = SQL_DOUBLE, size = 15, data = &x;
            } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, blob>) {
                if constexpr (std::is_same_v<T, blob>)
                    c_type = SQL_C_BINARY, sql_type = SQL_VARBINARY;
                length = static_cast<SQLLEN>(x.size());
                size = std::max<SQLULEN>(x.size(), 1);
                data = x.data();
                b.indicator = length;
            } else if constexpr (std::is_same_v<T, date>) {
                b.day = to_sql(x);
                c_type = SQL_C_TYPE_DATE, sql_type = SQL_TYPE_DATE, size = 10, data = &b.day;
            } else {
                b.stamp = to_sql(x);
                c_type = SQL_C_TYPE_TIMESTAMP, sql_type = SQL_TYPE_TIMESTAMP, size = 26, digits = 6;
                data = &b.stamp;
            }
        },
        v);
    const parameter_binding binding{c_type, sql_type, digits, size, data, length, &b.indicator};
    if (b.bound && *b.bound == binding) return;
    b.bound.reset();
    check(SQLBindParameter(stmt, number, SQL_PARAM_INPUT, c_type, sql_type, size, digits, data,
                           length, &b.indicator),
          SQL_HANDLE_STMT, stmt, "SQLBindParameter");
    b.bound = binding;
}

// --- columns

/// Reads a variable-length column; empty for NULL. The first piece is short,
/// as most values are: a driver may clear or pad all of the buffer it is
/// given. The rest, if any, goes straight into the value, in one piece when
/// the driver tells the length.
template <class Bytes>
std::optional<Bytes> read_variable(SQLHSTMT stmt, SQLUSMALLINT number, SQLSMALLINT c_type) {
    using byte_type = typename Bytes::value_type;
    const std::size_t terminator = c_type == SQL_C_CHAR ? 1 : 0;
    std::array<char, 256> first;  // not cleared: the driver writes what is read
    SQLLEN indicator = 0;
    SQLRETURN r = SQLGetData(stmt, number, c_type, first.data(), static_cast<SQLLEN>(first.size()),
                             &indicator);
    if (r == SQL_NO_DATA) return Bytes{};
    check(r, SQL_HANDLE_STMT, stmt, "SQLGetData");
    if (indicator == SQL_NULL_DATA) return std::nullopt;
    // What a call wrote: all of the buffer but the terminator when truncated.
    auto written = [terminator](std::size_t buffer, SQLLEN indicator) {
        std::size_t got = buffer - terminator;
        if (indicator != SQL_NO_TOTAL && static_cast<std::size_t>(indicator) <= got)
            got = static_cast<std::size_t>(indicator);
        return got;
    };
    std::size_t got = written(first.size(), indicator);
    auto* p = reinterpret_cast<const byte_type*>(first.data());
    Bytes out(p, p + got);
    while (r == SQL_SUCCESS_WITH_INFO) {  // truncated: more to read
        std::size_t piece = 4096;
        if (indicator != SQL_NO_TOTAL && static_cast<std::size_t>(indicator) > got)
            piece = static_cast<std::size_t>(indicator) - got + terminator;
        std::size_t at = out.size();
        out.resize(at + piece);
        r = SQLGetData(stmt, number, c_type, out.data() + at, static_cast<SQLLEN>(piece),
                       &indicator);
        if (r == SQL_NO_DATA) {
            out.resize(at);
            break;
        }
        check(r, SQL_HANDLE_STMT, stmt, "SQLGetData");
        got = written(piece, indicator);
        out.resize(at + got);
    }
    return out;
}

template <class T>
value read_fixed(SQLHSTMT stmt, SQLUSMALLINT number, SQLSMALLINT c_type) {
    T x{};
    SQLLEN indicator = 0;
    check(SQLGetData(stmt, number, c_type, &x, sizeof x, &indicator), SQL_HANDLE_STMT, stmt,
          "SQLGetData");
    if (indicator == SQL_NULL_DATA) return null;
    if constexpr (std::is_same_v<T, SQL_DATE_STRUCT> || std::is_same_v<T, SQL_TIMESTAMP_STRUCT>)
        return from_sql(x);
    else
        return x;
}

template <class Bytes>
value or_null(std::optional<Bytes> v) {
    if (!v) return null;
    return std::move(*v);
}

value read_column(SQLHSTMT stmt, SQLUSMALLINT number, SQLSMALLINT sql_type) {
    switch (sql_type) {
        case SQL_BIT:
        case SQL_TINYINT:
        case SQL_SMALLINT:
        case SQL_INTEGER:
        case SQL_BIGINT:
            return read_fixed<std::int64_t>(stmt, number, SQL_C_SBIGINT);
        case SQL_REAL:
        case SQL_FLOAT:
        case SQL_DOUBLE:
            return read_fixed<double>(stmt, number, SQL_C_DOUBLE);
        case SQL_BINARY:
        case SQL_VARBINARY:
        case SQL_LONGVARBINARY:
            return or_null(read_variable<blob>(stmt, number, SQL_C_BINARY));
        case SQL_TYPE_DATE:
            return read_fixed<SQL_DATE_STRUCT>(stmt, number, SQL_C_TYPE_DATE);
        case SQL_TYPE_TIMESTAMP:
            return read_fixed<SQL_TIMESTAMP_STRUCT>(stmt, number, SQL_C_TYPE_TIMESTAMP);
        default:  // text, and exact numerics (DECIMAL) as their text
            return or_null(read_variable<std::string>(stmt, number, SQL_C_CHAR));
    }
}

/// Marks a call of `s` as in the driver, for the canceller. Only a call on
/// the blocking pool can be cancelled: one inline on a shard thread cannot
/// (see call_blocking) and skips the canceller's lock.
class in_driver {
public:
    explicit in_driver(statement_state& s) : s_(s), cancellable_(detail::this_shard_index() < 0) {
        s_.executing.store(true, std::memory_order_release);
        if (!cancellable_) return;
        std::lock_guard lock(s_.call_mutex);
        s_.in_call = true;
        ++s_.calls;
    }
    ~in_driver() {
        s_.executing.store(false, std::memory_order_release);
        if (!cancellable_) return;
        std::lock_guard lock(s_.call_mutex);
        s_.in_call = false;
    }
    in_driver(const in_driver&) = delete;
    in_driver& operator=(const in_driver&) = delete;

private:
    statement_state& s_;
    bool cancellable_;
};

void close_cursor(statement_state& s) {
    if (!s.cursor_open) return;
    s.cursor_open = false;
    check(SQLFreeStmt(s.stmt, SQL_CLOSE), SQL_HANDLE_STMT, s.stmt, "SQLFreeStmt");
}

void read_ahead(statement_state& s, std::size_t count);

std::int64_t execute_now(statement_state& s) {
    // The previous result's rows, read ahead or not, are dropped.
    s.ahead.clear();
    s.ahead_taken = 0;
    s.ahead_error = nullptr;
    close_cursor(s);
    std::vector<parameter_buffer>& buffers = s.buffers;
    buffers.resize(s.params.size());
    for (std::size_t i = 0; i < s.params.size(); ++i) {
        if (!s.params[i])
            throw error("07002", 0, "parameter " + std::to_string(i) + " is not bound", "execute");
        bind_one(s.stmt, static_cast<SQLUSMALLINT>(i + 1), *s.params[i], buffers[i]);
    }
    SQLRETURN r;
    {
        in_driver busy(s);
        r = SQLExecute(s.stmt);
    }
    if (r != SQL_NO_DATA) check(r, SQL_HANDLE_STMT, s.stmt, "SQLExecute");
    if (!s.described) {  // a prepared statement's result keeps its shape
        s.columns = describe(s.stmt);
        s.described = true;
    }
    s.cursor_open = !s.columns.empty();
    s.affected = s.cursor_open ? -1 : affected_rows_of(s.stmt);
    // Most results are a row or two: read them (and their end) now, in this
    // call, rather than in a call per fetch.
    read_ahead(s, 2);
    return s.affected;
}

/// The next row from the driver, or empty at the end (the cursor closed).
std::optional<row> fetch_row(statement_state& s) {
    if (!s.cursor_open) return std::nullopt;
    SQLRETURN r;
    {
        in_driver busy(s);
        r = SQLFetch(s.stmt);
    }
    if (r == SQL_NO_DATA) {
        close_cursor(s);
        return std::nullopt;
    }
    check(r, SQL_HANDLE_STMT, s.stmt, "SQLFetch");
    std::vector<value> values;
    values.reserve(s.columns.size());
    for (std::size_t i = 0; i < s.columns.size(); ++i)
        values.push_back(
            read_column(s.stmt, static_cast<SQLUSMALLINT>(i + 1), s.columns[i].sql_type));
    return row(std::move(values));
}

/// Reads up to `count` rows ahead into `s.ahead`, within the call that
/// executed or fetched, so that the caller's next fetches (and the one that
/// finds the end) need no call of their own. An error is kept for the fetch
/// that would have met it, after the rows before it.
void read_ahead(statement_state& s, std::size_t count) {
    try {
        for (std::size_t i = 0; i < count; ++i) {
            std::optional<row> r = fetch_row(s);
            if (!r) return;
            s.ahead.push_back(std::move(*r));
        }
    } catch (const error& e) {
        try {
            rethrow_marking_loss(*s.conn, e);
        } catch (...) {
            s.ahead_error = std::current_exception();
        }
    } catch (...) {
        s.ahead_error = std::current_exception();
    }
}

/// The next row when it is known without calling the driver: true with `out`
/// set to a row read ahead or, at the end, to empty; throws the error reading
/// ahead met. False when the driver must be called.
bool next_known(statement_state& s, std::optional<row>& out) {
    if (s.ahead_taken < s.ahead.size()) {
        out = std::move(s.ahead[s.ahead_taken++]);
        if (s.ahead_taken == s.ahead.size()) {
            s.ahead.clear();
            s.ahead_taken = 0;
        }
        return true;
    }
    if (s.ahead_error) std::rethrow_exception(std::exchange(s.ahead_error, nullptr));
    if (s.cursor_open) return false;
    out.reset();
    return true;
}

/// The next row from the driver, when next_known had none: with it, the row
/// after it is read ahead.
std::optional<row> fetch_now(statement_state& s) {
    std::optional<row> r = fetch_row(s);
    if (r) read_ahead(s, 1);
    return r;
}

void set_autocommit_now(connection_state& c, bool on) {
    auto v = reinterpret_cast<SQLPOINTER>(
        static_cast<std::uintptr_t>(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF));
    check(SQLSetConnectAttr(c.dbc, SQL_ATTR_AUTOCOMMIT, v, 0), SQL_HANDLE_DBC, c.dbc,
          "SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT)");
    c.autocommit = on;
}

// --- row conversions

[[noreturn]] void cannot_convert(const char* from, const char* to) {
    throw error("22018", 0, std::string("cannot convert a ") + from + " value to " + to, "get");
}

template <class N>
std::optional<N> parse_number(const std::string& s) {
    N n{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
}

/// "YYYY-MM-DD[ HH:MM:SS[.ffffff]]" (also with 'T'); empty if it is not one.
std::optional<timestamp> parse_timestamp(const std::string& s, bool date_only) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3) return std::nullopt;
    std::size_t at = static_cast<std::size_t>(used);
    long micros = 0;
    if (!date_only && at < s.size()) {
        if (std::sscanf(s.c_str() + at + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &used) != 3)
            return std::nullopt;
        at += 1 + static_cast<std::size_t>(used);
        if (at < s.size() && s[at] == '.') {
            std::string digits = s.substr(at + 1, 6);
            at += 1 + digits.size();
            digits.resize(6, '0');
            auto n = parse_number<long>(digits);
            if (!n) return std::nullopt;
            micros = *n;
        }
    }
    if (at != s.size()) return std::nullopt;
    using namespace std::chrono;
    year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
    if (!ymd.ok()) return std::nullopt;
    return local_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + microseconds(micros);
}

std::string format_timestamp(const timestamp& t) {
    using namespace std::chrono;
    auto day = floor<days>(t);
    year_month_day ymd(day);
    hh_mm_ss<microseconds> tod(t - day);
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u %02ld:%02ld:%02ld.%06ld",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long>(tod.hours().count()),
                  static_cast<long>(tod.minutes().count()),
                  static_cast<long>(tod.seconds().count()),
                  static_cast<long>(tod.subseconds().count()));
    return buf.data();
}

const char* kind_name(const value& v) {
    static constexpr std::array<const char*, 7> names{"NULL",   "integer", "floating point", "text",
                                                      "binary", "date",    "timestamp"};
    return names[v.index()];
}

template <class T>
T convert(const value& v);

template <>
std::int64_t convert<std::int64_t>(const value& v) {
    if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (auto* d = std::get_if<double>(&v)) {
        auto i = static_cast<std::int64_t>(*d);
        if (static_cast<double>(i) == *d) return i;
    }
    if (auto* s = std::get_if<std::string>(&v))
        if (auto n = parse_number<std::int64_t>(*s)) return *n;
    cannot_convert(kind_name(v), "an integer");
}

template <>
double convert<double>(const value& v) {
    if (auto* d = std::get_if<double>(&v)) return *d;
    if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    if (auto* s = std::get_if<std::string>(&v))
        if (auto n = parse_number<double>(*s)) return *n;
    cannot_convert(kind_name(v), "a floating point number");
}

template <>
std::string convert<std::string>(const value& v) {
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (auto* d = std::get_if<double>(&v)) {
        std::array<char, 32> buf{};
        auto end = std::to_chars(buf.data(), buf.data() + buf.size(), *d).ptr;
        return std::string(buf.data(), end);
    }
    if (auto* t = std::get_if<timestamp>(&v)) return format_timestamp(*t);
    if (auto* d = std::get_if<date>(&v))
        return format_timestamp(std::chrono::local_days(*d)).substr(0, 10);
    cannot_convert(kind_name(v), "text");
}

template <>
blob convert<blob>(const value& v) {
    if (auto* b = std::get_if<blob>(&v)) return *b;
    if (auto* s = std::get_if<std::string>(&v)) {
        blob out(s->size());
        std::memcpy(out.data(), s->data(), s->size());
        return out;
    }
    cannot_convert(kind_name(v), "binary");
}

template <>
timestamp convert<timestamp>(const value& v) {
    if (auto* t = std::get_if<timestamp>(&v)) return *t;
    if (auto* d = std::get_if<date>(&v)) return std::chrono::local_days(*d);
    if (auto* s = std::get_if<std::string>(&v))
        if (auto t = parse_timestamp(*s, false)) return *t;
    cannot_convert(kind_name(v), "a timestamp");
}

template <>
date convert<date>(const value& v) {
    if (auto* d = std::get_if<date>(&v)) return *d;
    if (auto* t = std::get_if<timestamp>(&v))
        return date(std::chrono::floor<std::chrono::days>(*t));
    if (auto* s = std::get_if<std::string>(&v))
        if (auto t = parse_timestamp(*s, true))
            return date(std::chrono::floor<std::chrono::days>(*t));
    cannot_convert(kind_name(v), "a date");
}

}  // namespace

// --- error

error::error(std::string sqlstate, std::int32_t native_code, std::string message,
             const std::string& call)
    : std::runtime_error(call + ": [" + sqlstate + "] " + message +
                         (native_code != 0 ? " (native " + std::to_string(native_code) + ")" : "")),
      sqlstate_(std::move(sqlstate)),
      native_code_(native_code),
      message_(std::move(message)),
      call_(call) {}

void throw_diagnostics(SQLSMALLINT type, SQLHANDLE handle, const char* call) {
    std::string state = "HY000", message;
    SQLINTEGER native = 0;
    for (SQLSMALLINT i = 1;; ++i) {
        std::array<SQLCHAR, 6> rec_state{};
        std::array<SQLCHAR, SQL_MAX_MESSAGE_LENGTH> text{};
        SQLINTEGER rec_native = 0;
        SQLSMALLINT length = 0;
        SQLRETURN r = SQLGetDiagRec(type, handle, i, rec_state.data(), &rec_native, text.data(),
                                    static_cast<SQLSMALLINT>(text.size()), &length);
        if (r != SQL_SUCCESS && r != SQL_SUCCESS_WITH_INFO) break;
        if (i == 1) {
            state = reinterpret_cast<const char*>(rec_state.data());
            native = rec_native;
        } else {
            message += '\n';
        }
        message += reinterpret_cast<const char*>(text.data());
    }
    if (message.empty()) message = "the call failed without a diagnostic";
    throw error(std::move(state), native, std::move(message), call);
}

void rethrow_marking_loss(connection_state& c, const error& e) {
    if (e.connection_lost()) {
        c.broken.store(true);
        throw;
    }
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (c.dbc == SQL_NULL_HDBC ||
        !SQL_SUCCEEDED(SQLGetConnectAttr(c.dbc, SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr)) ||
        dead != SQL_CD_TRUE)
        throw;
    c.broken.store(true);
    throw error("08S01", e.native_code(),
                e.message() + "\n(" + e.sqlstate() + "; the connection is gone)", e.call());
}

// --- row

const value& row::at(std::size_t column) const {
    if (column >= values_.size())
        throw error("07009", 0,
                    "column " + std::to_string(column) + " out of range (the row has " +
                        std::to_string(values_.size()) + ")",
                    "get");
    return values_[column];
}

template <class T>
std::optional<T> row::get(std::size_t column) const {
    const value& v = at(column);
    if (std::holds_alternative<null_t>(v)) return std::nullopt;
    return convert<T>(v);
}

template std::optional<std::int64_t> row::get(std::size_t) const;
template std::optional<double> row::get(std::size_t) const;
template std::optional<std::string> row::get(std::size_t) const;
template std::optional<blob> row::get(std::size_t) const;
template std::optional<date> row::get(std::size_t) const;
template std::optional<timestamp> row::get(std::size_t) const;

// --- connection

void connection_state::disconnect() noexcept {
    if (dbc == SQL_NULL_HDBC) return;
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    dbc = SQL_NULL_HDBC;
    driver_cancel = nullptr;
    if (driver_library) dlclose(driver_library);
    driver_library = nullptr;
}

namespace {

/// The path of the loaded library whose file is named `file` or lib`file`
/// (a driver's SQL_DRIVER_NAME may leave out Debian's "lib"), or "".
std::string loaded_library(std::string_view file) {
    struct search {
        std::string_view file;
        std::string path;
    } s{file, {}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* data) {
            auto& s = *static_cast<search*>(data);
            std::string_view path = info->dlpi_name ? info->dlpi_name : "";
            std::string_view name = path.substr(path.rfind('/') + 1);
            if (name.starts_with("lib") && name.substr(3) == s.file) name.remove_prefix(3);
            if (name != s.file) return 0;
            s.path = path;
            return 1;
        },
        &s);
    return s.path;
}

/// Finds the driver of connected `c` among the loaded libraries and its
/// SQLCancel (see cancel_function); leaves it null if any step fails.
void find_driver_cancel(connection_state& c) noexcept {
    try {
        std::array<char, 512> name{};
        SQLSMALLINT length = 0;
        if (!SQL_SUCCEEDED(SQLGetInfo(c.dbc, SQL_DRIVER_NAME, name.data(),
                                      static_cast<SQLSMALLINT>(name.size()), &length)))
            return;
        std::string path = loaded_library(name.data());
        if (path.empty()) return;
        void* library = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
        if (!library) return;
        auto cancel = reinterpret_cast<cancel_function>(dlsym(library, "SQLCancel"));
        if (!cancel || cancel == &SQLCancel) {
            dlclose(library);
            return;
        }
        c.driver_cancel = cancel;
        c.driver_library = library;
    } catch (...) {  // no memory for the path: the manager's SQLCancel it is
    }
}

/// The driver's handle of `s`'s statement, for its driver_cancel.
void find_driver_statement(statement_state& s) noexcept {
    if (!s.conn->driver_cancel) return;
    SQLHANDLE h = s.stmt;  // in: the manager's handle; out: the driver's
    if (SQL_SUCCEEDED(SQLGetInfo(s.conn->dbc, SQL_DRIVER_HSTMT, &h, sizeof h, nullptr)) &&
        h != SQL_NULL_HANDLE)
        s.driver_stmt = h;
}

}  // namespace

connection::connection() noexcept = default;
connection::connection(connection&&) noexcept = default;

connection& connection::operator=(connection&& o) noexcept {
    if (this != &o) {
        forget_prepared();
        s_ = std::move(o.s_);
    }
    return *this;
}

connection::~connection() {
    forget_prepared();
}

void connection::forget_prepared() noexcept {
    // The kept statements hold the connection's state: a cycle to break.
    if (s_) s_->prepared.clear();
}

task<connection> connection::open(std::string target, connect_options options) {
    if (target.empty()) throw error("HY009", 0, "no data source given", "open");
    auto c = std::make_shared<connection_state>();
    c->source = without_password(connection_string(target));
    SQLULEN seconds =
        static_cast<SQLULEN>(std::max<std::int64_t>(1, (options.timeout.count() + 999) / 1000));
    co_await call(*c, key_of(*c, "connect"), [&target, &options, seconds, state = c.get()] {
        SQLHENV env = environment();
        check(SQLAllocHandle(SQL_HANDLE_DBC, env, &state->dbc), SQL_HANDLE_ENV, env,
              "SQLAllocHandle");
        SQLHDBC dbc = state->dbc;
        auto timeout = reinterpret_cast<SQLPOINTER>(seconds);
        check(SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, timeout, 0), SQL_HANDLE_DBC, dbc,
              "SQLSetConnectAttr(SQL_ATTR_LOGIN_TIMEOUT)");
        std::string text = connection_string(target);
        std::unique_lock one_at_a_time(connect_mutex());
        SQLRETURN r = SQLDriverConnect(dbc, nullptr, reinterpret_cast<SQLCHAR*>(text.data()),
                                       static_cast<SQLSMALLINT>(text.size()), nullptr, 0, nullptr,
                                       SQL_DRIVER_NOPROMPT);
        one_at_a_time.unlock();
        if (r != SQL_SUCCESS && r != SQL_SUCCESS_WITH_INFO) {
            try {
                throw_diagnostics(SQL_HANDLE_DBC, dbc, "SQLDriverConnect");
            } catch (...) {
                SQLFreeHandle(SQL_HANDLE_DBC, dbc);
                state->dbc = SQL_NULL_HDBC;
                throw;
            }
        }
        find_driver_cancel(*state);
        if (!options.autocommit) set_autocommit_now(*state, false);
    });
    connection out;
    out.s_ = std::move(c);
    co_return out;
}

/// The state of connection `c`; 08003 if it is closed (or moved from).
connection_state& open_state(const std::shared_ptr<connection_state>& c, const char* what) {
    if (!c) throw error("08003", 0, "the connection is not open", what);
    return *c;
}

task<statement> connection::prepare(std::string sql) {
    connection_state& c = open_state(s_, "prepare");
    auto s = std::make_shared<statement_state>();
    s->conn = s_;
    s->sql = std::move(sql);
    s->target = blocking_target(io_op::odbc, key_of(c, s->sql));
    co_await call(c, s->target, [state = s.get()] {
        SQLHDBC dbc = state->conn->dbc;
        check(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &state->stmt), SQL_HANDLE_DBC, dbc,
              "SQLAllocHandle");
        find_driver_statement(*state);
        SQLHSTMT stmt = state->stmt;
        check(SQLPrepare(stmt, reinterpret_cast<SQLCHAR*>(state->sql.data()),
                         static_cast<SQLINTEGER>(state->sql.size())),
              SQL_HANDLE_STMT, stmt, "SQLPrepare");
        SQLSMALLINT n = 0;
        check(SQLNumParams(stmt, &n), SQL_HANDLE_STMT, stmt, "SQLNumParams");
        state->parameter_count = static_cast<std::size_t>(n);
        state->params.resize(state->parameter_count);
    });
    co_return statement(std::move(s));
}

task<statement> connection::prepared(std::string sql) {
    connection_state& c = open_state(s_, "execute");
    if (auto it = c.prepared.find(sql); it != c.prepared.end()) {
        for (auto& p : it->second->params) p.reset();
        co_return statement(it->second);
    }
    statement s = co_await prepare(std::move(sql));
    if (c.prepared.size() >= max_prepared) c.prepared.clear();
    c.prepared.emplace(s.sql(), s.state());
    co_return s;
}

task<void> connection::begin() {
    co_await set_autocommit(false);
    s_->end_restores_autocommit = true;
}

task<void> connection::commit() {
    connection_state& state = open_state(s_, "commit");
    co_await call(state, key_of(state, "commit"), [c = &state] {
        check(SQLEndTran(SQL_HANDLE_DBC, c->dbc, SQL_COMMIT), SQL_HANDLE_DBC, c->dbc,
              "SQLEndTran(SQL_COMMIT)");
        if (std::exchange(c->end_restores_autocommit, false)) set_autocommit_now(*c, true);
    });
}

task<void> connection::rollback() {
    connection_state& state = open_state(s_, "rollback");
    co_await call(state, key_of(state, "rollback"), [c = &state] {
        check(SQLEndTran(SQL_HANDLE_DBC, c->dbc, SQL_ROLLBACK), SQL_HANDLE_DBC, c->dbc,
              "SQLEndTran(SQL_ROLLBACK)");
        if (std::exchange(c->end_restores_autocommit, false)) set_autocommit_now(*c, true);
    });
}

task<void> connection::set_autocommit(bool on) {
    connection_state& state = open_state(s_, "set_autocommit");
    co_await call(state, key_of(state, "autocommit"),
                  [c = &state, on] { set_autocommit_now(*c, on); });
}

bool connection::autocommit() const noexcept {
    return s_ && s_->autocommit;
}

bool connection::broken() const noexcept {
    return s_ && s_->broken.load();
}

const std::string& connection::data_source() const {
    static const std::string none;
    return s_ ? s_->source : none;
}

task<void> connection::close() {
    if (!s_) co_return;
    forget_prepared();
    std::shared_ptr<connection_state> c = std::move(s_);
    co_await call_blocking(io_op::odbc, c->source + "\nclose", [&c] { c->disconnect(); });
}

// --- statement

statement::statement() noexcept = default;
statement::statement(std::shared_ptr<statement_state> s) noexcept : s_(std::move(s)) {}
statement::statement(statement&&) noexcept = default;
statement& statement::operator=(statement&&) noexcept = default;
statement::~statement() = default;

statement& statement::bind(std::size_t index, value v) {
    if (index >= s_->params.size())
        throw error("07009", 0,
                    "parameter " + std::to_string(index) + " out of range (the statement has " +
                        std::to_string(s_->params.size()) + ")",
                    "bind");
    s_->params[index] = std::move(v);
    return *this;
}

// The calls are built into locals before they are awaited: GCC 12 mishandles
// temporaries with non-trivial captures inside a co_await expression.

/// The connection of statement `s`; 08003 once it was closed (the driver
/// manager freed the statement with it).
connection_state& connection_of(const std::shared_ptr<statement_state>& s) {
    if (!s) throw error("HY010", 0, "the statement is empty (moved from)", "statement");
    if (s->conn->dbc == SQL_NULL_HDBC)
        throw error("08003", 0, "the statement's connection was closed", s->sql);
    return *s->conn;
}

task<std::int64_t> statement::run() {
    auto executed = call(
        connection_of(s_), s_->target, [s = s_.get()] { return execute_now(*s); },
        canceller{s_.get()});
    co_return co_await std::move(executed);
}

task<std::optional<row>> statement::fetch() {
    connection_state& c = connection_of(s_);
    std::optional<row> known;
    if (next_known(*s_, known)) co_return known;
    auto fetched = call(
        c, s_->target, [s = s_.get()] { return fetch_now(*s); }, canceller{s_.get()});
    co_return co_await std::move(fetched);
}

task<std::vector<row>> statement::fetch_all() {
    connection_state& c = connection_of(s_);
    std::vector<row> rows;
    std::optional<row> known;
    while (next_known(*s_, known)) {
        if (!known) co_return rows;
        rows.push_back(std::move(*known));
    }
    auto fetched = call(
        c, s_->target,
        [s = s_.get(), &rows] {
            while (auto r = fetch_row(*s)) rows.push_back(std::move(*r));
        },
        canceller{s_.get()});
    co_await std::move(fetched);
    co_return rows;
}

const std::vector<column>& statement::columns() const {
    return s_->columns;
}

std::int64_t statement::affected_rows() const {
    return s_->affected;
}

const std::string& statement::sql() const {
    return s_->sql;
}

bool statement::executing() const noexcept {
    return s_ && s_->executing.load();
}

namespace {

/// SQLCancel for call number `call` of `s` (0: the one in the driver now),
/// repeated until that call has returned; never for a later call.
void cancel_call(statement_state& s, std::uint64_t call) noexcept {
    try {
        {
            std::lock_guard lock(s.call_mutex);
            if (!s.in_call || (call != 0 && call != s.calls)) return;
            call = s.calls;
            if (s.driver_stmt != SQL_NULL_HSTMT)
                s.conn->driver_cancel(s.driver_stmt);
            else
                SQLCancel(s.stmt);
        }
        auto timer =
            std::make_shared<asio::steady_timer>(detail::this_io(), std::chrono::milliseconds(20));
        timer->async_wait([keep = s.shared_from_this(), timer, call](std::error_code ec) {
            if (!ec) cancel_call(*keep, call);
        });
    } catch (...) {  // out of memory: the call is waited for instead
    }
}

}  // namespace

void canceller::operator()() const noexcept {
    cancel_call(*s, 0);
}

}  // namespace coronet::odbc
