#!/usr/bin/env bash
# coronet's one entry point for developers and CI.
#
#   ./dev.sh demo     build and run examples/tasks (10,000 sleeping coroutines)
#   ./dev.sh test     build and test: normal build, ASan+UBSan build, TSan build,
#                     benchmark smoke run; exits non-zero on any failure
#   ./dev.sh deps     only install the Debian packages the project needs
#   ./dev.sh clang    build with clang++-14 and -Werror (a portability check)
#   ./dev.sh format   check that the C++ sources follow .clang-format
#
# Every command installs missing Debian packages first (apt-get, with sudo when
# not root). Build directories: $CORONET_BUILD_DIR (default "build") for the
# normal build, and the same name with -asan, -tsan and -clang appended.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(pwd)

# The Debian 12 packages the project builds, tests and benchmarks with.
PACKAGES=(
    build-essential cmake ninja-build ccache g++ clang-14 clang-format
    libasio-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev
    libcaf-dev libprotobuf-dev protobuf-compiler
    unixodbc-dev libsqliteodbc postgresql odbc-postgresql libssl-dev
    golang-go python3-uvloop
)

BUILD=${CORONET_BUILD_DIR:-build}
JOBS=${CORONET_JOBS:-2}

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# ------------------------------------------------------------------ packages

install_deps() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    log "installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# ------------------------------------------------------------------ building

# configure <dir> [cmake args...]: configures <dir> (Ninja for a new one).
configure() {
    local dir=$1
    shift
    local args=(-S "$ROOT" -B "$dir")
    [ -f "$dir/CMakeCache.txt" ] || args+=(-G Ninja)
    if command -v ccache >/dev/null; then
        args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
        # Let clones in other directories share the cache.
        export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
        export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
    fi
    cmake "${args[@]}" "$@"
}

build() {
    local dir=$1
    shift
    cmake --build "$dir" -j "$JOBS" "$@"
}

# ------------------------------------------------------------------ test steps

STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
TESTS_PASSED=0
TESTS_FAILED=0
FAILED=0
STEP_NOTE=

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# step <name> <command...>: runs a command, records its result and duration.
step() {
    local name=$1
    shift
    log "$name"
    local t0=$SECONDS rc=0
    STEP_NOTE=
    "$@" || rc=$?
    STEP_NAMES+=("$name${STEP_NOTE:+ $STEP_NOTE}")
    STEP_TIMES+=($((SECONDS - t0)))
    if [ $rc -eq 0 ]; then
        STEP_RESULTS+=(PASS)
    else
        STEP_RESULTS+=("FAIL")
        FAILED=1
    fi
    return 0
}

# skip <name> <why>: records a step that could not run.
skip() {
    STEP_NAMES+=("$1")
    STEP_TIMES+=(0)
    STEP_RESULTS+=("SKIP ($2)")
}

# run_ctest [--no-aslr] <dir> [ctest args...]: runs ctest, adds its counts to
# the totals. --no-aslr runs it with address space randomisation off, which
# ThreadSanitizer needs on kernels with high mmap entropy.
run_ctest() {
    local wrap=()
    if [ "$1" = --no-aslr ]; then
        shift
        setarch "$(uname -m)" -R true 2>/dev/null && wrap=(setarch "$(uname -m)" -R)
    fi
    local dir=$1
    shift
    local out rc=0
    out=$(mktemp)
    "${wrap[@]}" ctest --test-dir "$dir" -j "$JOBS" --output-on-failure "$@" 2>&1 |
        tee "$out" || rc=$?
    # ctest closes with "97% tests passed, 1 tests failed out of 40".
    local line failed total
    line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$out" | tail -n 1 || true)
    if [ -n "$line" ]; then
        failed=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
        total=$(sed -E 's/.* tests failed out of ([0-9]+).*/\1/' <<<"$line")
        TESTS_FAILED=$((TESTS_FAILED + failed))
        TESTS_PASSED=$((TESTS_PASSED + total - failed))
        STEP_NOTE="($total tests)"
    else
        STEP_NOTE="(no tests)"
    fi
    rm -f "$out"
    return $rc
}

print_summary() {
    local i result detail
    log "summary"
    for i in "${!STEP_NAMES[@]}"; do
        result=${STEP_RESULTS[$i]}
        case $result in
        PASS | FAIL) detail=$(fmt_time "${STEP_TIMES[$i]}") ;;
        *) detail=${result#SKIP } result=SKIP ;;
        esac
        printf '  %-5s %-42s %s\n' "$result" "${STEP_NAMES[$i]}" "$detail"
    done
    printf '  total %s\n\n' "$(fmt_time "$SECONDS")"
    echo "tests: $TESTS_PASSED passed, $TESTS_FAILED failed"
}

# -g1 (line tables and function names: enough for stack traces and sanitizer
# reports) instead of -g halves the compile time of a test file. The ASan build
# uses -O1, which halves it again; it gets no tail calls from -O2 anyway (the
# instrumentation prevents them), while the ThreadSanitizer build keeps -O2 for
# the tail calls of symmetric transfer.
build_normal() {
    configure "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
        -DCORONET_SANITIZE= -DCORONET_WERROR=ON && build "$BUILD"
}

build_asan() {
    configure "$BUILD-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
        "-DCORONET_SANITIZE=address;undefined" -DCORONET_BUILD_BENCH=OFF && build "$BUILD-asan"
}

build_tsan() {
    configure "$BUILD-tsan" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" \
        -DCORONET_SANITIZE=thread -DCORONET_BUILD_BENCH=OFF -DCORONET_BUILD_EXAMPLES=OFF && build "$BUILD-tsan"
}

last_passed() { [ "${STEP_RESULTS[-1]}" = PASS ]; }

cmd_test() {
    install_deps
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/tests/tsan.supp}

    # (a) the normal build and its suite, but for the benchmarks (d).
    step "build RelWithDebInfo ($BUILD)" build_normal
    local normal_built=${STEP_RESULTS[-1]}
    if [ "$normal_built" = PASS ]; then
        step "ctest RelWithDebInfo" run_ctest "$BUILD" -LE bench --no-tests=error
    else
        skip "ctest RelWithDebInfo" "build failed"
    fi

    # (b) the same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
    step "build address;undefined ($BUILD-asan)" build_asan
    if last_passed; then
        step "ctest address;undefined" run_ctest "$BUILD-asan" --no-tests=error
    else
        skip "ctest address;undefined" "build failed"
    fi

    # (c) the suites labelled "concurrency" under ThreadSanitizer.
    step "build thread ($BUILD-tsan)" build_tsan
    if last_passed; then
        step "ctest -L concurrency, thread" run_ctest --no-aslr "$BUILD-tsan" -L concurrency --no-tests=error
    else
        skip "ctest -L concurrency, thread" "build failed"
    fi

    # (d) the benchmarks in their short smoke mode: the tests labelled "bench"
    # of the normal build, or else coronet-bench --quick itself.
    if [ "$normal_built" != PASS ]; then
        skip "bench smoke" "build failed"
    elif ctest --test-dir "$BUILD" -N -L bench | grep -q 'Total Tests: [1-9]'; then
        step "bench smoke (ctest -L bench)" run_ctest "$BUILD" -L bench
    elif [ -x "$BUILD/bench/coronet-bench" ]; then
        step "bench smoke (coronet-bench --quick)" "$BUILD/bench/coronet-bench" --quick
    else
        skip "bench smoke" "no benchmarks"
    fi

    print_summary
    return $FAILED
}

cmd_demo() {
    install_deps
    configure "$BUILD"
    build "$BUILD" --target example_tasks
    log "examples/tasks"
    "$BUILD/examples/tasks" "$@"
}

cmd_clang() {
    install_deps
    local dir=$BUILD-clang
    CXX=clang++-14 configure "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCORONET_WERROR=ON
    build "$dir"
}

cmd_format() {
    install_deps
    git ls-files '*.hpp' '*.cpp' | xargs clang-format --dry-run --Werror
}

usage() {
    sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

case "${1:-}" in
demo) shift && cmd_demo "$@" ;;
test) shift && cmd_test "$@" ;;
deps) install_deps ;;
clang) cmd_clang ;;
format) cmd_format ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 2
    ;;
esac
