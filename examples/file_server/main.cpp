// file_server: a TCP server sends a file to a client, reading it with the
// file API (page-cache hits complete inline, misses go to the blocking pool)
// and writing it to the socket; the client checks every byte. Exits 0 when
// the client received the file intact.

#include <coronet/coronet.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

coronet::task<void> serve(coronet::tcp::listener listener, std::string path) {
    auto client = co_await listener.accept();
    auto file = co_await coronet::net::open(path);
    std::vector<std::byte> chunk(256 * 1024);
    while (std::size_t n = co_await file.read(chunk))
        co_await client.send_all(std::span(chunk).first(n));
    client.shutdown_send();  // the client reads the end of the stream
}

coronet::task<std::string> fetch(std::uint16_t port) {
    auto server = co_await coronet::tcp::connect("127.0.0.1", port);
    std::string received;
    std::vector<std::byte> buf(64 * 1024);
    while (std::size_t n = co_await server.recv(buf))
        received.append(reinterpret_cast<const char*>(buf.data()), n);
    co_return received;
}

coronet::task<int> run(std::string path) {
    std::string content;
    for (int i = 0; content.size() < 8 * 1024 * 1024; ++i)
        content += "block " + std::to_string(i) + " of the file being served\n";
    co_await coronet::net::write_file(path, content);

    auto listener = coronet::tcp::listen("127.0.0.1", 0);
    std::uint16_t port = listener.port();
    auto server = coronet::spawn(serve, std::move(listener), path);
    std::string received = co_await fetch(port);
    co_await server.join();

    std::printf("sent %zu bytes, received %zu, %s\n", content.size(), received.size(),
                received == content ? "identical" : "DIFFERENT");
    co_return received == content ? 0 : 1;
}

int main() {
    auto path = std::filesystem::temp_directory_path() / "coronet-file-server-example.txt";
    coronet::runtime rt;
    int result = rt.sync_wait(run(path.string()));
    std::filesystem::remove(path);
    return result;
}
