#include <coronet/net/odbc.hpp>
#include <coronet_test.hpp>

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

// The same cases run on SQLite (a database file per test, in a temporary
// directory) and on PostgreSQL (the throwaway server of pg-cluster.sh, whose
// connection string ctest passes in CORONET_ODBC_PG).

namespace {

namespace odbc = coronet::odbc;
using coronet::io_op;
using coronet::task;
using namespace std::chrono_literals;

/// Where the two databases differ.
struct database {
    std::string connection_string;
    std::string blob_type;
    /// A table whose INTEGER column takes nothing but integers.
    std::string strict_suffix;
    /// A query that runs until it is cancelled.
    std::string endless_query;
    /// A query that takes 100 ms or more.
    std::string slow_query;
};

/// The PostgreSQL connection string; fails the test when it is not set.
std::optional<std::string> postgresql_connection_string() {
    const char* s = std::getenv("CORONET_ODBC_PG");
    if (s && *s) return std::string(s);
    ADD_FAILURE() << "CORONET_ODBC_PG is not set: run the PostgreSQL cases through ctest, whose "
                     "fixture odbc_postgresql starts the server (tests/odbc/pg-cluster.sh)";
    return std::nullopt;
}

class OdbcTest : public coronet::testing::runtime_test,
                 public ::testing::WithParamInterface<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "sqlite") {
            std::string tmpl = (std::filesystem::temp_directory_path() / "coronet-odbc-XXXXXX");
            ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
            dir_ = tmpl;
            db_ = {"DRIVER=SQLite3;Database=" + (dir_ / "test.db").string() + ";Timeout=100000",
                   "BLOB", " STRICT",
                   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                   "SELECT count(*) FROM c",
                   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                   "WHERE x < 1000000) SELECT count(*) FROM c"};
        } else {
            auto cs = postgresql_connection_string();
            ASSERT_TRUE(cs);
            db_ = {*cs, "BYTEA", "", "SELECT pg_sleep(3600)", "SELECT pg_sleep(0.1)"};
        }
        // Tables are named after the test: the PostgreSQL cases share one database.
        table_ =
            "t_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
        for (char& ch : table_)
            if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
        table_ = table_.substr(0, table_.find("__"));
        std::transform(table_.begin(), table_.end(), table_.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    }

    void TearDown() override {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    /// A connection with a fresh table `table_` (id, name, score, data, day, at).
    task<odbc::connection> open_with_table() {
        auto db = co_await odbc::connection::open(db_.connection_string);
        co_await db.execute("DROP TABLE IF EXISTS " + table_);
        co_await db.execute("CREATE TABLE " + table_ +
                            " (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, "
                            "score DOUBLE PRECISION, data " +
                            db_.blob_type + ", day DATE, at TIMESTAMP)");
        co_return db;
    }

    std::filesystem::path dir_;
    database db_;
    std::string table_;
};

/// ASSERT_TRUE for coroutines: fails the test and leaves the coroutine.
#define CO_ASSERT_TRUE(cond)                 \
    if (!(cond)) {                           \
        ADD_FAILURE() << "false: " << #cond; \
        co_return;                           \
    }

std::string database_name(const ::testing::TestParamInfo<std::string>& info) {
    return info.param;
}

TEST_P(OdbcTest, ConnectsAndHidesThePasswordFromTheDataSource) {
    run([&]() -> task<void> {
        auto db = co_await odbc::connection::open(db_.connection_string + ";PWD=secret");
        EXPECT_TRUE(db.is_open());
        EXPECT_FALSE(db.broken());
        EXPECT_EQ(db.data_source().find("secret"), std::string::npos) << db.data_source();
        auto rows = co_await db.query("SELECT 1 + 1");
        CO_ASSERT_TRUE(rows.size() == 1u);
        EXPECT_EQ(rows[0].get<std::int64_t>(0), 2);
        auto kept = co_await db.prepare("SELECT 2");
        co_await db.close();
        EXPECT_FALSE(db.is_open());
        try {
            co_await kept.execute();
            ADD_FAILURE() << "executed a statement of a closed connection";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "08003") << e.what();
        }
        try {
            co_await db.prepare("SELECT 3");
            ADD_FAILURE() << "prepared on a closed connection";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "08003") << e.what();
        }
    }());
}

TEST_P(OdbcTest, ConnectsByDataSourceName) {
    // A user DSN in an odbc.ini of our own (unixODBC reads $ODBCINI), with
    // the settings of the connection string.
    std::string tmpl = (std::filesystem::temp_directory_path() / "coronet-dsn-XXXXXX");
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    std::filesystem::path ini = std::filesystem::path(tmpl) / "odbc.ini";
    {
        std::ofstream out(ini);
        out << "[coronet_test]\n";
        std::string cs = db_.connection_string;
        for (std::size_t at = 0; at < cs.size();) {
            std::size_t end = std::min(cs.find(';', at), cs.size());
            if (end > at) out << cs.substr(at, end - at) << "\n";
            at = end + 1;
        }
    }
    ASSERT_EQ(::setenv("ODBCINI", ini.c_str(), 1), 0);
    run([&]() -> task<void> {
        auto db = co_await odbc::connection::open("coronet_test");
        EXPECT_EQ(db.data_source(), "DSN=coronet_test;");
        EXPECT_EQ((co_await db.query("SELECT 7")).at(0).get<std::int64_t>(0), 7);
        try {
            co_await odbc::connection::open("coronet_no_such_dsn");
            ADD_FAILURE() << "connected to a DSN that does not exist";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "IM002") << e.what();  // data source not found
        }
    }());
    ::unsetenv("ODBCINI");
    std::filesystem::remove_all(tmpl);
}

TEST_P(OdbcTest, ConnectingToAMissingDriverThrowsItsSqlstate) {
    run([&]() -> task<void> {
        try {
            co_await odbc::connection::open("DRIVER=coronet-no-such-driver;Database=x",
                                            {.timeout = 1s, .autocommit = true});
            ADD_FAILURE() << "connected to a driver that does not exist";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "01000") << e.what();  // unixODBC: "can't open lib"
            EXPECT_NE(e.message().find("coronet-no-such-driver"), std::string::npos) << e.what();
        }
    }());
}

TEST_P(OdbcTest, BindsAndReadsBackEveryParameterType) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto insert = co_await db.prepare("INSERT INTO " + table_ + " VALUES (?, ?, ?, ?, ?, ?)");
        const odbc::blob bytes{std::byte{0}, std::byte{0xff}, std::byte{'\n'}, std::byte{7}};
        const odbc::date day = std::chrono::year(2024) / 2 / 29;
        const odbc::timestamp at =
            std::chrono::local_days(std::chrono::year(2023) / 12 / 31) + 23h + 59min + 58s + 125ms;
        const std::string long_name(30, 'x');
        EXPECT_EQ(co_await insert.execute(1, long_name, 2.5, bytes, day, at), 1);
        EXPECT_EQ(co_await insert.execute(2, "two", odbc::null, std::optional<odbc::blob>(),
                                          nullptr, odbc::null),
                  1);

        auto select = co_await db.prepare("SELECT id, name, score, data, day, at FROM " + table_ +
                                          " WHERE id = ?");
        co_await select.execute(1);
        auto r = co_await select.fetch();
        CO_ASSERT_TRUE(r);
        EXPECT_EQ(r->size(), 6u);
        EXPECT_EQ(r->get<std::int64_t>(0), 1);
        EXPECT_EQ(r->get<std::string>(1), long_name);
        EXPECT_EQ(r->get<double>(2), 2.5);
        EXPECT_EQ(r->get<odbc::blob>(3), bytes);
        EXPECT_EQ(r->get<odbc::date>(4), day);
        EXPECT_EQ(r->get<odbc::timestamp>(5), at);
        EXPECT_FALSE(co_await select.fetch());

        co_await select.execute(2);
        r = co_await select.fetch();
        CO_ASSERT_TRUE(r);
        EXPECT_EQ(r->get<std::string>(1), "two");
        for (std::size_t i = 2; i < 6; ++i) EXPECT_TRUE(r->is_null(i)) << i;
        EXPECT_EQ(r->get<double>(2), std::nullopt);
        EXPECT_EQ(r->get<odbc::blob>(3), std::nullopt);
        EXPECT_EQ(r->get<odbc::timestamp>(5), std::nullopt);
    }());
}

TEST_P(OdbcTest, EachExecutionSendsItsOwnParameters) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto insert =
            co_await db.prepare("INSERT INTO " + table_ + " (id, name, score) VALUES (?, ?, ?)");
        // The same types, lengths and buffers as the execution before, and a
        // value after a NULL in the same place.
        co_await insert.execute(1, "one", odbc::null);
        co_await insert.execute(2, "two", 2.5);
        co_await insert.execute(3, "six", odbc::null);
        co_await insert.execute(4, "four", 4.5);
        auto rows = co_await db.query("SELECT id, name, score FROM " + table_ + " ORDER BY id");
        CO_ASSERT_TRUE(rows.size() == 4u);
        EXPECT_EQ(rows[0].get<std::string>(1), "one");
        EXPECT_TRUE(rows[0].is_null(2));
        EXPECT_EQ(rows[1].get<std::string>(1), "two");
        EXPECT_EQ(rows[1].get<double>(2), 2.5);
        EXPECT_EQ(rows[2].get<std::string>(1), "six");
        EXPECT_TRUE(rows[2].is_null(2));
        EXPECT_EQ(rows[3].get<std::string>(1), "four");
        EXPECT_EQ(rows[3].get<double>(2), 4.5);
    }());
}

TEST_P(OdbcTest, DescribesTheResultColumns) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto select = co_await db.prepare("SELECT id, name, score FROM " + table_);
        EXPECT_EQ(co_await select.execute(), -1);
        const auto& cols = select.columns();
        CO_ASSERT_TRUE(cols.size() == 3u);
        EXPECT_EQ(cols[0].name, "id");
        EXPECT_EQ(cols[1].name, "name");
        EXPECT_EQ(cols[2].name, "score");
        EXPECT_EQ(cols[0].sql_type, 4);                               // SQL_INTEGER
        EXPECT_TRUE(cols[2].sql_type == 8 || cols[2].sql_type == 6);  // SQL_DOUBLE, SQL_FLOAT
        EXPECT_EQ(cols[1].size, 40u);
        EXPECT_FALSE(co_await select.fetch());

        auto insert = co_await db.prepare("INSERT INTO " + table_ + " (id, name) VALUES (?, ?)");
        EXPECT_EQ(co_await insert.execute(1, "x"), 1);
        EXPECT_TRUE(insert.columns().empty());
    }());
}

TEST_P(OdbcTest, CountsTheRowsAStatementAffected) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto insert = co_await db.prepare("INSERT INTO " + table_ + " (id, name) VALUES (?, ?)");
        for (int i = 0; i < 5; ++i) co_await insert.execute(i, "row " + std::to_string(i));
        EXPECT_EQ(co_await db.execute("UPDATE " + table_ + " SET score = 1 WHERE id < ?", 3), 3);
        auto remove = co_await db.prepare("DELETE FROM " + table_ + " WHERE id >= ?");
        EXPECT_EQ(co_await remove.execute(1), 4);
        EXPECT_EQ(remove.affected_rows(), 4);
        EXPECT_EQ(co_await remove.execute(1), 0);
        auto rows = co_await db.query("SELECT count(*) FROM " + table_);
        EXPECT_EQ(rows.at(0).get<std::int64_t>(0), 1);
    }());
}

TEST_P(OdbcTest, ExecuteAndQueryKeepTheirStatementsPrepared) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        const std::string insert = "INSERT INTO " + table_ + " (id, name) VALUES (?, ?)";
        const std::string select = "SELECT name FROM " + table_ + " WHERE id = ?";
        EXPECT_EQ(co_await db.execute(insert, 1, "one"), 1);
        EXPECT_EQ(co_await db.execute(insert, 2, "two"), 1);
        EXPECT_EQ((co_await db.query(select, 2)).at(0).get<std::string>(0), "two");
        EXPECT_EQ((co_await db.query(select, 1)).at(0).get<std::string>(0), "one");
        EXPECT_TRUE((co_await db.query(select, 3)).empty());
        // A kept statement forgets the last call's parameters.
        try {
            co_await db.execute(insert, 3);
            ADD_FAILURE() << "executed with a parameter left from the last call";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "07002");
        }
        EXPECT_EQ((co_await db.query("SELECT count(*) FROM " + table_)).at(0).get<std::int64_t>(0),
                  2);
    }());
}

TEST_P(OdbcTest, CommitsAndRollsBackTransactions) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto other = co_await odbc::connection::open(db_.connection_string);
        const std::string count = "SELECT count(*) FROM " + table_;
        const std::string insert = "INSERT INTO " + table_ + " (id, name) VALUES (?, 'x')";
        EXPECT_TRUE(db.autocommit());

        co_await db.begin();
        EXPECT_FALSE(db.autocommit());
        co_await db.execute(insert, 1);
        EXPECT_EQ((co_await db.query(count)).at(0).get<std::int64_t>(0), 1);
        co_await db.rollback();
        EXPECT_TRUE(db.autocommit());
        EXPECT_EQ((co_await db.query(count)).at(0).get<std::int64_t>(0), 0);

        co_await db.begin();
        co_await db.execute(insert, 2);
        co_await db.execute(insert, 3);
        co_await db.commit();
        EXPECT_EQ((co_await other.query(count)).at(0).get<std::int64_t>(0), 2);

        co_await db.set_autocommit(false);
        co_await db.execute(insert, 4);
        co_await db.commit();
        EXPECT_FALSE(db.autocommit());  // set_autocommit is not undone by commit
        EXPECT_EQ((co_await other.query(count)).at(0).get<std::int64_t>(0), 3);
    }());
}

TEST_P(OdbcTest, ASyntaxErrorThrowsTheDriversDiagnostic) {
    run([&]() -> task<void> {
        auto db = co_await odbc::connection::open(db_.connection_string);
        try {
            co_await db.execute("SELEC 1");
            ADD_FAILURE() << "a syntax error went through";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate().size(), 5u) << e.what();
            EXPECT_NE(e.message().find("syntax"), std::string::npos) << e.what();
            EXPECT_FALSE(e.connection_lost());
            EXPECT_NE(std::string(e.what()).find(e.sqlstate()), std::string::npos);
        }
        EXPECT_FALSE(db.broken());
        EXPECT_EQ((co_await db.query("SELECT 3")).at(0).get<std::int64_t>(0), 3);
    }());
}

TEST_P(OdbcTest, AConstraintViolationThrowsAnIntegritySqlstate) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto insert = co_await db.prepare("INSERT INTO " + table_ + " (id, name) VALUES (?, ?)");
        co_await insert.execute(1, "first");
        // PostgreSQL says 23505 and 23502 (class 23: integrity constraint
        // violation); SQLite's driver says HY000 with SQLite's own code,
        // SQLITE_CONSTRAINT (19).
        auto expect_constraint_violation = [&](const odbc::error& e) {
            if (GetParam() == "sqlite")
                EXPECT_EQ(e.native_code(), 19) << e.what();
            else
                EXPECT_EQ(e.sqlstate().substr(0, 2), "23") << e.what();
        };
        try {
            co_await insert.execute(1, "again");
            ADD_FAILURE() << "a duplicate key went through";
        } catch (const odbc::error& e) {
            expect_constraint_violation(e);
            EXPECT_NE(e.message().find("id"), std::string::npos) << e.what();
        }
        try {
            co_await insert.execute(2, odbc::null);
            ADD_FAILURE() << "a NULL went into a NOT NULL column";
        } catch (const odbc::error& e) {
            expect_constraint_violation(e);
        }
        EXPECT_EQ(co_await insert.execute(2, "second"), 1);
    }());
}

TEST_P(OdbcTest, AParameterOfTheWrongTypeIsRejected) {
    run([&]() -> task<void> {
        auto db = co_await odbc::connection::open(db_.connection_string);
        co_await db.execute("DROP TABLE IF EXISTS " + table_);
        co_await db.execute("CREATE TABLE " + table_ + " (n INTEGER)" + db_.strict_suffix);
        auto insert = co_await db.prepare("INSERT INTO " + table_ + " VALUES (?)");
        EXPECT_THROW(co_await insert.execute("not a number"), odbc::error);
        EXPECT_EQ(co_await insert.execute(7), 1);

        // Too many parameters, or one left unbound: clear errors before the driver runs.
        try {
            insert.bind(1, 8);
            ADD_FAILURE() << "bound a parameter the statement does not have";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "07009");
        }
        auto pair = co_await db.prepare("SELECT ?, ?");
        pair.bind(1, 1);
        try {
            co_await pair.execute();
            ADD_FAILURE() << "executed with a parameter unbound";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "07002");
        }

        // A value read as a type it does not convert to.
        auto rows = co_await db.query("SELECT 'abc', n FROM " + table_);
        CO_ASSERT_TRUE(rows.size() == 1u);
        try {
            (void)rows[0].get<std::int64_t>(0);
            ADD_FAILURE() << "read 'abc' as an integer";
        } catch (const odbc::error& e) {
            EXPECT_EQ(e.sqlstate(), "22018");
        }
        EXPECT_EQ(rows[0].get<std::string>(1), "7");
        EXPECT_THROW((void)rows[0].get<std::int64_t>(2), odbc::error);
    }());
}

TEST_P(OdbcTest, TerminatingTheCoroutineCancelsItsQuery) {
    // Always offloaded: a call running inline holds its shard and cannot be cut short.
    coronet::runtime_options o;
    o.shards = 1;
    o.io = coronet::io_mode::always_async;
    coronet::runtime rt(o);
    auto db = rt.sync_wait(odbc::connection::open(db_.connection_string));
    auto endless = rt.sync_wait(db.prepare(db_.endless_query));
    auto query = rt.spawn([&]() -> task<void> { co_await endless.execute(); });
    while (!endless.executing() && !query.done()) std::this_thread::yield();  // in the driver
    query.terminate();
    EXPECT_THROW(query.wait(), coronet::terminated);
    EXPECT_FALSE(endless.executing());
    EXPECT_FALSE(db.broken());
    EXPECT_GE(rt.io_stats(io_op::odbc).offloads, 3u);

    // The connection goes on, and so does the statement, cancelled again and
    // again as its call enters the driver: while the driver manager is still
    // setting the call up on the pool thread (AddressSanitizer watches it).
    auto rows = rt.sync_wait(db.query("SELECT 5"));
    EXPECT_EQ(rows.at(0).get<std::int64_t>(0), 5);
    for (int round = 0; round < 20; ++round) {
        auto again = rt.spawn([&]() -> task<void> { co_await endless.execute(); });
        while (!endless.executing() && !again.done()) std::this_thread::yield();
        again.terminate();
        EXPECT_THROW(again.wait(), coronet::terminated) << "round " << round;
    }
    EXPECT_FALSE(db.broken());
}

TEST_P(OdbcTest, FastStatementsRunInlineAndSlowOnesAreOffloaded) {
    // Thresholds far from both statements' latencies, so that a loaded
    // machine (or a sanitizer build) does not move the fast one.
    coronet::runtime_options o;
    o.shards = 1;
    o.io_policy.offload_above = 20ms;
    o.io_policy.inline_stall = 1s;
    coronet::runtime rt(o);
    rt.sync_wait([&]() -> task<void> {
        auto db = co_await odbc::connection::open(db_.connection_string);
        auto fast = co_await db.prepare("SELECT 1");
        for (int i = 0; i < 50; ++i) {
            co_await fast.execute();
            co_await fast.fetch_all();
        }
        auto slow = co_await db.prepare(db_.slow_query);
        for (int i = 0; i < 5; ++i) {
            co_await slow.execute();
            co_await slow.fetch_all();
        }
    }());
    // A one-row result is read in the call that executes: one call a run.
    auto counts = rt.io_stats(io_op::odbc);
    EXPECT_GE(counts.inline_completions, 50u);  // the fast statement's 50 calls, at least
    EXPECT_GE(counts.offloads, 4u);             // the slow one's, once its first run was measured
    EXPECT_GE(counts.mode_switches, 1u);
}

TEST_P(OdbcTest, FetchesReturnEveryRowInOrderWhateverTheResultsLength) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        auto insert = co_await db.prepare("INSERT INTO " + table_ + " (id, name) VALUES (?, ?)");
        for (int i = 1; i <= 5; ++i) co_await insert.execute(i, "row " + std::to_string(i));
        auto select =
            co_await db.prepare("SELECT id FROM " + table_ + " WHERE id <= ? ORDER BY id");
        for (int n = 0; n <= 5; ++n) {
            co_await select.execute(n);
            std::vector<std::int64_t> ids;
            while (auto r = co_await select.fetch()) ids.push_back(*r->get<std::int64_t>(0));
            EXPECT_EQ(ids.size(), static_cast<std::size_t>(n));
            for (std::size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], i + 1);
            EXPECT_FALSE(co_await select.fetch());  // the end stays the end
        }
        // fetch_all after some fetches returns the rest; executing again starts over.
        for (int taken = 0; taken <= 4; ++taken) {
            co_await select.execute(5);
            for (int i = 0; i < taken; ++i) (void)co_await select.fetch();
            auto rest = co_await select.fetch_all();
            CO_ASSERT_TRUE(rest.size() == static_cast<std::size_t>(5 - taken));
            EXPECT_EQ(rest.front().get<std::int64_t>(0), taken + 1);
        }
        co_await select.execute(5);
        (void)co_await select.fetch();
        co_await select.execute(1);
        EXPECT_EQ((co_await select.fetch_all()).size(), 1u);
    }());
}

TEST_P(OdbcTest, AQueryOfOneRowIsOneCallThroughTheDispatcher) {
    run([&]() -> task<void> {
        auto db = co_await open_with_table();
        co_await db.execute("INSERT INTO " + table_ + " (id, name) VALUES (1, 'one')");
        auto select = co_await db.prepare("SELECT name FROM " + table_ + " WHERE id = ?");
        auto calls = [&] {
            auto c = rt_.io_stats(io_op::odbc);
            return c.inline_completions + c.offloads;
        };
        auto before = calls();
        co_await select.execute(1);
        auto r = co_await select.fetch();
        EXPECT_FALSE(co_await select.fetch());
        CO_ASSERT_TRUE(r);
        EXPECT_EQ(r->get<std::string>(0), "one");
        EXPECT_EQ(calls() - before, 1u);
    }());
}

TEST_P(OdbcTest, AnErrorInTheMiddleOfAResultComesAfterTheRowsBeforeIt) {
    // SQLite, stepping a row at each fetch (StepAPI=1), meets the error on
    // the third row; PostgreSQL's driver reads the whole result when it
    // executes, so its error comes from execute.
    const bool sqlite = GetParam() == "sqlite";
    const std::string failing = sqlite ? "abs(-9223372036854775807 - 1 + (x - 3))" : "1 / (x - x)";
    run([&]() -> task<void> {
        auto db =
            co_await odbc::connection::open(db_.connection_string + (sqlite ? ";StepAPI=1" : ""));
        auto select = co_await db.prepare(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) "
            "SELECT CASE WHEN x < 3 THEN x ELSE " +
            failing + " END FROM c");
        std::vector<std::int64_t> got;
        bool failed = false;
        try {
            co_await select.execute();
            while (auto r = co_await select.fetch()) got.push_back(*r->get<std::int64_t>(0));
        } catch (const odbc::error&) {
            failed = true;
        }
        EXPECT_TRUE(failed);
        if (sqlite)
            EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2}));
        else
            EXPECT_TRUE(got.empty());
        // The connection goes on.
        auto again = co_await db.prepare("SELECT 7");
        co_await again.execute();
        EXPECT_EQ((co_await again.fetch_all()).at(0).get<std::int64_t>(0), 7);
    }());
}

TEST_P(OdbcTest, APoolBoundsItsConnectionsAndAcquireTimesOut) {
    odbc::pool pool(db_.connection_string, {.max_size = 2, .connect = {}});
    run([&]() -> task<void> {
        auto a = co_await pool.acquire();
        auto b = co_await pool.acquire();
        CO_ASSERT_TRUE(a && b);
        EXPECT_EQ(pool.size(), 2u);
        EXPECT_FALSE(co_await pool.acquire(20ms));  // none free: waits, then gives up
        a.reset();
        EXPECT_EQ(pool.idle(), 1u);
        auto c = co_await pool.acquire(0ms);
        CO_ASSERT_TRUE(c);
        EXPECT_EQ(((co_await (*c)->query("SELECT 4")).at(0).get<std::int64_t>(0)), 4);
    }());
    EXPECT_EQ(pool.opened(), 2u);
    EXPECT_EQ(pool.idle(), 2u);
}

TEST_P(OdbcTest, APoolServesManyCoroutinesOnBothShards) {
    run(open_with_table());
    odbc::pool pool(db_.connection_string, {.max_size = 3, .connect = {}});
    const int n = 40;
    std::vector<coronet::join_handle<void>> writers;
    for (int i = 0; i < n; ++i)
        writers.push_back(rt_.spawn(
            [&](int id) -> task<void> {
                auto c = co_await pool.acquire();
                EXPECT_TRUE(c);
                co_await (*c)->execute("INSERT INTO " + table_ + " (id, name) VALUES (?, ?)", id,
                                       "writer");
            },
            i));
    for (auto& w : writers) w.wait();
    EXPECT_LE(pool.opened(), 3u);
    auto rows = run([&]() -> task<std::vector<odbc::row>> {
        auto c = co_await pool.acquire();
        co_return co_await (*c)->query("SELECT count(*), sum(id) FROM " + table_);
    }());
    EXPECT_EQ(rows.at(0).get<std::int64_t>(0), n);
    EXPECT_EQ(rows.at(0).get<std::int64_t>(1), n * (n - 1) / 2);
}

TEST_P(OdbcTest, APoolReplacesADiscardedConnection) {
    odbc::pool pool(db_.connection_string, {.max_size = 1, .connect = {}});
    run([&]() -> task<void> {
        {
            auto c = co_await pool.acquire();
            CO_ASSERT_TRUE(c);
            c->discard();
        }
        EXPECT_EQ(pool.size(), 0u);
        auto c = co_await pool.acquire();
        CO_ASSERT_TRUE(c);
        EXPECT_EQ(((co_await (*c)->query("SELECT 6")).at(0).get<std::int64_t>(0)), 6);
    }());
    EXPECT_EQ(pool.opened(), 2u);
    EXPECT_EQ(pool.discarded(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Databases, OdbcTest, ::testing::Values("sqlite", "postgresql"),
                         database_name);

// PostgreSQL only: the server goes away under an open pool and comes back.
TEST(OdbcPostgresqlTest, AStoppedServerGivesClearErrorsAndThePoolRecovers) {
    auto cs = postgresql_connection_string();
    const char* script = std::getenv("CORONET_ODBC_PG_SCRIPT");
    const char* dir = std::getenv("CORONET_ODBC_PG_DIR");
    ASSERT_TRUE(cs && script && dir)
        << "CORONET_ODBC_PG_SCRIPT and CORONET_ODBC_PG_DIR are set by ctest";
    const std::string cluster = std::string(script) + " ";
    coronet::runtime_options o;
    o.shards = 2;
    coronet::runtime rt(o);
    odbc::pool pool(*cs, {.max_size = 1, .connect = {.timeout = 2s, .autocommit = true}});
    auto one_query = [&]() -> task<std::int64_t> {
        auto c = co_await pool.acquire(5s);
        if (!c) throw std::runtime_error("acquire timed out");
        co_return (co_await (*c)->query("SELECT 9")).at(0).get<std::int64_t>(0).value();
    };
    EXPECT_EQ(rt.sync_wait(one_query()), 9);

    ASSERT_EQ(std::system((cluster + "halt " + dir).c_str()), 0);
    // The pooled connection finds the server gone: a class 08 error, at once.
    try {
        rt.sync_wait(one_query());
        ADD_FAILURE() << "a query ran with the server stopped";
    } catch (const odbc::error& e) {
        EXPECT_TRUE(e.connection_lost()) << e.what();
    }
    EXPECT_EQ(pool.discarded(), 1u);
    // A new connection cannot be made either.
    try {
        rt.sync_wait(one_query());
        ADD_FAILURE() << "connected with the server stopped";
    } catch (const odbc::error& e) {
        EXPECT_TRUE(e.connection_lost()) << e.what();
    }

    ASSERT_EQ(std::system((cluster + "resume " + dir).c_str()), 0);
    EXPECT_EQ(rt.sync_wait(one_query()), 9);
    EXPECT_EQ(pool.size(), 1u);
}

}  // namespace
