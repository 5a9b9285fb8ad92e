#include <coronet/net/file.hpp>
#include <coronet/runtime/call_blocking.hpp>
#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet/runtime/yield.hpp>

#include "read_line.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace coronet::net {

namespace {

[[noreturn]] void throw_errno(int err, const char* what = "") {
    throw std::system_error(err, std::system_category(), what);
}

/// The dispatcher's key for the calls on files of the device of `fd`.
std::string device_key(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_errno(errno, "fstat");
    return std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
}

/// The directory of `path`: the dispatcher's key for opening it.
std::string directory_of(const std::string& path) {
    std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

int open_flags_to_posix(open_flags f) {
    bool writes = has(f, open_flags::write) || has(f, open_flags::create) ||
                  has(f, open_flags::truncate) || has(f, open_flags::append);
    int flags = O_CLOEXEC;
    if (writes)
        flags |= has(f, open_flags::read) ? O_RDWR : O_WRONLY;
    else
        flags |= O_RDONLY;
    if (has(f, open_flags::create)) flags |= O_CREAT;
    if (has(f, open_flags::truncate)) flags |= O_TRUNC;
    if (has(f, open_flags::append)) flags |= O_APPEND;
    if (has(f, open_flags::exclusive)) flags |= O_EXCL;
    return flags;
}

/// One preadv2/pwritev2 of `size` bytes at `offset`; the count, or -errno.
long transfer_once(int fd, bool writing, std::byte* data, std::size_t size, std::int64_t offset,
                   int flags) noexcept {
    iovec iov{data, size};
    for (;;) {
        long n = writing ? static_cast<long>(::pwritev2(fd, &iov, 1, offset, flags))
                         : static_cast<long>(::preadv2(fd, &iov, 1, offset, flags));
        if (n >= 0) return n;
        if (errno != EINTR) return -errno;
    }
}

/// Beyond this, a transfer the kernel cannot promise not to block (RWF_NOWAIT
/// unsupported) goes to the blocking pool: its copy alone would hold the shard.
constexpr std::size_t large_transfer = 1024 * 1024;

std::size_t checked(long n) {
    if (n < 0) throw_errno(static_cast<int>(-n));
    return static_cast<std::size_t>(n);
}

}  // namespace

file::file(int fd) : fd_(fd) {
    try {
        device_ = device_key(fd);
        int fl = ::fcntl(fd, F_GETFL);
        if (fl < 0) throw_errno(errno, "fcntl");
        append_ = (fl & O_APPEND) != 0;
        off_t at = ::lseek(fd, 0, SEEK_CUR);
        pos_ = at < 0 ? 0 : static_cast<std::uint64_t>(at);
    } catch (...) {
        ::close(fd);
        fd_ = -1;
        throw;
    }
}

file::file(file&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      append_(o.append_),
      nowait_read_(o.nowait_read_),
      nowait_write_(o.nowait_write_),
      pos_(o.pos_),
      device_(std::move(o.device_)),
      ahead_(std::move(o.ahead_)),
      read_spec_(o.read_spec_),
      write_spec_(o.write_spec_) {}

file& file::operator=(file&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        append_ = o.append_;
        nowait_read_ = o.nowait_read_;
        nowait_write_ = o.nowait_write_;
        pos_ = o.pos_;
        device_ = std::move(o.device_);
        ahead_ = std::move(o.ahead_);
        read_spec_ = o.read_spec_;
        write_spec_ = o.write_spec_;
    }
    return *this;
}

file::~file() {
    if (fd_ >= 0) ::close(fd_);
}

void file::drop_read_ahead() noexcept {
    pos_ -= ahead_.size();
    ahead_.clear();
}

task<std::size_t> file::transfer(bool writing, std::byte* data, std::size_t size,
                                 std::int64_t offset, bool advance) {
    if (fd_ < 0) throw_errno(EBADF);
    if (advance) {
        if (!writing && !ahead_.empty()) co_return ahead_.take(std::span(data, size));
        offset = static_cast<std::int64_t>(pos_);
    }
    const io_op op = writing ? io_op::file_write : io_op::file_read;
    const int fd = fd_;
    coronet::detail::dispatcher& d = coronet::detail::this_dispatcher();
    std::size_t n = 0;
    bool inline_done = false;

    if (d.mode() == io_mode::always_sync) {
        // The plain blocking call, on the shard.
        n = checked(transfer_once(fd, writing, data, size, offset, 0));
        inline_done = true;
    }
    bool& nowait = writing ? nowait_write_ : nowait_read_;
    coronet::detail::speculation& spec = writing ? write_spec_ : read_spec_;
    if (!inline_done && nowait && d.try_first(op, spec)) {
        long got = transfer_once(fd, writing, data, size, offset, RWF_NOWAIT);
        if (got >= 0) {
            d.attempted(op, spec, true);
            n = static_cast<std::size_t>(got);
            inline_done = true;
        } else if (got == -EOPNOTSUPP) {
            nowait = false;  // this file system cannot tell: see below
        } else if (got == -EAGAIN) {
            d.attempted(op, spec, false);
        } else {
            throw_errno(static_cast<int>(-got));
        }
    }
    if (inline_done) {
        if (d.completed_inline(op, n)) co_await yield();
    } else if (!nowait && size <= large_transfer) {
        // Whether the call will block cannot be known in advance: a blocking
        // call keyed by the device, inline while such calls are fast.
        n = checked(co_await call_blocking(
            op, device_, [=] { return transfer_once(fd, writing, data, size, offset, 0); }));
    } else {
        // Not in the page cache, not worth trying, or too big to copy on the
        // shard without the kernel's word that it will not block: the pool.
        d.counters(op).offloads.add();
        n = checked(co_await spawn_blocking(
            [=] { return transfer_once(fd, writing, data, size, offset, 0); }));
    }
    if (advance) pos_ += n;
    co_return n;
}

task<std::size_t> file::read(std::span<std::byte> buffer) {
    return transfer(false, buffer.data(), buffer.size(), 0, true);
}

task<std::size_t> file::read_at(std::span<std::byte> buffer, std::uint64_t offset) {
    return transfer(false, buffer.data(), buffer.size(), static_cast<std::int64_t>(offset));
}

task<void> file::read_exactly(std::span<std::byte> buffer) {
    while (!buffer.empty()) {
        std::size_t n = co_await read(buffer);
        if (n == 0) throw std::system_error(make_error_code(errc::end_of_stream));
        buffer = buffer.subspan(n);
    }
}

task<std::optional<std::string>> file::read_line(std::size_t max) {
    return ahead_.read_line(max, [this](std::span<std::byte> into) -> task<std::size_t> {
        std::size_t n =
            co_await transfer(false, into.data(), into.size(), static_cast<std::int64_t>(pos_));
        pos_ += n;
        co_return n;
    });
}

task<std::string> file::read_all() {
    std::string out = ahead_.take_all();
    for (;;) {
        // Room for the rest of the file as it is now, and one byte more to see its end.
        std::uint64_t total = size();
        std::size_t chunk = total > pos_ ? static_cast<std::size_t>(total - pos_) + 1 : 64 * 1024;
        std::size_t held = out.size();
        out.resize(held + chunk);
        std::size_t n = 0;
        try {
            n = co_await transfer(false, reinterpret_cast<std::byte*>(out.data()) + held, chunk,
                                  static_cast<std::int64_t>(pos_));
        } catch (...) {
            out.resize(held);  // read again by the next call: the position stays
            ahead_.hold(std::move(out));
            throw;
        }
        out.resize(held + n);
        pos_ += n;
        if (n == 0) co_return out;
    }
}

task<std::size_t> file::write(std::span<const std::byte> data) {
    drop_read_ahead();
    auto* bytes = const_cast<std::byte*>(data.data());  // only read from
    if (append_) {
        std::size_t n = co_await transfer(true, bytes, data.size(), -1);
        off_t at = ::lseek(fd_, 0, SEEK_CUR);
        if (at >= 0) pos_ = static_cast<std::uint64_t>(at);
        co_return n;
    }
    std::size_t n = co_await transfer(true, bytes, data.size(), static_cast<std::int64_t>(pos_));
    pos_ += n;
    co_return n;
}

task<std::size_t> file::write_at(std::span<const std::byte> data, std::uint64_t offset) {
    drop_read_ahead();  // it may hold what is overwritten
    return transfer(true, const_cast<std::byte*>(data.data()), data.size(),
                    static_cast<std::int64_t>(offset));
}

task<void> file::write_all(std::span<const std::byte> data) {
    while (!data.empty()) {
        std::size_t n = co_await write(data);
        if (n == 0) throw_errno(EIO, "write made no progress");
        data = data.subspan(n);
    }
}

task<void> file::write_all(std::string_view data) {
    co_await write_all(std::as_bytes(std::span(data.data(), data.size())));
}

std::uint64_t file::seek(std::int64_t offset, seek_from from) {
    std::int64_t base = 0;
    if (from == seek_from::current) base = static_cast<std::int64_t>(position());
    if (from == seek_from::end) base = static_cast<std::int64_t>(size());
    std::int64_t to = base + offset;
    if (to < 0) throw_errno(EINVAL, "seek before the start of the file");
    ahead_.clear();
    pos_ = static_cast<std::uint64_t>(to);
    return pos_;
}

std::uint64_t file::position() const noexcept {
    return pos_ - ahead_.size();
}

std::uint64_t file::size() const {
    struct stat st {};
    if (fd_ < 0) throw_errno(EBADF);
    if (::fstat(fd_, &st) != 0) throw_errno(errno, "fstat");
    return static_cast<std::uint64_t>(st.st_size);
}

task<void> file::sync() {
    if (fd_ < 0) throw_errno(EBADF);
    int fd = fd_;
    int err = co_await call_blocking(io_op::file_sync, device_,
                                     [fd] { return ::fsync(fd) == 0 ? 0 : errno; });
    if (err != 0) throw_errno(err, "fsync");
}

task<void> file::sync_data() {
    if (fd_ < 0) throw_errno(EBADF);
    int fd = fd_;
    int err = co_await call_blocking(io_op::file_sync, device_,
                                     [fd] { return ::fdatasync(fd) == 0 ? 0 : errno; });
    if (err != 0) throw_errno(err, "fdatasync");
}

void file::close() {
    if (fd_ < 0) return;
    ahead_.clear();
    int fd = std::exchange(fd_, -1);
    // Linux closes the descriptor even when close reports EINTR.
    if (::close(fd) != 0 && errno != EINTR) throw_errno(errno, "close");
}

task<file> open(std::string path, open_flags flags, std::uint32_t mode) {
    int posix_flags = open_flags_to_posix(flags);
    co_return co_await call_blocking(io_op::file_open, directory_of(path), [&]() -> file {
        int fd = ::open(path.c_str(), posix_flags, static_cast<mode_t>(mode));
        if (fd < 0) {
            int err = errno;
            throw_errno(err, ("open " + path).c_str());
        }
        return file(fd);
    });
}

task<std::string> read_file(std::string path) {
    file f = co_await open(std::move(path));
    co_return co_await f.read_all();
}

task<void> write_file(std::string path, std::string_view data, std::uint32_t mode) {
    file f = co_await open(std::move(path),
                           open_flags::write | open_flags::create | open_flags::truncate, mode);
    co_await f.write_all(data);
    f.close();
}

}  // namespace coronet::net
