#include <coronet_test.hpp>

#include <set>
#include <string>
#include <system_error>

namespace {

TEST(ErrcTest, TheCategoryIsNamedCoronet) {
    EXPECT_STREQ(coronet::error_category().name(), "coronet");
}

TEST(ErrcTest, CodesConvertToErrorCodesOfTheCategory) {
    std::error_code ec = coronet::errc::timed_out;
    EXPECT_EQ(ec.category(), coronet::error_category());
    EXPECT_EQ(ec.value(), static_cast<int>(coronet::errc::timed_out));
    EXPECT_EQ(ec, coronet::errc::timed_out);
    EXPECT_NE(ec, coronet::errc::invalid_shard);
    EXPECT_TRUE(ec);
}

TEST(ErrcTest, EveryCodeHasAMessageOfItsOwn) {
    std::set<std::string> messages;
    for (auto e : {coronet::errc::terminated, coronet::errc::runtime_stopped,
                   coronet::errc::not_in_coroutine, coronet::errc::invalid_shard,
                   coronet::errc::timed_out}) {
        std::string m = make_error_code(e).message();
        EXPECT_FALSE(m.empty());
        EXPECT_NE(m, "unknown coronet error");
        messages.insert(m);
    }
    EXPECT_EQ(messages.size(), 5u);
}

TEST(ErrcTest, TerminatedIsASystemErrorWithTheTerminatedCode) {
    try {
        throw coronet::terminated();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), coronet::errc::terminated);
    }
}

}  // namespace
