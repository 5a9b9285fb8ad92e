#include <coronet/net/file.hpp>
#include <coronet/net/pipe.hpp>
#include <coronet/net/process.hpp>
#include <coronet_test.hpp>
#include "os_probes.hpp"

#include <algorithm>
#include <csignal>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

using coronet::io_op;
using coronet::task;
using coronet::net::command;
using coronet::net::exit_status;
using coronet::net::process;
using coronet::net::process_options;
using coronet::net::spawn_process;
using coronet::net::stdio;

/// Options that run `script` with sh.
process_options shell(std::string script) {
    process_options o;
    o.args = {"-c", std::move(script)};
    return o;
}

/// Options with these arguments. (GCC 12 mishandles a braced list or an
/// aggregate made inside a co_await expression: the tests build options
/// before it.)
template <class... Args>
process_options with_args(Args... args) {
    process_options o;
    (o.args.emplace_back(args), ...);
    return o;
}

/// `n` bytes of text that differ from one offset to the next.
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 13 + i / 509) % 26);
    return s;
}

class ProcessTest : public coronet::testing::runtime_test {
protected:
    void SetUp() override {
        // A shard's event loop opens its epoll descriptors with the first
        // descriptor it watches: before the count, not in it.
        for (unsigned shard = 0; shard < rt_.shard_count(); ++shard) {
            rt_.spawn_on(shard,
                         []() -> task<void> {
                             auto ends = coronet::net::make_pipe();
                             co_return;
                         })
                .wait();
        }
        fds_.emplace();
    }
    void TearDown() override { fds_->verify(); }

    coronet::testing::temp_dir dir_;
    std::optional<coronet::testing::descriptor_check> fds_;
};

TEST_F(ProcessTest, ReadsOutputsAndTheExitCode) {
    run([]() -> task<void> {
        auto p = co_await spawn_process("sh", shell("echo out; echo err >&2; exit 3"));
        EXPECT_GT(p.pid(), 0);
        EXPECT_EQ(co_await p.stdout_pipe().read_all(), "out\n");
        EXPECT_EQ(co_await p.stderr_pipe().read_all(), "err\n");
        exit_status st = co_await p.wait();
        EXPECT_TRUE(st.exited());
        EXPECT_FALSE(st.success());
        EXPECT_EQ(st.code, 3);
        EXPECT_EQ(st.to_string(), "exit code 3");
        EXPECT_EQ(co_await p.wait(), st);  // the same again
        EXPECT_EQ(p.try_wait(), st);
    }());
    EXPECT_GE(rt_.io_stats(io_op::pipe_read).inline_completions +
                  rt_.io_stats(io_op::pipe_read).epoll_waits,
              2u);
}

TEST_F(ProcessTest, ReportsTheSignalThatKilledIt) {
    run([]() -> task<void> {
        auto sleeper = co_await spawn_process("sleep", with_args("60"));
        EXPECT_EQ(sleeper.try_wait(), std::nullopt);  // still running
        sleeper.kill();
        exit_status st = co_await sleeper.wait();
        EXPECT_FALSE(st.exited());
        EXPECT_EQ(st.signal, SIGKILL);
        EXPECT_EQ(st.code, 128 + SIGKILL);
        EXPECT_NE(st.to_string().find("signal 9"), std::string::npos) << st.to_string();
        sleeper.kill();  // once waited for: nothing

        auto polite = co_await spawn_process("sleep", with_args("60"));
        polite.terminate();
        EXPECT_EQ((co_await polite.wait()).signal, SIGTERM);
    }());
}

TEST_F(ProcessTest, SetsArgumentsEnvironmentAndWorkingDirectory) {
    std::string cwd = dir_.path().string();
    std::string out = run([&]() -> task<std::string> {
        process_options o = shell(R"sh(printf '%s|%s|%s|%s' "$0" "$1" "$GREETING" "$(pwd)")sh");
        o.args.push_back("zero");
        o.args.push_back("one two");
        o.env = {{"GREETING", "hello"}};
        o.cwd = cwd;
        auto p = co_await spawn_process("sh", std::move(o));
        auto [text, err, status] = co_await p.communicate();
        EXPECT_TRUE(status.success()) << status.to_string() << err;
        co_return text;
    }());
    EXPECT_EQ(out, "zero|one two|hello|" + cwd);
}

TEST_F(ProcessTest, AClearedEnvironmentHoldsOnlyWhatIsSet) {
    ::setenv("CORONET_TEST_INHERITED", "yes", 1);
    auto [inherited, cleared] = run([]() -> task<std::pair<std::string, std::string>> {
        auto a = co_await spawn_process("sh", shell("echo \"$CORONET_TEST_INHERITED\""));
        auto with = co_await a.communicate();
        process_options only{.env = {{"ONLY", "this"}}, .clear_env = true};
        auto b = co_await spawn_process("/usr/bin/env", std::move(only));
        auto without = co_await b.communicate();
        co_return std::pair(with.out, without.out);
    }());
    ::unsetenv("CORONET_TEST_INHERITED");
    EXPECT_EQ(inherited, "yes\n");
    EXPECT_EQ(cleared, "ONLY=this\n");
}

TEST_F(ProcessTest, AProgramThatDoesNotExistGivesAClearError) {
    try {
        run(spawn_process("coronet-no-such-program"));
        FAIL() << "started a program that does not exist";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::error_code(ENOENT, std::system_category()));
        EXPECT_NE(std::string(e.what()).find("coronet-no-such-program"), std::string::npos)
            << e.what();
    }
    try {
        run(spawn_process("true", {.cwd = dir_ / "missing"}));
        FAIL() << "started in a directory that does not exist";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::error_code(ENOENT, std::system_category()));
        EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(coronet::testing::child_processes().empty());
}

TEST_F(ProcessTest, CommunicatePassesTenMebibytesThroughCat) {
    std::string input = pattern(10 * 1024 * 1024);
    auto result = run([&]() -> task<coronet::net::process_output> {
        auto p = co_await spawn_process("cat");
        co_return co_await p.communicate(input);
    }());
    EXPECT_TRUE(result.status.success()) << result.status.to_string();
    EXPECT_EQ(result.out.size(), input.size());
    EXPECT_TRUE(result.out == input);
    EXPECT_EQ(result.err, "");
    EXPECT_GT(rt_.io_stats(io_op::pipe_write).inline_completions, 0u);
    EXPECT_GT(rt_.io_stats(io_op::pipe_read).inline_completions, 0u);
}

TEST_F(ProcessTest, CommunicateDrainsLargeStdoutAndStderrTogether) {
    // Either output alone fills its pipe many times over: reading one to its
    // end before the other would deadlock.
    auto result = run([]() -> task<coronet::net::process_output> {
        auto p = co_await spawn_process(
            "sh", shell("i=0; while [ $i -lt 2000 ]; do "
                        "echo 'to stdout, a line of some length to fill the pipe quickly'; "
                        "echo 'to stderr, a line of some length to fill the pipe quickly' >&2; "
                        "i=$((i+1)); done"));
        co_return co_await p.communicate();
    }());
    EXPECT_TRUE(result.status.success());
    EXPECT_EQ(std::count(result.out.begin(), result.out.end(), '\n'), 2000);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 2000);
    EXPECT_EQ(result.out.substr(0, 10), "to stdout,");
    EXPECT_EQ(result.err.substr(0, 10), "to stderr,");
}

TEST_F(ProcessTest, WritingToAChildThatExitedGivesEpipeNotSigpipe) {
    run([]() -> task<void> {
        auto p = co_await spawn_process("true");
        EXPECT_TRUE((co_await p.wait()).success());
        try {
            co_await p.stdin_pipe().write_all("nobody reads this");
            ADD_FAILURE() << "wrote to a pipe without a reader";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code(), std::error_code(EPIPE, std::system_category()));
            EXPECT_NE(std::string(e.what()).find("reader"), std::string::npos) << e.what();
        }
        // communicate does not count it as an error: the status tells.
        auto q = co_await spawn_process("sh", shell("exit 4"));
        auto r = co_await q.communicate(std::string(1024 * 1024, 'x'));
        EXPECT_EQ(r.status.code, 4);
    }());
}

TEST_F(ProcessTest, ReadsOutputLineByLine) {
    auto lines = run([]() -> task<std::vector<std::string>> {
        auto p = co_await spawn_process("printf", with_args("a\\nbb\\n\\nlast"));
        std::vector<std::string> out;
        while (auto line = co_await p.stdout_pipe().read_line()) out.push_back(*line);
        EXPECT_TRUE((co_await p.wait()).success());
        co_return out;
    }());
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "bb", "", "last"}));
}

TEST_F(ProcessTest, TalksToAChildLineByLine) {
    run([]() -> task<void> {
        // cat echoes each line as it comes: a conversation, not a batch.
        auto p = co_await spawn_process("cat");
        for (int i = 0; i < 100; ++i) {
            std::string line = "line " + std::to_string(i);
            co_await p.stdin_pipe().write_all(line + "\n");
            EXPECT_EQ(co_await p.stdout_pipe().read_line(), line);
        }
        p.close_stdin();
        EXPECT_EQ(co_await p.stdout_pipe().read_line(), std::nullopt);
        EXPECT_TRUE((co_await p.wait()).success());
    }());
}

TEST_F(ProcessTest, APipelineFeedsEachStdoutToTheNextStdin) {
    auto [sorted, statuses] = run([]() -> task<std::pair<std::string, std::vector<exit_status>>> {
        std::vector<command> commands{{"printf", with_args("pear\\napple\\nfig\\nkiwi\\n")},
                                      {"sort"},
                                      {"head", with_args("-n", "3")}};
        auto chain = co_await coronet::net::spawn_pipeline(std::move(commands));
        EXPECT_EQ(chain.size(), 3u);
        EXPECT_FALSE(chain[0].stdout_pipe().is_open());  // it goes to sort, not here
        EXPECT_FALSE(chain[1].stdin_pipe().is_open());
        std::string out = co_await chain.back().stdout_pipe().read_all();
        std::vector<exit_status> st;
        for (auto& p : chain) st.push_back(co_await p.wait());
        co_return std::pair(out, st);
    }());
    EXPECT_EQ(sorted, "apple\nfig\nkiwi\n");
    for (const auto& st : statuses) EXPECT_TRUE(st.success()) << st.to_string();
}

TEST_F(ProcessTest, GrepIntoWcCountsTheMatches) {
    std::string count = run([]() -> task<std::string> {
        std::vector<command> commands{{"grep", with_args("error")}, {"wc", with_args("-l")}};
        auto chain = co_await coronet::net::spawn_pipeline(std::move(commands));
        std::string text;
        for (int i = 0; i < 5000; ++i) text += i % 7 == 0 ? "an error here\n" : "all fine\n";
        co_await chain.front().stdin_pipe().write_all(text);
        chain.front().close_stdin();
        auto line = co_await chain.back().stdout_pipe().read_line();
        for (auto& p : chain) co_await p.wait();
        co_return line.value_or("none");
    }());
    EXPECT_EQ(std::stoi(count), 715);  // 0, 7, ..., 4998
}

TEST_F(ProcessTest, ChainsByHandOverAnotherProcesssStdout) {
    std::string out = run([]() -> task<std::string> {
        auto first = co_await spawn_process("printf", with_args("b\\na\\n"));
        process_options o{.in = stdio::from(std::move(first.stdout_pipe()))};
        auto second = co_await spawn_process("sort", std::move(o));
        auto result = co_await second.communicate();
        co_await first.wait();
        co_return result.out;
    }());
    EXPECT_EQ(out, "a\nb\n");
}

TEST_F(ProcessTest, NullAndDescriptorRedirections) {
    std::string path = dir_ / "out.txt";
    run([&]() -> task<void> {
        process_options silenced = shell("echo lost; echo lost too >&2");
        silenced.out = stdio::null();
        silenced.err = stdio::null();
        auto quiet = co_await spawn_process("sh", std::move(silenced));
        EXPECT_FALSE(quiet.stdout_pipe().is_open());
        EXPECT_FALSE(quiet.stderr_pipe().is_open());
        EXPECT_TRUE((co_await quiet.wait()).success());

        auto f = co_await coronet::net::open(path, coronet::net::open_flags::create);
        process_options redirected = with_args("into the file");
        redirected.out = stdio::descriptor(f.native_handle());
        auto to_file = co_await spawn_process("echo", std::move(redirected));
        EXPECT_TRUE((co_await to_file.wait()).success());
    }());
    EXPECT_EQ(run(coronet::net::read_file(path)), "into the file\n");
}

TEST_F(ProcessTest, AnInProcessPipeCarriesLinesAndReportsTheEnd) {
    run([]() -> task<void> {
        auto [reader, writer] = coronet::net::make_pipe();
        co_await writer.write_all("one\ntwo\n");
        EXPECT_EQ(co_await reader.read_line(), "one");
        EXPECT_EQ(co_await reader.read_some(100), "two\n");
        writer.close();
        EXPECT_EQ(co_await reader.read_line(), std::nullopt);

        auto [r2, w2] = coronet::net::make_pipe();
        r2.close();
        EXPECT_THROW(co_await w2.write_all("x"), std::system_error);
    }());
}

TEST_F(ProcessTest, CommunicateRefusesInputWithoutAStdinPipe) {
    run([]() -> task<void> {
        process_options o{.in = stdio::null()};
        auto p = co_await spawn_process("true", std::move(o));
        EXPECT_THROW(co_await p.communicate("input"), std::invalid_argument);
        co_await p.wait();
    }());
}

TEST_F(ProcessTest, ManyProcessesOnBothShardsLeaveNoZombies) {
    auto worker = [](int i) -> task<bool> {
        auto p =
            co_await spawn_process("sh", shell("read x; echo $x; exit " + std::to_string(i % 3)));
        auto r = co_await p.communicate(std::to_string(i) + "\n");
        co_return r.out == std::to_string(i) + "\n" && r.status.code == i % 3;
    };
    int ok = run([&]() -> task<int> {
        std::vector<coronet::join_handle<bool>> all;
        for (int i = 0; i < 20; ++i)
            all.push_back(coronet::spawn_on(static_cast<unsigned>(i) % 2, worker, i));
        int n = 0;
        for (auto& h : all) n += co_await h.join();
        co_return n;
    }());
    EXPECT_EQ(ok, 20);
    EXPECT_TRUE(coronet::testing::child_processes().empty());
}

/// Tests with a runtime of their own, stopped to see what was left behind.
class ProcessOwnRuntimeTest : public ::testing::Test {
protected:
    static coronet::runtime_options two_shards(coronet::io_mode mode = coronet::io_mode::adaptive) {
        coronet::runtime_options o;
        o.shards = 2;
        o.io = mode;
        return o;
    }

    coronet::testing::descriptor_check fds_;
};

TEST_F(ProcessOwnRuntimeTest, TerminatingACoroutineWaitingOnAProcessKillsAndReapsIt) {
    for (bool pidfd : {true, false}) {
        coronet::net::detail::use_pidfd(pidfd);
        {
            coronet::runtime rt(two_shards());
            coronet::event waiting;
            auto waiter = rt.spawn([&]() -> task<void> {
                auto p = co_await spawn_process("sleep", with_args("60"));
                waiting.set();  // the wait below starts before anything else runs here
                co_await p.wait();
            });
            rt.sync_wait([&]() -> task<void> { co_await waiting.wait(); }());
            waiter.terminate();
            EXPECT_THROW(waiter.wait(), coronet::terminated);
        }  // the runtime stopped: its blocking pool has reaped the child
        EXPECT_TRUE(coronet::testing::child_processes().empty()) << "pidfd: " << pidfd;
    }
    coronet::net::detail::use_pidfd(true);
    fds_.verify();
}

TEST_F(ProcessOwnRuntimeTest, TerminatingCommunicateStopsItsHelpers) {
    {
        coronet::runtime rt(two_shards());
        coronet::event started;
        auto talker = rt.spawn([&]() -> task<void> {
            // sleep keeps its stdout open: communicate waits for its end.
            auto p = co_await spawn_process("sleep", with_args("60"));
            started.set();
            co_await p.communicate("ignored input\n");
        });
        rt.sync_wait([&]() -> task<void> { co_await started.wait(); }());
        talker.terminate();
        EXPECT_THROW(talker.wait(), coronet::terminated);
    }
    EXPECT_TRUE(coronet::testing::child_processes().empty());
    fds_.verify();
}

TEST_F(ProcessOwnRuntimeTest, DestroyingARunningProcessKillsIt) {
    pid_t pid = 0;
    {
        coronet::runtime_options o;
        o.shards = 1;
        coronet::runtime rt(o);
        pid = rt.sync_wait([]() -> task<pid_t> {
            auto p = co_await spawn_process("sleep", with_args("60"));
            co_return p.pid();  // p goes here
        }());
    }
    EXPECT_GT(pid, 0);
    EXPECT_TRUE(coronet::testing::child_processes().empty());
    fds_.verify();
}

TEST_F(ProcessOwnRuntimeTest, WaitingWorksThroughSigchldWithoutPidfd) {
    coronet::net::detail::use_pidfd(false);
    std::vector<int> codes;
    {
        coronet::runtime rt(two_shards());
        codes = rt.sync_wait([]() -> task<std::vector<int>> {
            std::vector<int> out;
            auto quick = co_await spawn_process("sh", shell("exit 5"));
            auto slow = co_await spawn_process("sh", shell("read x; exit 6"));
            auto r = co_await slow.communicate("go\n");
            out.push_back((co_await quick.wait()).code);
            out.push_back(r.status.code);
            auto killed = co_await spawn_process("sleep", with_args("60"));
            killed.kill();
            out.push_back((co_await killed.wait()).signal);
            co_return out;
        }());
    }  // asio's signal handling keeps a pipe while the runtime lives
    coronet::net::detail::use_pidfd(true);
    EXPECT_EQ(codes, (std::vector<int>{5, 6, SIGKILL}));
    EXPECT_TRUE(coronet::testing::child_processes().empty());
    fds_.verify();
}

TEST_F(ProcessOwnRuntimeTest, AlwaysAsyncReadsFindDataLeftByTheLastRead) {
    {
        coronet::runtime rt(two_shards(coronet::io_mode::always_async));
        auto halves = rt.sync_wait([]() -> task<std::vector<std::string>> {
            // The child writes once, then keeps its stdout open without writing.
            auto p = co_await spawn_process("sh", shell("printf 0123456789; exec sleep 60"));
            std::vector<std::string> out;
            out.push_back(co_await p.stdout_pipe().read_some(5));
            auto second = co_await coronet::with_timeout(std::chrono::seconds(10),
                                                         p.stdout_pipe().read_some(5));
            out.push_back(second.value_or("(timed out)"));
            co_return out;
        }());
        EXPECT_EQ(halves, (std::vector<std::string>{"01234", "56789"}));
        EXPECT_GE(rt.io_stats(io_op::pipe_read).epoll_waits, 1u);
    }
    EXPECT_TRUE(coronet::testing::child_processes().empty());
    fds_.verify();
}

}  // namespace
