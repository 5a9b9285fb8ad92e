// odbc_pool: 100 coroutines query a SQLite database through a pool of 8
// connections while another coroutine answers pings on a socket. Fast
// lookups run inline, slow reports on the blocking pool, so the pings keep
// getting answered: the program prints the ping round trips (the 99th
// percentile and the worst) beside the time of one slow report. Exits 0 when
// every lookup found its item.
//
//     odbc_pool [coroutines] [queries each]

#include <coronet/coronet.hpp>
#include <coronet/net/odbc.hpp>

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using coronet::task;
namespace odbc = coronet::odbc;
using clock_type = std::chrono::steady_clock;

constexpr int items = 1000;
// A report that takes some milliseconds: 30,000 rows counted.
constexpr const char* slow_report =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000) "
    "SELECT count(*) FROM c";

task<void> fill(odbc::pool& pool) {
    auto c = co_await pool.acquire();
    co_await (*c)->execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price DOUBLE)");
    co_await (*c)->begin();
    auto insert = co_await (*c)->prepare("INSERT INTO item VALUES (?, ?, ?)");
    for (int i = 0; i < items; ++i)
        co_await insert.execute(i, "item " + std::to_string(i), i * 0.5);
    co_await (*c)->commit();
}

// One client: a lookup by key, and now and then the slow report.
task<int> client(odbc::pool& pool, int id, int queries) {
    int found = 0;
    for (int q = 0; q < queries; ++q) {
        auto c = co_await pool.acquire();
        if (!c) throw std::runtime_error("no connection within 30 s");
        if (q % 10 == 9) {
            co_await (*c)->query(slow_report);
            continue;
        }
        auto rows = co_await (*c)->query("SELECT name, price FROM item WHERE id = ?",
                                         (id * 31 + q) % items);
        found += rows.size() == 1 && rows[0].get<std::string>(0).has_value();
    }
    co_return found;
}

// The socket the database work must not stall: one byte in, one byte out.
task<void> answer_pings(coronet::tcp::listener l) {
    auto s = co_await l.accept();
    while (!(co_await s.recv_some(1)).empty()) co_await s.send_all("p");
}

// Pings until `done`; the round trips, shortest first.
task<std::vector<clock_type::duration>> ping(std::uint16_t port, const std::atomic<bool>& done) {
    auto s = co_await coronet::tcp::connect("127.0.0.1", port);
    std::vector<clock_type::duration> trips;
    while (!done.load()) {
        auto start = clock_type::now();
        co_await s.send_all("p");
        co_await s.recv_some(1);
        trips.push_back(clock_type::now() - start);
    }
    std::sort(trips.begin(), trips.end());
    co_return trips;
}

task<int> demo(std::string connection_string, int n, int queries) {
    odbc::pool pool(connection_string, {.max_size = 8, .connect = {}});
    co_await fill(pool);

    auto l = coronet::tcp::listen("127.0.0.1", 0);
    std::uint16_t port = l.port();
    auto server = coronet::spawn(answer_pings, std::move(l));
    std::atomic<bool> done{false};
    auto pinger = coronet::spawn_on(1 % coronet::shard_count(), ping, port, std::cref(done));

    auto start = clock_type::now();
    std::vector<coronet::join_handle<int>> clients;
    for (int i = 0; i < n; ++i)
        clients.push_back(
            coronet::spawn_on(i % coronet::shard_count(), client, std::ref(pool), i, queries));
    int found = 0;
    for (auto& c : clients) found += co_await c.join();
    auto took = clock_type::now() - start;
    done.store(true);
    auto trips = co_await pinger.join();
    server.terminate();

    auto ms = [](clock_type::duration d) {
        return std::chrono::duration<double, std::milli>(d).count();
    };
    auto report_start = clock_type::now();
    {
        auto c = co_await pool.acquire();
        co_await (*c)->query(slow_report);
    }
    auto report = clock_type::now() - report_start;
    std::printf("%d coroutines ran %d queries in %.0f ms on %llu connections\n", n, n * queries,
                ms(took), static_cast<unsigned long long>(pool.opened()));
    if (!trips.empty())
        std::printf(
            "%zu pings meanwhile: 99%% within %.2f ms, the worst %.2f ms (one slow report "
            "alone: %.2f ms)\n",
            trips.size(), ms(trips[trips.size() * 99 / 100]), ms(trips.back()), ms(report));
    int expected = n * (queries - queries / 10);
    if (found != expected) {
        std::printf("found %d of %d items\n", found, expected);
        co_return 1;
    }
    co_return 0;
}

int main(int argc, char** argv) {
    int n = argc > 1 ? std::stoi(argv[1]) : 100;
    int queries = argc > 2 ? std::stoi(argv[2]) : 20;
    std::string dir = (std::filesystem::temp_directory_path() / "odbc_pool-XXXXXX").string();
    if (!::mkdtemp(dir.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    coronet::runtime rt;
    int rc = rt.sync_wait(demo("DRIVER=SQLite3;Database=" + dir + "/shop.db", n, queries));
    std::filesystem::remove_all(dir);
    auto counts = rt.io_stats(coronet::io_op::odbc);
    std::printf("odbc calls: %llu inline, %llu offloaded\n",
                static_cast<unsigned long long>(counts.inline_completions),
                static_cast<unsigned long long>(counts.offloads));
    return rc;
}
