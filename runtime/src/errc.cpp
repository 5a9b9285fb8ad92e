#include <coronet/runtime/errc.hpp>

namespace coronet {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "coronet"; }
    std::string message(int code) const override {
        switch (static_cast<errc>(code)) {
            case errc::terminated:
                return "coroutine terminated";
            case errc::runtime_stopped:
                return "runtime stopped";
            case errc::not_in_coroutine:
                return "not called from a coroutine of a runtime";
            case errc::invalid_shard:
                return "no such shard";
            case errc::timed_out:
                return "timed out";
            case errc::end_of_stream:
                return "end of stream: the peer closed the connection";
            case errc::message_too_large:
                return "message larger than the frame size limit";
        }
        return "unknown coronet error";
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace coronet
