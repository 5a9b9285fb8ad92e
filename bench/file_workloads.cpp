// The file workloads: random 4 KiB reads of a cached file through the
// dispatcher in its three modes, and reading a whole cached file in big or
// small blocks with coronet's file API and with a plain pread loop.

#include "file_workloads.hpp"

#include "measure.hpp"

#include <coronet/net/file.hpp>
#include <coronet/net/tcp.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/task.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

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

    /// Drops `bytes` from `offset` from the page cache (written back first),
    /// so that reading them goes to the device.
    void evict(std::uint64_t offset, std::uint64_t bytes) const {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd) != 0 ||
            posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(bytes),
                          POSIX_FADV_DONTNEED) != 0) {
            std::string error = os_error("evict");
            if (fd >= 0) close(fd);
            throw failure(error);
        }
        close(fd);
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

/// The file of the mixed reads: a cached part, and after it an evicted part
/// whose pages are each read once, in turn.
struct mixed_file {
    std::uint64_t cached_pages;
    std::uint64_t next_cold_page = 0;

    std::uint64_t next_offset(xorshift& rng) {
        if (rng.next() % 100 == 0) return (cached_pages + next_cold_page++) * page;
        return rng.next() % cached_pages * page;
    }
};

/// One of the readers of the mixed reads: `n` reads of 4 KiB; the bytes read.
task<std::uint64_t> mixed_reader(net::file* f, mixed_file* layout, std::uint64_t n,
                                 std::uint64_t seed) {
    aligned_buffer block(page);
    xorshift rng(seed);
    std::uint64_t done = 0;
    for (std::uint64_t i = 0; i < n; ++i)
        done += co_await f->read_at(block.span(), layout->next_offset(rng));
    co_return done;
}

/// Reads the whole file in blocks of `block.size()`; the bytes read.
task<std::uint64_t> whole_read(std::string path, std::span<std::byte> block) {
    net::file f = co_await net::open(path);
    std::uint64_t done = 0;
    while (std::size_t k = co_await f.read(block)) done += k;
    co_return done;
}

/// Sends the whole file to 127.0.0.1:`port` in blocks of `block.size()`,
/// then closes its side; the bytes sent.
task<std::uint64_t> send_file(std::string path, std::uint16_t port, std::span<std::byte> block) {
    net::file f = co_await net::open(path);
    net::tcp::stream s = co_await net::tcp::connect("127.0.0.1", port);
    std::uint64_t done = 0;
    while (std::size_t k = co_await f.read(block)) {
        co_await s.send_all(block.first(k));
        done += k;
    }
    s.shutdown_send();
    co_return done;
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/// The receiving end of the file-to-socket workloads: listens on 127.0.0.1,
/// takes one connection and reads it to its end on a thread of its own.
class drain {
public:
    drain() {
        listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in at = loopback(0);
        socklen_t len = sizeof at;
        if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&at), len) != 0 ||
            listen(listener_, 1) != 0 ||
            getsockname(listener_, reinterpret_cast<sockaddr*>(&at), &len) != 0)
            throw failure(os_error("listen"));
        port_ = ntohs(at.sin_port);
        thread_ = std::thread([this] { receive(); });
    }
    drain(const drain&) = delete;
    drain& operator=(const drain&) = delete;
    ~drain() {
        if (thread_.joinable()) {
            shutdown(listener_, SHUT_RDWR);  // ends an accept that still waits
            thread_.join();
        }
        close(listener_);
    }

    std::uint16_t port() const noexcept { return port_; }
    /// Waits for the sender's end; the bytes received.
    std::uint64_t join() {
        thread_.join();
        return received_;
    }

private:
    void receive() {
        int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        aligned_buffer buffer(1 << 20);
        for (ssize_t k; (k = recv(fd, buffer.span().data(), buffer.span().size(), 0)) != 0;) {
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) break;
            received_ += static_cast<std::uint64_t>(k);
        }
        close(fd);
    }

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::uint64_t received_ = 0;  // written by the thread, read after join
    std::thread thread_;
};

/// The file's size for `mib`: at least two of the largest block.
std::uint64_t file_bytes(std::uint64_t mib) {
    return std::max<std::uint64_t>(mib, 2) << 20;
}

/// Times `move()`, which moves the `bytes` of a file and returns how many
/// it moved: GiB/s.
template <class Move>
double gib_per_second(std::uint64_t bytes, Move move) {
    auto start = clock::now();
    std::uint64_t moved = move();
    double seconds = seconds_since(start);
    expect_count("bytes moved", moved, bytes);
    return static_cast<double>(moved) / seconds / (1 << 30);
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

double file_mixed_reads(io_mode mode, std::uint64_t n) {
    constexpr std::uint64_t readers = 16;
    constexpr std::uint64_t cached_bytes = 64 << 20;
    n -= n % readers;
    // Room for every cold read (1% of them, and some more by chance).
    std::uint64_t cold_bytes = (n / 50 + 64) * page;
    cached_file data(cached_bytes + cold_bytes);
    data.evict(cached_bytes, cold_bytes);
    mixed_file layout{.cached_pages = cached_bytes / page};
    runtime rt(one_shard(mode));
    net::file f = rt.sync_wait(net::open(data.path()));
    // No read-ahead: each cold read is one page from the device.
    posix_fadvise(f.native_handle(), 0, 0, POSIX_FADV_RANDOM);

    auto start = clock::now();
    std::vector<join_handle<std::uint64_t>> running;
    for (std::uint64_t r = 0; r < readers; ++r)
        running.push_back(rt.spawn_on(0, mixed_reader, &f, &layout, n / readers, r + 1));
    std::uint64_t got = 0;
    for (auto& h : running) got += h.wait();
    double seconds = seconds_since(start);
    expect_count("bytes read", got, n * page);
    io_counters c = rt.io_stats(io_op::file_read);
    report_metric("inline_share",
                  100.0 * static_cast<double>(c.inline_completions) / static_cast<double>(n));
    report_metric("cold_reads", static_cast<double>(layout.next_cold_page));
    return static_cast<double>(n) / seconds;
}

double coronet_file_read(std::size_t block_bytes, std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(block_bytes);
    runtime rt(one_shard(io_mode::adaptive));
    return gib_per_second(data.size(),
                          [&] { return rt.sync_wait(whole_read(data.path(), block.span())); });
}

double pread_file_read(std::size_t block_bytes, std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(block_bytes);
    return gib_per_second(data.size(), [&] { return data.plain_read(block.span()); });
}

double coronet_file_to_socket(std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(1 << 20);
    drain to;
    runtime rt(one_shard(io_mode::adaptive));
    return gib_per_second(data.size(), [&] {
        std::uint64_t sent = rt.sync_wait(send_file(data.path(), to.port(), block.span()));
        expect_count("bytes sent", sent, data.size());
        return to.join();
    });
}

double plain_file_to_socket(std::uint64_t mib) {
    cached_file data(file_bytes(mib));
    aligned_buffer block(1 << 20);
    drain to;
    return gib_per_second(data.size(), [&] {
        int fd = ::open(data.path().c_str(), O_RDONLY | O_CLOEXEC);
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in at = loopback(to.port());
        if (fd < 0 || s < 0 || connect(s, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0)
            throw failure(os_error("open or connect"));
        std::byte* b = block.span().data();
        for (std::uint64_t sent = 0;;) {
            ssize_t k = pread(fd, b, block.span().size(), static_cast<off_t>(sent));
            if (k <= 0) break;
            for (ssize_t off = 0; off < k;) {
                ssize_t w = send(s, b + off, static_cast<std::size_t>(k - off), MSG_NOSIGNAL);
                if (w < 0) throw failure(os_error("send"));
                off += w;
            }
            sent += static_cast<std::uint64_t>(k);
        }
        close(fd);
        close(s);
        return to.join();
    });
}

}  // namespace coronet::bench
