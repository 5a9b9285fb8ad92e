#include "core.hpp"

#include "log.hpp"
#include "pages.hpp"

#include <coronet/runtime/errc.hpp>

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <asio/post.hpp>

#include <algorithm>
#include <new>
#include <string>

namespace coronet::detail {

thread_local shard* current_shard = nullptr;
constinit thread_local control* current_control = nullptr;

// ---------------------------------------------------------------- slot_table

slot_table::~slot_table() {
    for (std::uint32_t i = 0; i < max_chunks; ++i)
        if (chunk* ch = chunks_[i].load(std::memory_order_relaxed)) free_chunk(ch);
}

// A shard that runs a million coroutines at once fills 245 chunks: a system
// call each (map_populated), where faulting their pages in one by one as the
// slots are first used took 16.
slot_table::chunk* slot_table::make_chunk() {
    return new (map_populated(sizeof(chunk))) chunk;
}

void slot_table::free_chunk(chunk* ch) noexcept {
    ch->~chunk();
    unmap(ch, sizeof(chunk));
}

void slot_table::acquire(control* c) {
    std::lock_guard guard(lock_);
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        index = next_++;
        if ((index >> chunk_bits) >= max_chunks) {
            --next_;
            throw std::length_error("coronet: too many coroutines on one shard");
        }
        if (!chunks_[index >> chunk_bits].load(std::memory_order_relaxed))
            chunks_[index >> chunk_bits].store(make_chunk(), std::memory_order_release);
    }
    entry* e = at(index);
    c->index_ = index;
    c->generation_ = e->generation.load(std::memory_order_relaxed);
    e->c.store(c, std::memory_order_release);
}

void slot_table::release(std::uint32_t index) noexcept {
    std::lock_guard guard(lock_);
    entry* e = at(index);
    e->c.store(nullptr, std::memory_order_relaxed);
    e->marks.store(0, std::memory_order_relaxed);
    e->generation.store(e->generation.load(std::memory_order_relaxed) + 1,
                        std::memory_order_release);
    free_.push_back(index);
}

control* slot_table::find(std::uint32_t index, std::uint32_t generation) const noexcept {
    if ((index >> chunk_bits) >= max_chunks) return nullptr;
    entry* e = at(index);
    if (!e || e->generation.load(std::memory_order_acquire) != generation) return nullptr;
    return e->c.load(std::memory_order_acquire);
}

std::int64_t slot_table::peek(std::uint32_t index, std::uint32_t generation) const noexcept {
    if ((index >> chunk_bits) >= max_chunks) return -1;
    entry* e = at(index);
    if (!e || e->generation.load(std::memory_order_acquire) != generation) return -1;
    std::uint32_t marks = e->marks.load(std::memory_order_relaxed);
    return e->c.load(std::memory_order_acquire) ? std::int64_t{marks} : -1;
}

void slot_table::set_marks(std::uint32_t index, std::uint32_t marks) noexcept {
    at(index)->marks.store(marks, std::memory_order_relaxed);
}

control* slot_table::find_and_ref(std::uint32_t index, std::uint32_t generation) const noexcept {
    std::lock_guard guard(lock_);
    control* c = find(index, generation);
    if (c) c->add_ref();
    return c;
}

bool slot_table::visit(std::uint32_t index, std::uint32_t generation, void (*fn)(control&, void*),
                       void* ctx) const {
    std::lock_guard guard(lock_);
    control* c = find(index, generation);
    if (c) fn(*c, ctx);
    return c != nullptr;
}

std::vector<control*> slot_table::live() const {
    std::vector<control*> out;
    std::lock_guard guard(lock_);
    for (std::uint32_t i = 0; i < next_; ++i)
        if (control* c = at(i)->c.load(std::memory_order_acquire)) out.push_back(c);
    return out;
}

// ---------------------------------------------------------------- shard

namespace {

// The coarse clock costs a quarter of the precise one (4 ns against 19 here)
// and is read once per resumption; it is good enough to tell a stall when
// its tick (4 ms at HZ=250) is at most a fifth of the threshold.
bool coarse_clock_suffices(std::chrono::steady_clock::duration threshold) noexcept {
    timespec res;
    if (::clock_getres(CLOCK_MONOTONIC_COARSE, &res) != 0) return false;
    auto tick = std::chrono::seconds(res.tv_sec) + std::chrono::nanoseconds(res.tv_nsec);
    return threshold >= 5 * tick;
}

}  // namespace

shard::shard(runtime_core& core, std::uint32_t index)
    : core_(core),
      index_(index),
      stall_threshold_(core.options().stall_threshold),
      coarse_stall_clock_(coarse_clock_suffices(stall_threshold_)),
      dispatch_(core.options().io, core.options().io_policy) {}

namespace {

/// Names a thread of the runtime, as `top -H`, gdb and perf show it (the
/// system takes at most 15 characters; a longer name leaves it unnamed).
void name_thread(std::thread& t, const std::string& name) noexcept {
    pthread_setname_np(t.native_handle(), name.c_str());
}

}  // namespace

void shard::start(bool pin) {
    thread_ = std::thread([this] { loop(); });
    name_thread(thread_, (index_ < 100 ? "coronet-shard" : "coronet-s") + std::to_string(index_));
    if (pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(index_ % std::max(1u, std::thread::hardware_concurrency()), &set);
        if (pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set) != 0)
            log().warn("could not pin shard {} to a core", index_);
    }
}

void shard::request_stop() {
    stop_.store(true, std::memory_order_release);
    work_.reset();
    asio::post(io_, [] {});  // wakes a shard blocked in the event loop
}

void shard::join() {
    if (!thread_.joinable()) return;
    thread_.join();
    drop_inbox();
}

shard::~shard() {
    drop_inbox();
}

bool shard::is_this_thread() const noexcept {
    return current_shard == this;
}

std::chrono::steady_clock::time_point shard::run(
    control* c, std::coroutine_handle<> h, std::chrono::steady_clock::time_point start) noexcept {
    const std::type_info* fn = &c->function();  // c may be gone once its body ends
    control* outer = std::exchange(current_control, c);
    if (!h) h = c->start();  // its first turn
    dispatch_.resuming();
    while (h) {
        h.resume();
        if (!c->body_done()) break;
        h = c->end_body();
    }
    current_control = outer;
    auto end = stall_clock();
    resumes.add();
    if (end - start > stall_threshold_) {
        stalls.add();
        log().warn("shard {}: coroutine {} held the shard for {} us without suspending", index_,
                   type_name(*fn),
                   std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
    }
    return end;
}

void shard::count_up(bool all, bool live) noexcept {
    if (all && local_all_++ == 0) core_.all_up();
    if (live && local_live_++ == 0) core_.live_up();
}

void shard::count_down(bool all, bool live) noexcept {
    if (live && --local_live_ == 0) core_.live_down();
    if (all && --local_all_ == 0) core_.all_down();
}

void shard::resume(control* c, std::coroutine_handle<> h) noexcept {
    // One handler of a poll resumes one coroutine and returns to the event
    // loop: the budget bounds what that coroutine does inline, not what all
    // the handlers of the poll did before it (each would yield at once).
    dispatch_.new_turn();
    run(c, h, stall_clock());
}

std::chrono::steady_clock::time_point shard::stall_clock() const noexcept {
    if (!coarse_stall_clock_) return std::chrono::steady_clock::now();
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // steady_clock's epoch, a tick behind at most
    return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                                 std::chrono::nanoseconds(ts.tv_nsec));
}

std::chrono::steady_clock::time_point shard::drain() {
    // At most a budget of resumptions per turn, then the event loop gets its
    // turn, so coroutines that keep each other busy cannot starve I/O. One
    // read of the stall clock per resumption: each one's end is the next
    // one's start. The loop gets a precise reading: it times its polls and
    // its spin with it, and a coarse one lags by up to a tick.
    dispatch_.new_turn();
    if (ready_.empty()) return std::chrono::steady_clock::now();
    auto t = stall_clock();
    for (int n = 0; n < 1024 && !ready_.empty() && !dispatch_.turn_over(); ++n) {
        ready_item item = ready_.pop();
        t = run(item.c, item.h, t);
    }
    return coarse_stall_clock_ ? std::chrono::steady_clock::now() : t;
}

void shard::post_item(remote_item* item) noexcept {
    remote_item* head = inbox_.load(std::memory_order_relaxed);
    do {
        item->next_ = head;
    } while (!inbox_.compare_exchange_weak(head, item, std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
    // Pairs with the store of sleeping_ and the load of inbox_ in
    // sleep_until_work: one of the two sides sees the other.
    if (sleeping_.load(std::memory_order_seq_cst) &&
        sleeping_.exchange(false, std::memory_order_seq_cst))
        asio::post(io_, [] {});
}

bool shard::run_inbox() noexcept {
    remote_item* list = inbox_.exchange(nullptr, std::memory_order_acquire);
    if (!list) return false;
    remote_item* fifo = nullptr;  // the stack is newest first: reverse it
    while (list) {
        remote_item* next = list->next_;
        list->next_ = fifo;
        fifo = list;
        list = next;
    }
    while (fifo) {
        remote_item* next = fifo->next_;
        fifo->run();
        delete fifo;
        fifo = next;
    }
    return true;
}

void shard::fire_timers() {
    if (timers_.empty()) return;
    auto now = std::chrono::steady_clock::now();
    while (timer_entry* e = timers_.pop_due(now)) e->fire(*e);
}

void shard::arm_alarm() {
    if (timers_.empty()) return;
    auto next = timers_.next();
    if (alarm_armed_ && alarm_.expiry() <= next) return;
    alarm_.expires_at(next);  // a wait already armed ends as aborted
    alarm_armed_ = true;
    alarm_.async_wait([this](const std::error_code& ec) {
        if (!ec) alarm_armed_ = false;  // the loop fires the due timers
    });
}

void shard::sleep_until_work(std::chrono::steady_clock::time_point now) {
    // Spin a little first: work from another shard usually follows soon, and
    // waking a thread blocked in epoll costs its sender a system call and
    // this shard far more than the spin. The spin adapts: it grows to max_spin
    // when work came during it, or came after the shard blocked but soon
    // enough that a full spin would have caught it, and halves (down to
    // min_spin) otherwise, so a shard that nobody posts to, or whose senders are not
    // even running on a loaded machine, soon stops burning the core it shares.
    auto start = now;
    for (auto until = start + spin_; now < until; now = std::chrono::steady_clock::now()) {
        for (int i = 0; i < 64; ++i) {
            if (inbox_.load(std::memory_order_relaxed)) {
                spin_ = std::min(spin_ * 2, max_spin);
                return;
            }
            __builtin_ia32_pause();
        }
        if (now - start > yield_after) sched_yield();
    }
    arm_alarm();
    sleeping_.store(true, std::memory_order_seq_cst);
    if (!inbox_.load(std::memory_order_seq_cst) && !stop_.load(std::memory_order_acquire))
        io_.run_one();
    sleeping_.store(false, std::memory_order_relaxed);
    polled_ = {};  // run_one ran one handler: run the others that are ready
    poll_period_ = min_poll_period;
    bool soon = std::chrono::steady_clock::now() - start < max_spin;
    if (soon && inbox_.load(std::memory_order_relaxed))
        spin_ = max_spin;
    else
        spin_ = std::max(spin_ / 2, min_spin);
}

void shard::loop() {
    current_shard = this;
    for (;;) {
        run_inbox();
        fire_timers();
        auto now = drain();
        if (now - polled_ >= poll_period_) {
            poll_period_ =
                io_.poll() > 0 ? min_poll_period : std::min(poll_period_ * 2, max_poll_period);
            polled_ = now = std::chrono::steady_clock::now();
        }
        if (!ready_.empty() || inbox_.load(std::memory_order_relaxed)) continue;
        if (!timers_.empty() && timers_.next() <= now) continue;
        if (stop_.load(std::memory_order_acquire)) {
            // Run what is left (cancelled timers, posted wake-ups) and end.
            while (run_inbox() || io_.poll() > 0 || !ready_.empty()) drain();
            break;
        }
        sleep_until_work(now);
    }
    current_shard = nullptr;
    drop_inbox();
}

// Work posted after the end is dropped unrun (its captures released): by the
// loop as it ends, and again after the thread was joined and when the shard
// is destroyed, for what came later (the watchdog, the blocking pool).
void shard::drop_inbox() noexcept {
    while (remote_item* list = inbox_.exchange(nullptr, std::memory_order_acquire)) {
        while (list) {
            remote_item* next = list->next_;
            delete list;
            list = next;
        }
    }
}

// ---------------------------------------------------------------- blocking_pool

unsigned blocking_pool::startable() const noexcept {
    return waiting_.size + std::min(computing_.size, cpu_slots_ - cpu_running_);
}

blocking_call* blocking_pool::take() noexcept {
    blocking_call* w = waiting_.calls.front();
    blocking_call* c = cpu_running_ < cpu_slots_ ? computing_.calls.front() : nullptr;
    blocking_call* job = w && (!c || w->seq_ < c->seq_) ? w : c;
    if (!job) return nullptr;
    (job->cpu_bound_ ? computing_ : waiting_).erase(job);
    job->queued_ = false;
    if (job->cpu_bound_) ++cpu_running_;
    return job;
}

void blocking_pool::submit(blocking_call* job) {
    std::lock_guard guard(mutex_);
    if (stopping_) throw std::system_error(make_error_code(errc::runtime_stopped));
    job->queued_ = true;
    job->seq_ = next_seq_++;
    (job->cpu_bound_ ? computing_ : waiting_).push(job);
    // An idle thread takes one job when it wakes; jobs beyond the idle threads
    // (woken or not yet) need threads of their own, up to the bound.
    if (idle_ > 0) cv_.notify_one();
    if (startable() > idle_ && threads_.size() < max_threads_ && !grow() && threads_.empty()) {
        // No thread can ever run it: take it back, and the caller gets the error.
        job->queued_ = false;
        (job->cpu_bound_ ? computing_ : waiting_).erase(job);
        throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                                "coronet: the blocking pool could not start a thread");
    }
}

bool blocking_pool::grow() noexcept {
    try {
        threads_.emplace_back([this] { worker(); });
        name_thread(threads_.back(), "coronet-pool");
        return true;
    } catch (...) {
        return false;  // the threads there are take the job in turn
    }
}

bool blocking_pool::withdraw(blocking_call* job) noexcept {
    std::lock_guard guard(mutex_);
    if (!job->queued_) return false;
    job->queued_ = false;
    (job->cpu_bound_ ? computing_ : waiting_).erase(job);
    return true;
}

void blocking_pool::worker() {
    std::unique_lock lock(mutex_);
    bool freed_slot = false;  // the last job was CPU-bound and has ended
    for (;;) {
        blocking_call* job;
        while (!(job = take()) && !stopping_) {
            ++idle_;
            cv_.wait(lock);
            --idle_;
        }
        // A CPU-bound job that the freed slot lets start, and that this
        // thread did not take, needs a thread (once stopping, stop() has
        // taken the threads to join: this one takes the job after its own).
        if (freed_slot && computing_.size > 0 && cpu_running_ < cpu_slots_) {
            if (idle_ > 0)
                cv_.notify_one();
            else if (!stopping_ && threads_.size() < max_threads_)
                grow();
        }
        freed_slot = false;
        if (!job) return;
        bool cpu_bound = job->cpu_bound_;
        lock.unlock();
        jobs_.fetch_add(1, std::memory_order_relaxed);
        job->run();  // the job may be gone once this returns
        lock.lock();
        if (cpu_bound) --cpu_running_;
        freed_slot = cpu_bound;
    }
}

void blocking_pool::stop() noexcept {
    std::vector<std::thread> threads;
    {
        std::lock_guard guard(mutex_);
        stopping_ = true;
        threads.swap(threads_);
    }
    cv_.notify_all();
    for (auto& t : threads) t.join();
}

// ---------------------------------------------------------------- runtime_core

namespace {

unsigned cores() noexcept {
    return std::max(1u, std::thread::hardware_concurrency());
}

unsigned shards_of(const runtime_options& options) noexcept {
    return options.shards ? options.shards : cores();
}

/// CPU-bound blocking calls at once: by default the cores no shard runs on.
unsigned cpu_slots_of(const runtime_options& options) noexcept {
    if (options.cpu_bound_threads) return options.cpu_bound_threads;
    unsigned shards = shards_of(options);
    return cores() > shards ? cores() - shards : 1;
}

}  // namespace

runtime_core::runtime_core(const runtime_options& options)
    : options_(options), pool_(options.blocking_threads, cpu_slots_of(options)) {
    unsigned n = shards_of(options);
    shards_.reserve(n);
    for (unsigned i = 0; i < n; ++i) shards_.push_back(std::make_unique<shard>(*this, i));
    for (auto& s : shards_) s->start(options.pin_threads);
}

runtime_core::~runtime_core() {
    stop();
}

unsigned runtime_core::next_shard() noexcept {
    return next_.fetch_add(1, std::memory_order_relaxed) % size();
}

void runtime_core::launch(unsigned index, control* c) {
    if (index >= size()) {
        c->discard();
        throw std::system_error(make_error_code(errc::invalid_shard));
    }
    if (stopping_.load(std::memory_order_acquire)) {
        c->discard();
        throw std::system_error(make_error_code(errc::runtime_stopped));
    }
    shard& s = *shards_[index];
    c->shard_ = index;
    c->home_ = &s;
    try {
        s.slots().acquire(c);
    } catch (...) {
        c->discard();
        throw;
    }
    // A null handle: the coroutine's first turn (shard::run starts it).
    // Nothing else sees c yet: its flags need no atomic operation.
    std::uint32_t flags = c->flags_.load(std::memory_order_relaxed);
    if (s.is_this_thread()) {
        c->flags_.store(flags | control::all_local | control::live_local,
                        std::memory_order_relaxed);
        s.count_up(true, true);
        s.spawned.add();
        s.push_ready(c, nullptr);
    } else {
        c->flags_.store(flags | control::live_global, std::memory_order_relaxed);
        all_up();
        live_up();
        s.post([&s, c] {
            s.spawned.add();
            s.resume(c, nullptr);
        });
    }
}

void runtime_core::live_down() noexcept {
    if (live_.fetch_sub(1, std::memory_order_acq_rel) == 1) live_.notify_all();
}

void runtime_core::all_down() noexcept {
    if (all_live_.fetch_sub(1, std::memory_order_acq_rel) == 1) all_live_.notify_all();
}

void runtime_core::on_complete(std::uint32_t flags, bool unhandled) noexcept {
    if (unhandled) unhandled_.fetch_add(1, std::memory_order_relaxed);
    assert(current_shard);
    current_shard->count_down(flags & control::all_local, flags & control::live_local);
    if (!(flags & control::all_local)) all_down();
    if (flags & control::live_global) live_down();
}

int runtime_core::run() {
    assert(!current_shard && "runtime::run called from a shard");
    for (std::uint64_t n; (n = live_.load(std::memory_order_acquire)) != 0;)
        live_.wait(n, std::memory_order_acquire);
    return unhandled_.load(std::memory_order_relaxed) ? 1 : 0;
}

void runtime_core::stop() noexcept {
    std::lock_guard guard(stop_mutex_);
    if (stopped_) return;
    assert(!current_shard && "runtime::stop called from a shard");
    stopping_.store(true, std::memory_order_release);

    // Terminate everything, in rounds: unwinding code may spawn more.
    auto deadline = std::chrono::steady_clock::now() + options_.stop_timeout;
    while (all_live_.load(std::memory_order_acquire) != 0 &&
           std::chrono::steady_clock::now() < deadline) {
        for (auto& sp : shards_) {
            shard* s = sp.get();
            s->post([s] {
                for (control* c : s->slots().live()) c->request_terminate();
            });
        }
        for (int i = 0; i < 100 && all_live_.load(std::memory_order_acquire) != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::uint64_t left = all_live_.load(std::memory_order_acquire);
    if (left != 0)
        log().error("runtime stop: {} coroutines did not end within the stop timeout", left);

    // The watchdog first: it posts to the shards.
    stop_watchdog();
    for (auto& s : shards_) s->request_stop();
    for (auto& s : shards_) s->join();
    pool_.stop();
    stopped_ = true;
}

void runtime_core::start_watchdog() {
    std::call_once(watchdog_once_, [this] {
        watchdog_ = std::thread([this] { watch_inline_calls(); });
        name_thread(watchdog_, "coronet-watch");
    });
}

void runtime_core::stop_watchdog() noexcept {
    {
        std::lock_guard guard(watchdog_mutex_);
        watchdog_stop_ = true;
    }
    watchdog_cv_.notify_one();
    if (watchdog_.joinable()) watchdog_.join();
}

// An inline blocking call that runs past the stall limit is reported while it
// still runs, and every other shard offloads its key at once: their calls of
// it would stall them too. Its own shard offloads the key when it returns.
void runtime_core::watch_inline_calls() {
    const auto limit = options_.io_policy.inline_stall;
    const auto period = std::max<std::chrono::nanoseconds>(limit / 2, std::chrono::milliseconds(1));
    std::unique_lock lock(watchdog_mutex_);
    while (!watchdog_cv_.wait_for(lock, period, [this] { return watchdog_stop_; })) {
        auto cutoff = std::chrono::steady_clock::now() - limit;
        for (auto& sp : shards_) {
            auto stalled = sp->dispatch().watch().stalled_since(cutoff);
            if (!stalled) continue;
            log().warn(
                "shard {}: a {} call of \"{}\" has held the shard for {} us and still runs; "
                "its calls are offloaded from now on",
                sp->index(), to_string(stalled->op), stalled->target,
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - stalled->start)
                    .count());
            for (auto& other : shards_) {
                if (other == sp) continue;
                other->post([op = stalled->op, target = stalled->target] {
                    this_dispatcher().force_offload(op, target);
                });
            }
        }
    }
}

io_counters runtime_core::io_stats(io_op op, int shard) const noexcept {
    io_counters sum;
    for (const auto& s : shards_)
        if (shard < 0 || s->index() == static_cast<unsigned>(shard))
            sum += s->dispatch().counters(op).snapshot();
    return sum;
}

runtime_stats runtime_core::stats() const noexcept {
    runtime_stats st;
    for (auto& s : shards_) {
        st.spawned += s->spawned.get();
        st.completed += s->completed.get();
        st.resumes += s->resumes.get();
        st.stalls += s->stalls.get();
    }
    st.unhandled_exceptions = unhandled_.load(std::memory_order_relaxed);
    st.blocking_jobs = pool_.jobs();
    return st;
}

// ---------------------------------------------------------------- free functions

runtime_core* make_core(const runtime_options& options) {
    return new runtime_core(options);
}
void destroy_core(runtime_core* core) noexcept {
    delete core;
}
unsigned shard_count(const runtime_core& core) noexcept {
    return core.size();
}
unsigned next_shard(runtime_core& core) noexcept {
    return core.next_shard();
}
void launch(runtime_core& core, unsigned shard, control* c) {
    core.launch(shard, c);
}
int run(runtime_core& core) {
    return core.run();
}
void stop(runtime_core& core) noexcept {
    core.stop();
}
runtime_stats stats(const runtime_core& core) noexcept {
    return core.stats();
}
io_counters io_stats(const runtime_core& core, io_op op, int shard) noexcept {
    return core.io_stats(op, shard);
}

void add_timer(timer_entry& e) {
    if (!current_shard) throw std::system_error(make_error_code(errc::not_in_coroutine));
    current_shard->add_timer(e);
}

void remove_timer(timer_entry& e) noexcept {
    assert(current_shard || e.slot == timer_entry::not_queued);
    if (current_shard) current_shard->remove_timer(e);
}

asio::io_context& this_io() {
    if (!current_shard) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return current_shard->io();
}

runtime_core* this_runtime() noexcept {
    return current_shard ? &current_shard->core() : nullptr;
}

int this_shard_index() noexcept {
    return current_shard ? static_cast<int>(current_shard->index()) : -1;
}

void push_ready(control* c, std::coroutine_handle<> h) noexcept {
    assert(current_shard && current_shard->index() == c->shard());
    current_shard->push_ready(c, h);
}

void throw_not_in_coroutine() {
    throw std::system_error(make_error_code(errc::not_in_coroutine));
}

void schedule(control* c, std::coroutine_handle<> h) noexcept {
    shard* home = c->home_;
    if (current_shard == home) {
        home->push_ready(c, h);
        return;
    }
    home->post([home, c, h] { home->resume(c, h); });
}

void submit_blocking(blocking_call* call) {
    if (!current_shard) throw std::system_error(make_error_code(errc::not_in_coroutine));
    current_shard->core().pool().submit(call);
}

bool withdraw_blocking(blocking_call* call) noexcept {
    return current_shard && current_shard->core().pool().withdraw(call);
}

std::string demangle(const std::type_info& t) {
    return type_name(t);
}

runtime_core& core_of(const control& c) noexcept {
    return c.home_->core();
}

asio::io_context& shard_io(runtime_core& core, unsigned index) {
    return core.at(index).io();
}

bool on_shard(const runtime_core& core, unsigned shard) noexcept {
    return current_shard && &current_shard->core() == &core && current_shard->index() == shard;
}

control* find_local(runtime_core& core, unsigned shard, std::uint32_t index,
                    std::uint32_t generation) noexcept {
    assert(current_shard == &core.at(shard));
    return core.at(shard).slots().find(index, generation);
}

control* find_live(runtime_core& core, unsigned shard, std::uint32_t index,
                   std::uint32_t generation) noexcept {
    if (shard >= core.size()) return nullptr;
    return core.at(shard).slots().find_and_ref(index, generation);
}

std::int64_t peek_live(runtime_core& core, unsigned shard, std::uint32_t index,
                       std::uint32_t generation) noexcept {
    if (shard >= core.size()) return -1;
    return core.at(shard).slots().peek(index, generation);
}

void set_slot_marks(control& c, std::uint32_t marks) noexcept {
    assert(current_shard == c.home_);
    c.home_->slots().set_marks(c.index(), marks);
}

bool visit_live(runtime_core& core, unsigned shard, std::uint32_t index, std::uint32_t generation,
                void (*fn)(control& c, void* ctx), void* ctx) {
    if (shard >= core.size()) return false;
    return core.at(shard).slots().visit(index, generation, fn, ctx);
}

service& use_service(runtime_core& core, const std::type_info& key,
                     std::unique_ptr<service> (*make)(runtime_core&)) {
    std::lock_guard guard(core.services_mutex_);
    for (auto& [k, s] : core.services_)
        if (*k == key) return *s;
    core.services_.emplace_back(&key, make(core));
    return *core.services_.back().second;
}

void post_item(runtime_core& core, unsigned shard, remote_item* item) noexcept {
    core.at(shard).post_item(item);
}

void resume_now(control* c, std::coroutine_handle<> h) noexcept {
    assert(current_shard && current_shard->index() == c->shard());
    current_shard->resume(c, h);
}

}  // namespace coronet::detail

namespace coronet {

unsigned this_shard() {
    int i = detail::this_shard_index();
    if (i < 0) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return static_cast<unsigned>(i);
}

unsigned shard_count() {
    detail::runtime_core* core = detail::this_runtime();
    if (!core) throw std::system_error(make_error_code(errc::not_in_coroutine));
    return core->size();
}

}  // namespace coronet
