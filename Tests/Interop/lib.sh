# Helpers for the interop tests; sourced by each test. Every test starts its own
# `trunkgate serve` on loopback (127.0.0.1 and ::1, UDP and TCP, one free port) and stops only
# that process.

set -euo pipefail

INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INTEROP_DIR/../.." && pwd)
SHARED_DIR=${TRUNKGATE_SHARED:-$(cd "$REPO_DIR/.." && pwd)/shared}
TRUNKGATE_BIN=${TRUNKGATE_BIN:-$REPO_DIR/.build/debug/trunkgate}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trunkgate-interop.XXXXXX")
SERVER_PID=
SERVER_LOG=$WORK/server.log
PORT=

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$SERVER_LOG" ]; then
        echo "--- server log (last 20 lines)" >&2
        tail -n 20 "$SERVER_LOG" >&2
    fi
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

# A port free for UDP and TCP on both 127.0.0.1 and ::1.
free_port() {
    python3 - <<'EOF'
import socket, sys
for _ in range(50):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    try:
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(family, kind)
                try:
                    s.bind((host, port))
                finally:
                    s.close()
    except OSError:
        continue
    print(port)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

# Starts `trunkgate serve` in the background and waits (at most 30 s) for its listening line.
start_server() {
    [ -x "$TRUNKGATE_BIN" ] || fail "no trunkgate binary at $TRUNKGATE_BIN (build first)"
    PORT=$(free_port)
    "$TRUNKGATE_BIN" serve \
        --sip "udp:127.0.0.1:$PORT" --sip "tcp:127.0.0.1:$PORT" \
        --sip "udp:[::1]:$PORT" --sip "tcp:[::1]:$PORT" \
        --data "$WORK/data" --log-level debug "$@" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if grep -q "SIP listening on" "$SERVER_LOG"; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || fail "trunkgate serve exited during start-up"
        sleep 0.1
    done
    fail "trunkgate serve did not report listening within 30 s"
}

# SIGTERM, then the server must exit by itself within 10 s, with status 0.
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true  # it may already be stopping
    local status=
    for _ in $(seq 1 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            wait "$SERVER_PID" && status=0 || status=$?
            break
        fi
        sleep 0.1
    done
    [ -n "$status" ] || fail "trunkgate serve still running 10 s after SIGTERM"
    SERVER_PID=
    [ "$status" -eq 0 ] || fail "trunkgate serve exited with status $status after SIGTERM"
    grep -q "SIP stopped" "$SERVER_LOG" || fail "no 'SIP stopped' in the server log after SIGTERM"
}
