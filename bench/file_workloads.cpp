// The file workloads: random 4 KiB reads of a cached file through the
// dispatcher in its three modes, and reading a whole cached file in big or
// small blocks with coronet's file API and with a plain pread loop.

#include "file_workloads.hpp"

#include "measure.hpp"

#include <coronet/net/file.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

namespace coronet::bench {
namespace {

constexpr std::size_t page = 4096;

std::string os_error(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

/// A page-aligned buffer, as big reads want (a misaligned one costs a copy's
/// worth of speed).
class aligned_buffer {
public:
    explicit aligned_buffer(std::size_t size)
        : data_(static_cast<std::byte*>(std::aligned_alloc(page, size))), size_(size) {
        if (!data_) throw failure("out of memory for the read buffer");
        std::memset(data_.get(), 1, size);
    }
    std::span<std::byte> span() noexcept { return {data_.get(), size_}; }

private:
    struct free_it {
        void operator()(std::byte* p) const noexcept { std::free(p); }
    };
    std::unique_ptr<std::byte, free_it> data_;
    std::size_t size_;
};

/// A file of `bytes` in $TMPDIR (or /tmp), written and read once, so that it
/// is in the page cache; removed when this goes.
class cached_file {
public:
    explicit cached_file(std::uint64_t bytes) : size_(bytes) {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/coronet-bench-XXXXXX";
        int fd = mkstemp(path_.data());
        if (fd < 0) throw failure(os_error("mkstemp"));
        aligned_buffer block(1 << 20);
        xorshift rng;
        for (std::uint64_t done = 0; done < bytes;) {
            std::span<std::byte> b =
                block.span().first(std::min<std::uint64_t>(bytes - done, 1 << 20));
            for (std::size_t i = 0; i < b.size(); i += page)
                b[i] = static_cast<std::byte>(rng.next());
            ssize_t k = pwrite(fd, b.data(), b.size(), static_cast<off_t>(done));
            if (k <= 0) {
                close(fd);
                throw failure(os_error("pwrite"));
            }
            done += static_cast<std::uint64_t>(k);
        }
        close(fd);
        plain_read(block.span());  // into the page cache, surely
    }
    cached_file(const cached_file&) = delete;
    cached_file& operator=(const cached_file&) = delete;
    ~cached_file() { unlink(path_.c_str()); }

    const std::string& path() const noexcept { return path_; }
    std::uint64_t size() const noexcept { return size_; }

    /// Reads it all with pread into `block`, a block at a time; the bytes read.
    std::uint64_t plain_read(std::span<std::byte> block) const {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw failure(os_error("open"));
        std::uint64_t done = 0;
        for (ssize_t k;
             (k = pread(fd, block.data(), block.size(), static_cast<off_t>(done))) != 0;) {
            if (k < 0) {
                if (errno == EINTR) continue;
                close(fd);
                throw failure(os_error("pread"));
            }
            done += static_cast<std::uint64_t>(k);
        }
        close(fd);
        return done;
    }

private:
    std::string path_;
    std::uint64_t size_;
};

runtime_options one_shard(io_mode mode) {
    runtime_options o;
    o.shards = 1;
    o.io = mode;
    return o;
}

/// Reads `n` blocks of `block.size()` at random page-aligned offsets; the
/// bytes read.
task<std::uint64_t> random_reads(std::string path, std::uint64_t size, std::uint64_t n,
                                 std::span<std::byte> block) {
    net::file f = co_await net::open(path);
    xorshift rng;
    std::uint64_t pages = (size - block.size()) / page + 1;
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < n; ++i)
        done += co_await f.read_at(block, rng.next() % pages * page);
    co_return done;
}

/// Reads the whole file in blocks of `block.size()`; the bytes read.
task<std::uint64_t> whole_read(std::string path, std::span<std::byte> block) {
    net::file f = co_await net::open(path);
    std::uint64_t done = 0;
    while (std::size_t k = co_await f.read(block)) done += k;
    co_return done;
}

/// The file's size for `mib`: at least two of the largest block.
std::uint64_t file_bytes(std::uint64_t mib) {
    return std::max<std::uint64_t>(mib, 2) << 20;
}

}  // namespace

double file_random_reads(io_mode mode, std::uint64_t n) {
    cached_file data(64 << 20);
    aligned_buffer block(page);
    runtime rt(one_shard(mode));
    auto start = clock::now();
    std::uint64_t got = rt.sync_wait(random_reads(data.path(), data.size(), n, block.span()));
    double seconds = seconds_since(start);
    expect_count("bytes read", got, n * page);
    io_counters c = rt.io_stats(io_op::file_read);
    report_metric("inline_share",
                  100.0 * static_cast<double>(c.inline_completions) / static_cast<double>(n));
    return static_cast<double>(n) / seconds;
}

double coronet_file_read(std::size_t block_bytes, std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(block_bytes);
    runtime rt(one_shard(io_mode::adaptive));
    auto start = clock::now();
    std::uint64_t got = rt.sync_wait(whole_read(data.path(), block.span()));
    double seconds = seconds_since(start);
    expect_count("bytes read", got, data.size());
    return static_cast<double>(got) / seconds / (1 << 30);
}

double pread_file_read(std::size_t block_bytes, std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(block_bytes);
    auto start = clock::now();
    std::uint64_t got = data.plain_read(block.span());
    double seconds = seconds_since(start);
    expect_count("bytes read", got, data.size());
    return static_cast<double>(got) / seconds / (1 << 30);
}

}  // namespace coronet::bench
