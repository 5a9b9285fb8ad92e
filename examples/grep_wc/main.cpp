// grep_wc: the shell's `grep ERROR | wc -l`, started as a pipeline (grep's
// stdout feeds wc's stdin directly), fed a generated log and read back line
// by line. Exits 0 when wc counts the lines counted here.

#include <coronet/coronet.hpp>

#include <cstdio>
#include <string>
#include <vector>

coronet::task<int> count_errors(int lines) {
    std::string log;
    int errors = 0;
    for (int i = 0; i < lines; ++i) {
        bool error = i % 13 == 0;
        errors += error;
        log += std::to_string(i) + (error ? " ERROR disk full\n" : " INFO all good\n");
    }

    std::vector<coronet::net::command> commands{{"grep", {.args = {"ERROR"}}},
                                                {"wc", {.args = {"-l"}}}};
    auto chain = co_await coronet::net::spawn_pipeline(std::move(commands));
    co_await chain.front().stdin_pipe().write_all(log);
    chain.front().close_stdin();  // grep sees the end of its input, then wc sees the end of its

    std::string counted;
    while (auto line = co_await chain.back().stdout_pipe().read_line()) {
        std::printf("wc: %s\n", line->c_str());
        counted = *line;
    }
    for (auto& p : chain) {
        auto status = co_await p.wait();
        if (!status.success()) {
            std::fprintf(stderr, "a stage failed: %s\n", status.to_string().c_str());
            co_return 1;
        }
    }
    std::printf("%d lines, %d errors counted here\n", lines, errors);
    co_return counted == std::to_string(errors) ? 0 : 1;
}

int main() {
    coronet::runtime rt;
    return rt.sync_wait(count_errors(100'000));
}
