#pragma once

#include <coronet/runtime/io_policy.hpp>

#include <cstddef>
#include <cstdint>

/// The file workloads (file_workloads.cpp). Each writes its file to $TMPDIR
/// (or /tmp), reads it once so that it is in the page cache, and removes it.
namespace coronet::bench {

/// Random page-aligned 4 KiB reads (`n` of them) of a cached 64 MiB file,
/// one coroutine on one shard with the dispatcher in `mode`: reads/s. Reports
/// `inline_share`, the percentage of reads completed inline.
double file_random_reads(io_mode mode, std::uint64_t n);

template <io_mode Mode>
double file_random_reads(std::uint64_t n) {
    return file_random_reads(Mode, n);
}

/// 16 coroutines on one shard with the dispatcher in `mode` make `n` reads
/// of 4 KiB in all, from one file: 99% at random offsets of a cached 64 MiB,
/// 1% each of another page that is not in the page cache (read-ahead off):
/// reads/s. Reports `inline_share` (as above) and `cold_reads`.
double file_mixed_reads(io_mode mode, std::uint64_t n);

template <io_mode Mode>
double file_mixed_reads(std::uint64_t n) {
    return file_mixed_reads(Mode, n);
}

/// Reads a cached file of `mib` MiB from start to end in blocks of
/// `block_bytes` (a page-aligned buffer) with coronet's file::read: GiB/s.
double coronet_file_read(std::size_t block_bytes, std::uint64_t mib);
/// The same with a plain pread loop on this thread.
double pread_file_read(std::size_t block_bytes, std::uint64_t mib);

/// Sends a cached file of `mib` MiB over a loopback TCP connection in 1 MiB
/// blocks (file::read, then stream::send_all on one shard) to a thread that
/// reads it to the end: GiB/s.
double coronet_file_to_socket(std::uint64_t mib);
/// The same with a plain pread and send loop on this thread.
double plain_file_to_socket(std::uint64_t mib);

template <std::size_t BlockBytes>
double coronet_file_read(std::uint64_t mib) {
    return coronet_file_read(BlockBytes, mib);
}
template <std::size_t BlockBytes>
double pread_file_read(std::uint64_t mib) {
    return pread_file_read(BlockBytes, mib);
}

}  // namespace coronet::bench
