#pragma once

#include <coronet/net/detail/read_ahead.hpp>
#include <coronet/runtime/dispatcher.hpp>
#include <coronet/runtime/io_policy.hpp>
#include <coronet/runtime/task.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace coronet::net {

/// How `open` opens a file; combine with `|`. `create`, `truncate` and
/// `append` imply `write`; without `write` a file is opened for reading.
enum class open_flags : std::uint32_t {
    read = 1,        ///< for reading
    write = 2,       ///< for writing
    create = 4,      ///< create it if it does not exist (with `mode`)
    truncate = 8,    ///< empty it first
    append = 16,     ///< every write goes to the end of the file
    exclusive = 32,  ///< with `create`: fail with EEXIST if it exists
};

constexpr open_flags operator|(open_flags a, open_flags b) noexcept {
    return static_cast<open_flags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr open_flags operator&(open_flags a, open_flags b) noexcept {
    return static_cast<open_flags>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}
/// True when `set` holds every flag of `f`.
constexpr bool has(open_flags set, open_flags f) noexcept {
    return (set & f) == f;
}

/// Where `file::seek` counts from.
enum class seek_from { begin, current, end };

/// The default limit on one line of `read_line`: 1 MiB.
inline constexpr std::size_t default_max_line = 1024 * 1024;

/// An open file. Reads and writes go through the shard's I/O dispatcher: the
/// call is first tried with `RWF_NOWAIT`, so data in the page cache is read
/// (or written) inline at the cost of one system call; when the kernel says it
/// would block, the call runs on the blocking pool and the coroutine waits.
/// A file that keeps missing the cache stops trying inline (but for a probe
/// now and then). Where a file system does not take `RWF_NOWAIT` for writes
/// (ext4 does not, for buffered writes), writes are blocking calls keyed by
/// the file's device: inline while they are fast, offloaded when they get
/// slow; one over 1 MiB is always offloaded. `runtime_options::io` forces
/// either way.
/// Buffers are the caller's (`std::span<std::byte>`), so big reads can go
/// into page-aligned memory.
///
/// The file keeps its own position (`read`, `write`, `seek`, `read_line`);
/// `read_at` and `write_at` neither use nor move it.
///
/// Errors: awaited operations throw `std::system_error` with the OS error.
/// Cancellation: terminating the coroutine while a call runs on the blocking
/// pool waits for that call to finish and drops its result; the position does
/// not move for a read whose result was dropped, and a `read_line` or
/// `read_all` cut short keeps what it had read for the next read.
/// Thread safety: a file holds no event-loop state, so it may move between
/// shards, but it is used from one shard at a time. There, `read_at` and
/// `write_at` may overlap; the operations that use the position go one at a
/// time. Do not close it while an operation is under way.
///
///     auto f = co_await coronet::net::open("data.bin");
///     std::vector<std::byte> buf(1 << 20);
///     while (std::size_t n = co_await f.read(buf)) consume(std::span(buf).first(n));
class file {
public:
    file() noexcept = default;
    /// Adopts `fd`, an open descriptor of a regular file (or anything that
    /// reads and writes like one), which the file then owns.
    explicit file(int fd);
    file(file&& o) noexcept;
    file& operator=(file&& o) noexcept;
    ~file();

    bool is_open() const noexcept { return fd_ >= 0; }
    int native_handle() const noexcept { return fd_; }

    /// Reads up to `buffer.size()` bytes at the position and moves it on; how
    /// many (fewer near the end, or when only part was cached), 0 at the end.
    [[nodiscard]] task<std::size_t> read(std::span<std::byte> buffer);
    /// As read, at `offset`, without using or moving the position.
    [[nodiscard]] task<std::size_t> read_at(std::span<std::byte> buffer, std::uint64_t offset);
    /// Reads exactly `buffer.size()` bytes from the position;
    /// `errc::end_of_stream` if the file ends first.
    [[nodiscard]] task<void> read_exactly(std::span<std::byte> buffer);
    /// Reads the next line, without its '\n'; `std::nullopt` at the end of the
    /// file. A last line without '\n' is returned as it is. A line longer than
    /// `max` throws `errc::message_too_large`.
    [[nodiscard]] task<std::optional<std::string>> read_line(std::size_t max = default_max_line);
    /// Reads from the position to the end of the file.
    [[nodiscard]] task<std::string> read_all();

    /// Writes `data` at the position (at the end with `open_flags::append`)
    /// and moves the position past it; how much was written (all of it but
    /// when the disk fills up or a limit is hit).
    [[nodiscard]] task<std::size_t> write(std::span<const std::byte> data);
    /// As write, at `offset`, without using or moving the position. (On Linux
    /// a file opened with `append` appends whatever the offset.)
    [[nodiscard]] task<std::size_t> write_at(std::span<const std::byte> data, std::uint64_t offset);
    /// Writes all of `data` at the position. `data` must outlive the task.
    [[nodiscard]] task<void> write_all(std::span<const std::byte> data);
    [[nodiscard]] task<void> write_all(std::string_view data);

    /// Moves the position to `offset` from `from`; the new position.
    /// Errors: `std::system_error(EINVAL)` for a position before the start.
    std::uint64_t seek(std::int64_t offset, seek_from from = seek_from::begin);
    /// The position: where the next `read` or `write` starts.
    std::uint64_t position() const noexcept;
    /// The size of the file now (fstat).
    std::uint64_t size() const;

    /// Flushes the file's data and metadata to its device (fsync), as a
    /// blocking call through the dispatcher keyed by the device.
    [[nodiscard]] task<void> sync();
    /// As sync, but only what is needed to read the data back (fdatasync).
    [[nodiscard]] task<void> sync_data();

    /// Closes the file (without flushing it to the device: see sync).
    /// Errors: `std::system_error` if the system reports a deferred write
    /// error (EIO on some file systems); the file is closed anyway.
    void close();

private:
    void drop_read_ahead() noexcept;
    // One read (or write) at `offset` (-1: the descriptor's own position),
    // through the dispatcher. With `advance`, at the file's position instead,
    // which it moves past what was transferred (a read takes what was read
    // ahead first): one coroutine frame for read() as for read_at().
    task<std::size_t> transfer(bool writing, std::byte* data, std::size_t size, std::int64_t offset,
                               bool advance = false);

    int fd_ = -1;
    bool append_ = false;
    bool nowait_read_ = true;   // the file system takes RWF_NOWAIT for reads
    bool nowait_write_ = true;  // ... and for writes
    std::uint64_t pos_ = 0;     // of the first byte not read ahead
    std::string device_;        // the dispatcher key: the file's device
    detail::read_ahead ahead_;  // read past the line by read_line
    coronet::detail::speculation read_spec_;
    coronet::detail::speculation write_spec_;
};

/// Opens `path` as a blocking call through the dispatcher, keyed by the
/// directory it is in. `mode` gives the permissions of a created file (less
/// the umask). The descriptor is close-on-exec.
///
/// Errors: `std::system_error` with the OS error, its message naming the path
/// ("open /x/y: No such file or directory"). Cancellation: as call_blocking;
/// a file opened for a coroutine that was terminated meanwhile is closed.
/// Call it from a coroutine of a runtime.
///
///     auto log = co_await coronet::net::open("app.log", open_flags::append | open_flags::create);
///     co_await log.write_all("started\n");
[[nodiscard]] task<file> open(std::string path, open_flags flags = open_flags::read,
                              std::uint32_t mode = 0644);

/// Reads the whole file at `path` into a string.
///
/// Errors: `std::system_error` (open or read). Cancellation: as file::read.
///
///     std::string config = co_await coronet::net::read_file("/etc/app.conf");
[[nodiscard]] task<std::string> read_file(std::string path);

/// Writes `data` to `path`, creating it (with `mode`) or replacing what it
/// held. Not synced to the device. `data` must outlive the task.
///
/// Errors: `std::system_error` (open or write). Cancellation: as file::write;
/// the file may be left partly written.
///
///     co_await coronet::net::write_file("out.txt", report);
[[nodiscard]] task<void> write_file(std::string path, std::string_view data,
                                    std::uint32_t mode = 0644);

}  // namespace coronet::net
