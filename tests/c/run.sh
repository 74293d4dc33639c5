#!/usr/bin/env bash
# Runs C programs against an embedded chinwag-server.
#
#   tests/c/run.sh MODE PROGRAM...
#
# MODE is `plain`, `valgrind` (memcheck: any error or definite leak fails) or `asan` (the
# programs were built with -fsanitize=address; LeakSanitizer is on). The server is
# server/examples/serve_for_tests (built by the Makefile): it prints `URL AUTH_KEY` and serves
# until its stdin closes. Each program gets URL and AUTH_KEY as arguments and in CHINWAG_URL /
# CHINWAG_AUTH_KEY. The server is stopped at the end (stdin closed, then by PID if needed).
#
# CHINWAG_TEST_CALL_TIMEOUT_MS (default 5000 here; the server's own default is 45 s) is the
# server's unanswered-call timeout, so that the programs can show an unanswered call quickly;
# the programs see the same variable.
set -euo pipefail

mode=${1:?usage: run.sh plain|valgrind|asan PROGRAM...}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
server_bin=${CHINWAG_TEST_SERVER:-$root/target/debug/examples/serve_for_tests}
[ -x "$server_bin" ] || { echo "run.sh: $server_bin is missing (cargo build -p chinwag-server --example serve_for_tests)"; exit 1; }

export CHINWAG_TEST_CALL_TIMEOUT_MS=${CHINWAG_TEST_CALL_TIMEOUT_MS:-5000}

log=$(mktemp)
coproc SERVER { exec "$server_bin" 2>"$log"; }
server_pid=$SERVER_PID
server_in=${SERVER[1]}

stop_server() {
    # Closing its stdin ends it; a PID kill is the fallback.
    eval "exec ${server_in}>&-" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_server EXIT

if ! read -r -t 60 url key <&"${SERVER[0]}"; then
    echo "run.sh: the test server did not start:"
    cat "$log"
    exit 1
fi
export CHINWAG_URL=$url CHINWAG_AUTH_KEY=$key
echo "run.sh: server at $url ($mode; unanswered calls end after ${CHINWAG_TEST_CALL_TIMEOUT_MS} ms)"

case $mode in
    plain) wrap=() ;;
    valgrind)
        # Rust's process-wide state (the tokio runtime, lazily built statics) stays reachable at
        # exit: only definite leaks and real memory errors fail.
        # include/chinwag.supp is the suppressions file installed with the library (each entry
        # says why it is safe); the debug library needs none of it.
        wrap=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite
              --errors-for-leak-kinds=definite --num-callers=30 --fair-sched=try
              "--suppressions=$root/include/chinwag.supp") ;;
    asan)
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=98}
        wrap=() ;;
    *) echo "run.sh: unknown mode $mode"; exit 2 ;;
esac

passed=0
failed=0
failures=()
for program in "$@"; do
    name=$(basename "$program")
    start=$(date +%s)
    if timeout -k 10 600 "${wrap[@]}" "$program" "$url" "$key"; then
        passed=$((passed + 1))
        echo "run.sh: $name passed ($mode, $(( $(date +%s) - start )) s)"
    else
        rc=$?
        failed=$((failed + 1))
        failures+=("$name (exit $rc)")
        echo "run.sh: $name FAILED ($mode, exit $rc)"
    fi
done

echo "c-tests-$mode: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    printf 'run.sh: failed: %s\n' "${failures[@]}"
    exit 1
fi
