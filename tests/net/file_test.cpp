#include <coronet/net/file.hpp>
#include <coronet_test.hpp>
#include "os_probes.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace {

using coronet::io_op;
using coronet::task;
using coronet::net::open_flags;
using coronet::net::seek_from;

/// `n` bytes that differ from one offset to the next.
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}
std::span<std::byte> bytes(std::string& s) {
    return std::as_writable_bytes(std::span(s));
}

/// Writes `data` to `path` with plain system calls, synced to the disk.
void write_synced(const std::string& path, const std::string& data) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
}

/// How many pages of the file at `path` are in the page cache (mincore does
/// not bring them in).
std::size_t cached_pages(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    ::fstat(fd, &st);
    auto size = static_cast<std::size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (map == MAP_FAILED) return size;
    std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((size + page - 1) / page);
    std::size_t n = resident.size();
    if (::mincore(map, size, resident.data()) == 0) {
        n = 0;
        for (unsigned char r : resident) n += r & 1;
    }
    ::munmap(map, size);
    return n;
}

/// Asks the kernel to drop the (clean) pages of `path` from its cache.
void drop_from_cache(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
}

coronet::runtime_options one_shard(coronet::io_mode mode) {
    coronet::runtime_options o;
    o.shards = 1;
    o.io = mode;
    return o;
}

class FileTest : public coronet::testing::runtime_test {
protected:
    void TearDown() override { fds_.verify(); }

    coronet::testing::temp_dir dir_;
    coronet::testing::descriptor_check fds_;
};

TEST_F(FileTest, WritesThenReadsBack) {
    std::string path = dir_ / "a.txt";
    std::string data = pattern(100'000);
    std::string back = run([&]() -> task<std::string> {
        auto f = co_await coronet::net::open(path, open_flags::write | open_flags::create);
        co_await f.write_all(data);
        EXPECT_EQ(f.position(), data.size());
        EXPECT_EQ(f.size(), data.size());
        f.close();
        EXPECT_FALSE(f.is_open());

        auto g = co_await coronet::net::open(path);
        std::string got(data.size() + 10, '\0');
        std::size_t total = 0;
        while (std::size_t n = co_await g.read(bytes(got).subspan(total))) total += n;
        got.resize(total);
        EXPECT_EQ(co_await g.read(bytes(got)), 0u);  // at the end
        co_return got;
    }());
    EXPECT_EQ(back, data);
    EXPECT_GE(
        rt_.io_stats(io_op::file_open).inline_completions + rt_.io_stats(io_op::file_open).offloads,
        2u);
}

TEST_F(FileTest, OpeningAMissingFileNamesThePath) {
    std::string path = dir_ / "missing.txt";
    try {
        run(coronet::net::open(path));
        FAIL() << "opened a missing file";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::error_code(ENOENT, std::system_category()));
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

TEST_F(FileTest, CreateExclusiveRefusesAFileThatExists) {
    std::string path = dir_ / "x";
    run(coronet::net::write_file(path, "x"));
    try {
        run(coronet::net::open(path, open_flags::create | open_flags::exclusive));
        FAIL() << "opened an existing file exclusively";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::error_code(EEXIST, std::system_category()));
    }
}

TEST_F(FileTest, CreateGivesTheModeAndTruncateEmpties) {
    std::string path = dir_ / "m";
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path, open_flags::create, 0600);
        co_await f.write_all("0123456789");
    }());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 10);
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path, open_flags::truncate);
        EXPECT_EQ(f.size(), 0u);
    }());
}

TEST_F(FileTest, ReadAtAndWriteAtLeaveThePositionAlone) {
    std::string path = dir_ / "p";
    run(coronet::net::write_file(path, "0123456789"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path, open_flags::read | open_flags::write);
        std::string two(2, '\0');
        co_await f.read_exactly(bytes(two));
        EXPECT_EQ(two, "01");
        std::string four(4, '\0');
        EXPECT_EQ(co_await f.read_at(bytes(four), 5), 4u);
        EXPECT_EQ(four, "5678");
        EXPECT_EQ(co_await f.write_at(bytes("AB"), 8), 2u);
        EXPECT_EQ(f.position(), 2u);
        EXPECT_EQ(co_await f.read_all(), "234567AB");
        // Past the end: nothing to read.
        EXPECT_EQ(co_await f.read_at(bytes(four), 100), 0u);
    }());
}

TEST_F(FileTest, ReadLineSplitsLinesAndKeepsTheRestForRead) {
    std::string path = dir_ / "lines";
    run(coronet::net::write_file(path, "first\n\nthird line\nrest without newline"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        EXPECT_EQ(co_await f.read_line(), "first");
        EXPECT_EQ(co_await f.read_line(), "");
        EXPECT_EQ(f.position(), 7u);
        EXPECT_EQ(co_await f.read_line(), "third line");
        std::string four(4, '\0');
        EXPECT_EQ(co_await f.read(bytes(four)), 4u);  // from what read_line read ahead
        EXPECT_EQ(four, "rest");
        EXPECT_EQ(co_await f.read_line(), " without newline");
        EXPECT_EQ(co_await f.read_line(), std::nullopt);
    }());
}

TEST_F(FileTest, ReadLineRefusesALineOverTheLimit) {
    std::string path = dir_ / "long";
    run(coronet::net::write_file(path, std::string(1000, 'x') + "\nshort\n"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        try {
            co_await f.read_line(100);
            ADD_FAILURE() << "read a line over the limit";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), coronet::errc::message_too_large);
        }
    }());
}

TEST_F(FileTest, ReadsManyLinesAcrossChunks) {
    // Lines that straddle the reads of 16 KiB that read_line makes. (Few
    // enough for the sanitizer builds, where each line read from the buffer
    // costs stack until the coroutine next suspends.)
    std::string path = dir_ / "many";
    auto line_text = [](int i) { return "line " + std::to_string(i) + std::string(i % 150, '.'); };
    std::string text;
    for (int i = 0; i < 600; ++i) text += line_text(i) + "\n";
    ASSERT_GT(text.size(), 3 * 16384u);
    run(coronet::net::write_file(path, text));
    int lines = run([&]() -> task<int> {
        auto f = co_await coronet::net::open(path);
        int n = 0;
        while (auto line = co_await f.read_line()) {
            EXPECT_EQ(*line, line_text(n));
            ++n;
        }
        co_return n;
    }());
    EXPECT_EQ(lines, 600);
}

TEST_F(FileTest, SeeksFromEachOrigin) {
    std::string path = dir_ / "s";
    run(coronet::net::write_file(path, "0123456789"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        EXPECT_EQ(f.seek(3), 3u);
        std::string one(1, '\0');
        co_await f.read_exactly(bytes(one));
        EXPECT_EQ(one, "3");
        EXPECT_EQ(f.seek(2, seek_from::current), 6u);
        co_await f.read_exactly(bytes(one));
        EXPECT_EQ(one, "6");
        EXPECT_EQ(f.seek(-1, seek_from::end), 9u);
        co_await f.read_exactly(bytes(one));
        EXPECT_EQ(one, "9");
        // After a read_line, the position is where the caller is, not the read-ahead.
        f.seek(0);
        EXPECT_EQ(co_await f.read_line(), "0123456789");
        EXPECT_EQ(f.seek(-4, seek_from::current), 6u);
        EXPECT_THROW(f.seek(-1), std::system_error);
        std::string rest(10, '\0');
        EXPECT_THROW(co_await f.read_exactly(bytes(rest)), std::system_error);  // end_of_stream
    }());
}

TEST_F(FileTest, AppendWritesGoToTheEnd) {
    std::string path = dir_ / "log";
    run(coronet::net::write_file(path, "one\n"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path, open_flags::append);
        co_await f.write_all("two\n");
        EXPECT_EQ(f.position(), 8u);
        f.seek(0);
        co_await f.write_all("three\n");  // still at the end
        EXPECT_EQ(f.position(), 14u);
    }());
    EXPECT_EQ(run(coronet::net::read_file(path)), "one\ntwo\nthree\n");
}

TEST_F(FileTest, WholeFileHelpersRoundTrip) {
    std::string path = dir_ / "whole";
    std::string data = pattern(3 * 1024 * 1024 + 17);
    run(coronet::net::write_file(path, data));
    EXPECT_EQ(run(coronet::net::read_file(path)), data);
    run(coronet::net::write_file(path, "short"));  // replaces
    EXPECT_EQ(run(coronet::net::read_file(path)), "short");
    run(coronet::net::write_file(path, ""));
    EXPECT_EQ(run(coronet::net::read_file(path)), "");
}

TEST_F(FileTest, ACachedReadCompletesInline) {
    std::string path = dir_ / "cached";
    std::string data = pattern(256 * 1024);
    run(coronet::net::write_file(path, data));  // now in the page cache
    auto before = rt_.io_stats(io_op::file_read);
    std::string got = run([&]() -> task<std::string> {
        auto f = co_await coronet::net::open(path);
        std::string buf(data.size(), '\0');
        co_await f.read_exactly(bytes(buf));
        co_return buf;
    }());
    EXPECT_EQ(got, data);
    auto after = rt_.io_stats(io_op::file_read);
    EXPECT_GE(after.inline_completions - before.inline_completions, 1u);
    EXPECT_EQ(after.speculative_misses, before.speculative_misses);
    EXPECT_EQ(after.offloads, before.offloads);
}

TEST_F(FileTest, ReadsThatMoveTheByteBudgetYieldAsOftenAsItAllows) {
    std::string path = dir_ / "big";
    std::string data = pattern(16 * 64 * 1024);
    run(coronet::net::write_file(path, data));  // in the page cache
    auto o = one_shard(coronet::io_mode::adaptive);
    o.io_policy.inline_budget = 1000;             // not this one...
    o.io_policy.inline_byte_budget = 128 * 1024;  // ...but this: every second 64 KiB read
    coronet::runtime rt(o);
    std::string got = rt.sync_wait([&]() -> task<std::string> {
        auto f = co_await coronet::net::open(path);
        std::string buf(data.size(), '\0');
        for (std::size_t at = 0; at < buf.size(); at += 64 * 1024)
            co_await f.read_exactly(bytes(buf).subspan(at, 64 * 1024));
        co_return buf;
    }());
    EXPECT_EQ(got, data);
    auto reads = rt.io_stats(io_op::file_read);
    EXPECT_EQ(reads.inline_completions, 16u);
    EXPECT_EQ(reads.budget_yields, 8u);
}

TEST_F(FileTest, AReadThatMissesThePageCacheIsOffloaded) {
    std::string path = dir_ / "cold";
    std::string data = pattern(4 * 1024 * 1024);
    write_synced(path, data);
    drop_from_cache(path);
    if (cached_pages(path) != 0)
        GTEST_SKIP() << "the kernel kept the file in its page cache after "
                        "POSIX_FADV_DONTNEED (file system or container policy)";
    auto before = rt_.io_stats(io_op::file_read);
    std::string got = run([&]() -> task<std::string> {
        auto f = co_await coronet::net::open(path);
        std::string buf(data.size(), '\0');
        EXPECT_GT(co_await f.read(bytes(buf)), 0u);  // the first read: not cached
        f.seek(0);
        co_await f.read_exactly(bytes(buf));
        co_return buf;
    }());
    EXPECT_EQ(got, data);
    auto after = rt_.io_stats(io_op::file_read);
    EXPECT_GE(after.speculative_misses - before.speculative_misses, 1u);
    EXPECT_GE(after.offloads - before.offloads, 1u);
}

TEST_F(FileTest, AlwaysAsyncOffloadsEveryRead) {
    std::string path = dir_ / "async";
    std::string data = pattern(64 * 1024);
    run(coronet::net::write_file(path, data));
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    std::string got = rt.sync_wait([&]() -> task<std::string> {
        auto f = co_await coronet::net::open(path);
        std::string buf(data.size(), '\0');
        for (int i = 0; i < 4; ++i)
            EXPECT_EQ(co_await f.read_at(bytes(buf).subspan(i * 16384, 16384), i * 16384), 16384u);
        co_await f.sync();
        co_return buf;
    }());
    EXPECT_EQ(got, data);
    auto reads = rt.io_stats(io_op::file_read);
    EXPECT_EQ(reads.offloads, 4u);
    EXPECT_EQ(reads.inline_completions, 0u);
    EXPECT_EQ(rt.io_stats(io_op::file_open).offloads, 1u);
    EXPECT_EQ(rt.io_stats(io_op::file_sync).offloads, 1u);
}

TEST_F(FileTest, AlwaysSyncReadsAndWritesInline) {
    std::string path = dir_ / "sync";
    coronet::runtime rt(one_shard(coronet::io_mode::always_sync));
    std::string got = rt.sync_wait([&]() -> task<std::string> {
        co_await coronet::net::write_file(path, "inline data");
        co_return co_await coronet::net::read_file(path);
    }());
    EXPECT_EQ(got, "inline data");
    EXPECT_EQ(rt.io_stats(io_op::file_read).offloads, 0u);
    EXPECT_GE(rt.io_stats(io_op::file_read).inline_completions, 1u);
    EXPECT_EQ(rt.io_stats(io_op::file_write).offloads, 0u);
    EXPECT_GE(rt.io_stats(io_op::file_write).inline_completions, 1u);
}

TEST_F(FileTest, WritesAndSyncsAreCounted) {
    std::string path = dir_ / "counted";
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path, open_flags::create);
        for (int i = 0; i < 10; ++i) co_await f.write_all("some bytes\n");
        co_await f.sync();
        co_await f.sync_data();
    }());
    auto writes = rt_.io_stats(io_op::file_write);
    EXPECT_EQ(writes.inline_completions + writes.offloads, 10u);
    auto syncs = rt_.io_stats(io_op::file_sync);
    EXPECT_EQ(syncs.inline_completions + syncs.offloads, 2u);
}

TEST_F(FileTest, ReadsIntoAPageAlignedBuffer) {
    std::string path = dir_ / "big";
    const std::size_t size = 8 * 1024 * 1024;
    std::string data = pattern(size);
    run(coronet::net::write_file(path, data));
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::unique_ptr<std::byte, decltype(&std::free)> buffer(
        static_cast<std::byte*>(std::aligned_alloc(page, size)), &std::free);
    ASSERT_TRUE(buffer);
    std::span<std::byte> span(buffer.get(), size);
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        co_await f.read_exactly(span);
    }());
    EXPECT_EQ(std::memcmp(buffer.get(), data.data(), size), 0);
}

TEST_F(FileTest, ManyPositionalReadsAtOnce) {
    std::string path = dir_ / "shared";
    std::string data = pattern(64 * 4096);
    run(coronet::net::write_file(path, data));
    int good = run([&]() -> task<int> {
        auto f = co_await coronet::net::open(path);
        std::vector<coronet::join_handle<bool>> readers;
        for (int i = 0; i < 64; ++i) {
            readers.push_back(coronet::spawn(
                [](coronet::net::file& f, std::string_view want, int i) -> task<bool> {
                    std::string buf(4096, '\0');
                    std::size_t n = co_await f.read_at(bytes(buf), i * 4096u);
                    co_return n == 4096 && buf == want.substr(i * 4096u, 4096);
                },
                std::ref(f), std::string_view(data), i));
        }
        int ok = 0;
        for (auto& r : readers) ok += co_await r.join();
        co_return ok;
    }());
    EXPECT_EQ(good, 64);
}

TEST_F(FileTest, AMovedFileKeepsItsPositionAndAClosedOneRefuses) {
    std::string path = dir_ / "moved";
    run(coronet::net::write_file(path, "abcdef"));
    run([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        std::string two(2, '\0');
        co_await f.read_exactly(bytes(two));
        coronet::net::file g = std::move(f);
        EXPECT_FALSE(f.is_open());
        EXPECT_EQ(co_await g.read_all(), "cdef");
        g.close();
        g.close();  // twice is harmless
        try {
            co_await g.read(bytes(two));
            ADD_FAILURE() << "read a closed file";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), std::error_code(EBADF, std::system_category()));
        }
    }());
}

TEST_F(FileTest, TerminatingAReaderUnwindsItAndClosesItsFile) {
    std::string path = dir_ / "endless";
    run(coronet::net::write_file(path, pattern(1024 * 1024)));
    coronet::runtime rt(one_shard(coronet::io_mode::always_async));
    coronet::event reading;
    auto reader = rt.spawn([&]() -> task<void> {
        auto f = co_await coronet::net::open(path);
        std::string buf(4096, '\0');
        reading.set();
        for (;;) co_await f.read_at(bytes(buf), 0);  // offloaded each time, until terminated
    });
    rt.sync_wait([&]() -> task<void> { co_await reading.wait(); }());
    reader.terminate();
    EXPECT_THROW(reader.wait(), coronet::terminated);
}

}  // namespace
