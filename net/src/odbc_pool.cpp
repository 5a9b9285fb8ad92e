#include <coronet/net/odbc.hpp>

#include <stdexcept>
#include <utility>

namespace coronet::odbc {

namespace {

/// A pool slot taken from the semaphore, given back unless kept.
class slot {
public:
    explicit slot(semaphore& s) noexcept : s_(&s) {}
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() {
        if (s_) s_->release();
    }
    void keep() noexcept { s_ = nullptr; }

private:
    semaphore* s_;
};

}  // namespace

pooled_connection::~pooled_connection() {
    if (pool_) pool_->give_back(std::move(c_), discard_);
}

pool::pool(std::string target, pool_options options)
    : target_(std::move(target)), options_(options), slots_(options.max_size) {
    if (options_.max_size == 0)
        throw std::invalid_argument("odbc::pool: max_size must be at least 1");
}

pool::~pool() = default;

task<std::optional<pooled_connection>> pool::acquire(std::chrono::milliseconds timeout) {
    if (!co_await slots_.acquire(timeout)) co_return std::nullopt;
    slot taken(slots_);
    co_await close_retired();
    std::optional<connection> c;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            c.emplace(std::move(idle_.front()));
            idle_.pop_front();
        }
    }
    if (!c) {
        auto opening = connection::open(target_, options_.connect);
        c.emplace(co_await std::move(opening));
        std::lock_guard lock(mutex_);
        ++size_;
        ++opened_;
    }
    taken.keep();
    co_return pooled_connection(this, std::move(*c));
}

void pool::give_back(connection c, bool discard) noexcept {
    {
        std::lock_guard lock(mutex_);
        if (discard || c.broken() || !c.is_open()) {
            --size_;
            ++discarded_;
            if (c.is_open()) retired_.push_back(std::move(c));
        } else {
            idle_.push_back(std::move(c));
        }
    }
    slots_.release();
}

task<void> pool::close_retired() {
    std::vector<connection> retired;
    {
        std::lock_guard lock(mutex_);
        retired.swap(retired_);
    }
    for (connection& c : retired) {
        try {
            co_await c.close();
        } catch (const error&) {  // a lost connection may not close cleanly: it is gone anyway
        }
    }
}

std::size_t pool::size() const {
    std::lock_guard lock(mutex_);
    return size_;
}

std::size_t pool::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

std::uint64_t pool::opened() const {
    std::lock_guard lock(mutex_);
    return opened_;
}

std::uint64_t pool::discarded() const {
    std::lock_guard lock(mutex_);
    return discarded_;
}

}  // namespace coronet::odbc
