// sha1sum: pipes data through the `sha1sum` program with communicate (its
// stdin written while its stdout is read) and checks the digest it prints
// against one computed here. With a path argument, digests that file;
// otherwise 4 MiB of generated data. Exits 0 when the two digests agree.

#include <coronet/coronet.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

// SHA-1 as FIPS 180-4 defines it, to check the child's answer.
std::string sha1_hex(const std::string& data) {
    std::array<std::uint32_t, 5> h{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };

    std::string msg = data;
    msg += '\x80';
    while (msg.size() % 64 != 56) msg += '\0';
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 7; i >= 0; --i) msg += static_cast<char>(bits >> (i * 8));

    for (std::size_t block = 0; block < msg.size(); block += 64) {
        std::array<std::uint32_t, 80> w{};
        for (int t = 0; t < 16; ++t)
            for (int b = 0; b < 4; ++b)
                w[t] = (w[t] << 8) | static_cast<unsigned char>(msg[block + t * 4 + b]);
        for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
        auto [a, b, c, d, e] = h;
        for (int t = 0; t < 80; ++t) {
            std::uint32_t f, k;
            if (t < 20) {
                f = (b & c) | (~b & d);
                k = 0x5A827999;
            } else if (t < 40) {
                f = b ^ c ^ d;
                k = 0x6ED9EBA1;
            } else if (t < 60) {
                f = (b & c) | (b & d) | (c & d);
                k = 0x8F1BBCDC;
            } else {
                f = b ^ c ^ d;
                k = 0xCA62C1D6;
            }
            std::uint32_t next = rotl(a, 5) + f + e + k + w[t];
            e = d;
            d = c;
            c = rotl(b, 30);
            b = a;
            a = next;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
    }
    std::string hex;
    for (std::uint32_t word : h) {
        char part[9];
        std::snprintf(part, sizeof part, "%08x", word);
        hex += part;
    }
    return hex;
}

coronet::task<int> check(std::string path) {
    std::string data;
    if (path.empty()) {
        for (int i = 0; data.size() < 4 * 1024 * 1024; ++i)
            data += "line " + std::to_string(i) + "\n";
    } else {
        data = co_await coronet::net::read_file(path);
    }

    auto child = co_await coronet::net::spawn_process("sha1sum");
    auto [out, err, status] = co_await child.communicate(data);  // 4 MiB in, a line out
    if (!status.success()) {
        std::fprintf(stderr, "sha1sum failed (%s): %s", status.to_string().c_str(), err.c_str());
        co_return 1;
    }
    std::string theirs = out.substr(0, out.find(' '));
    std::string ours = sha1_hex(data);
    std::printf("%zu bytes\nsha1sum: %s\nin here: %s\n", data.size(), theirs.c_str(), ours.c_str());
    co_return theirs == ours ? 0 : 1;
}

int main(int argc, char** argv) {
    coronet::runtime rt;
    return rt.sync_wait(check(argc > 1 ? argv[1] : ""));
}
