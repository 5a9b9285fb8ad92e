#include "log.hpp"

#include <cxxabi.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

namespace coronet::detail {

spdlog::logger& log() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto existing = spdlog::get("coronet");
        return existing ? existing : spdlog::stderr_color_mt("coronet");
    }();
    return *logger;
}

std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(
        abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(t.name());
}

std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return type_name(typeid(ex)) + ": " + ex.what();
    } catch (...) {
        const std::type_info* t = abi::__cxa_current_exception_type();
        return t ? type_name(*t) : std::string("unknown exception");
    }
}

}  // namespace coronet::detail
