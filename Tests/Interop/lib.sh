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
SERVER_LOG_OFFSET=1
PORT=
API_PORT=
API_KEY=
API_TOKEN=
ACCOUNT_SID=
# The server's data directory and, when set, its --database URL (e.g. from start_postgres).
DATA_DIR=$WORK/data
DATABASE_URL=
# More `trunkgate serve` processes of this test (e.g. a second node), killed at the end.
EXTRA_PIDS=()
# The PostgreSQL of start_postgres: its directory and pg_ctl command prefix.
PG_DIR=
PG_CTL=()

cleanup() {
    local pid
    for pid in "$SERVER_PID" "${EXTRA_PIDS[@]}"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    stop_postgres
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

# free_port [SPAN]: a port P such that P … P+SPAN-1 are all free for UDP and TCP on 127.0.0.1
# and ::1 (SPAN default 1; baresip, for one, also listens for TLS on its SIP port + 1).
free_port() {
    python3 - "${1:-1}" <<'EOF'
import socket, sys
span = int(sys.argv[1])
for _ in range(200):
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    if port + span > 65535:
        continue
    try:
        for p in range(port, port + span):
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    s = socket.socket(family, kind)
                    try:
                        s.bind((host, p))
                    finally:
                        s.close()
    except OSError:
        continue
    print(port)
    sys.exit(0)
sys.exit("no free port found")
EOF
}

# make_certificate NAME SAN: a self-signed server certificate for the TLS listener, CN=NAME and
# subjectAltName SAN (e.g. "DNS:pbx.interop.test,IP:127.0.0.1"), in $WORK/cert.pem and
# $WORK/key.pem; clients that verify use cert.pem as their CA.
make_certificate() {
    command -v openssl >/dev/null || fail "openssl not installed"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -addext "subjectAltName=$2" \
        -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
}

# This server run's part of the (appended) server log.
server_log() { tail -c "+$SERVER_LOG_OFFSET" "$SERVER_LOG" 2>/dev/null || true; }

# Starts `trunkgate serve` in the background and waits (at most 30 s) for its listening line.
start_server() {
    [ -x "$TRUNKGATE_BIN" ] || fail "no trunkgate binary at $TRUNKGATE_BIN (build first)"
    [ -n "$PORT" ] || PORT=$(free_port)
    [ -n "$API_PORT" ] || API_PORT=$(free_port)
    # The log is appended to (a test may restart the server): look only at this run's part.
    SERVER_LOG_OFFSET=$(($(stat -c %s "$SERVER_LOG" 2>/dev/null || echo 0) + 1))
    "$TRUNKGATE_BIN" serve \
        --sip "udp:127.0.0.1:$PORT" --sip "tcp:127.0.0.1:$PORT" \
        --sip "udp:[::1]:$PORT" --sip "tcp:[::1]:$PORT" \
        --api "127.0.0.1:$API_PORT" \
        --data "$DATA_DIR" ${DATABASE_URL:+--database "$DATABASE_URL"} --log-level debug "$@" >>"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if grep -q "SIP listening on" <(server_log) && grep -q "API listening" <(server_log); then
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
    grep -q "SIP stopped" <(server_log) || fail "no 'SIP stopped' in the server log after SIGTERM"
}

# Creates an account and its first key with the admin CLI (same data directory as the server);
# sets ACCOUNT_SID, API_KEY and API_TOKEN.
create_account() {
    local out
    out=$("$TRUNKGATE_BIN" accounts create --name "${1:-interop}" --data "$DATA_DIR" ${DATABASE_URL:+--database "$DATABASE_URL"}) ||
        fail "accounts create failed: $out"
    ACCOUNT_SID=$(jq -r .account_sid <<<"$out")
    API_KEY=$(jq -r .key <<<"$out")
    API_TOKEN=$(jq -r .token <<<"$out")
    [ -n "$API_TOKEN" ] && [ "$API_TOKEN" != null ] || fail "accounts create printed no token: $out"
}

# api METHOD PATH [JSON]: calls the API as the account's key; prints the body; fails unless the
# status is 2xx. PATH is relative to /v1/accounts/$ACCOUNT_SID.
api() {
    local method=$1 path=$2 body=${3:-}
    local args=(-sS -o "$WORK/api.body" -w '%{http_code}' -X "$method" -u "$API_KEY:$API_TOKEN")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    local status
    status=$(curl "${args[@]}" "http://127.0.0.1:$API_PORT/v1/accounts/$ACCOUNT_SID$path") || fail "API $method $path: no answer"
    case $status in
        2??) cat "$WORK/api.body" ;;
        *) fail "API $method $path: HTTP $status $(cat "$WORK/api.body")" ;;
    esac
}

# Waits (at most 5 s) until the edge's configuration has caught up: the SIP side reads a
# snapshot that the store's change feed updates within a second.
settle() { sleep 1.5; }

# --- SIP-edge helpers (trunks, credentials, auth events, SIPp) ------------------------------

# The password every interop credential uses unless a test says otherwise (12+ chars, upper,
# lower, digit). WRONG_PASSWORD is as valid a password, just not the one stored.
PASSWORD=Interop-Secret-2024
WRONG_PASSWORD=Interop-Wrong-2024

# make_trunk NAME DOMAIN [EXTRA_JSON_FIELDS]: creates a trunk, prints its sid.
# e.g. make_trunk pbx pbx.interop.test '"auth_type":"ip_acl"'
make_trunk() {
    local extra=${3:-} out
    out=$(api POST /trunks "{\"trunk_name\":\"$1\",\"domain_name\":\"$2\"${extra:+,$extra}}") || return 1
    jq -r .sid <<<"$out"
}

# add_credential TRUNK_SID USER [PASSWORD]
add_credential() {
    api POST "/trunks/$1/credentials" "{\"user_name\":\"$2\",\"password\":\"${3:-$PASSWORD}\"}" >/dev/null
}

# whitelist TRUNK_SID IP MASK
whitelist() {
    api POST "/trunks/$1/whitelisted-ips" "{\"ip\":\"$2\",\"mask\":$3}" >/dev/null
}

# api_status METHOD PATH: prints only the HTTP status (never fails).
api_status() {
    curl -sS -o /dev/null -w '%{http_code}' -X "$1" -u "$API_KEY:$API_TOKEN" \
        "http://127.0.0.1:$API_PORT/v1/accounts/$ACCOUNT_SID$2" || echo 000
}

# auth_events QUERY: the account's auth events matching QUERY (e.g. "reason=wrong_password&user_name=bob"),
# newest first, as a JSON array.
auth_events() {
    local out
    out=$(api GET "/auth-events?page_size=1000${1:+&$1}") || return 1
    jq -c .auth_events <<<"$out"
}

# expect_event QUERY [MIN]: waits (at most 6 s: events are written behind, every 250 ms) until at
# least MIN (default 1) auth events match QUERY; fails otherwise. Prints the newest match.
expect_event() {
    local query=$1 min=${2:-1} events n=0
    for _ in $(seq 1 20); do
        events=$(auth_events "$query") || return 1
        n=$(jq length <<<"$events")
        if [ "$n" -ge "$min" ]; then
            jq -c '.[0]' <<<"$events"
            return 0
        fi
        sleep 0.3
    done
    echo "--- the newest auth events of the account:" >&2
    auth_events "" | jq -c '.[:10][] | {method, user_name, source_ip, transport, result, reason, algorithm}' >&2 || true
    fail "expected at least $min auth event(s) matching '$query', found $n"
}

# users_csv FILE USER;PASSWORD... : a SIPp injection file (SEQUENTIAL).
users_csv() {
    local file=$1
    shift
    printf 'SEQUENTIAL\n' >"$file"
    printf '%s\n' "$@" >>"$file"
}

# sipp_run NAME SCENARIO TRANSPORT LOCAL_IP REMOTE CALLS [SIPP ARGS...]
# Runs one bounded SIPp (scenario from Tests/Interop/sipp/, in $WORK) and succeeds only when
# every call succeeded (SIPp's exit status and its statistics file agree). Keeps the message
# trace in $WORK/NAME.msg. On failure prints SIPp's errors and message trace and returns 1.
sipp_run() {
    local name=$1 scenario=$2 transport=$3 local_ip=$4 remote=$5 calls=$6
    shift 6
    local status=0 local_port media_port
    local_port=$(free_port)
    media_port=$(free_port)
    (cd "$WORK" && timeout 60 sipp "$remote" -sf "$INTEROP_DIR/sipp/$scenario" -t "$transport" -i "$local_ip" \
        -p "$local_port" -mp "$media_port" \
        -m "$calls" -r 20 -timeout 40s -timeout_error -recv_timeout 8000 -nostdin \
        -trace_err -error_file "$name.err" -trace_msg -message_file "$name.msg" \
        -trace_stat -stf "$name.csv" "$@" >"$name.out" 2>&1) || status=$?
    if [ "$status" -eq 0 ] && python3 - "$WORK/$name.csv" "$calls" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
header, last = rows[0], rows[-1]
ok = int(last[header.index("SuccessfulCall(C)")])
bad = int(last[header.index("FailedCall(C)")])
sys.exit(0 if ok == int(sys.argv[2]) and bad == 0 else 1)
PY
    then
        return 0
    fi
    echo "--- sipp $name ($scenario over $transport from $local_ip to $remote): exit $status" >&2
    tail -n 15 "$WORK/$name.out" >&2 2>/dev/null || true
    tail -n 15 "$WORK/$name.err" >&2 2>/dev/null || true
    echo "--- messages (last 60 lines)" >&2
    tail -n 60 "$WORK/$name.msg" >&2 2>/dev/null || true
    return 1
}

# sipp_ok NAME SCENARIO TRANSPORT LOCAL_IP REMOTE CALLS [SIPP ARGS...]: sipp_run or fail.
sipp_ok() {
    sipp_run "$@" || fail "sipp $1 ($2 over $3 from $4 to $5): not every call ended as the scenario expects"
}

require_sipp() { command -v sipp >/dev/null || skip "sipp not installed (Debian package sip-tester)"; }

# --- PostgreSQL --------------------------------------------------------------------------------

# start_postgres: a throwaway PostgreSQL (initdb into a temporary directory, trust auth, a free
# port on 127.0.0.1, no fsync: only trunkgate is ever killed, never PostgreSQL), like the Swift
# test suites' PostgresTestServer; sets DATABASE_URL. As root it runs as the `postgres` user
# (created when missing). Stopped (immediate) and removed by cleanup. Skips the test when the
# server binaries are not installed (Debian package postgresql).
start_postgres() {
    local bin=${TRUNKGATE_PG_BIN:-}
    if [ -z "$bin" ]; then
        bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        [ -n "$bin" ] || bin=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
    fi
    [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] || skip "PostgreSQL server binaries not installed (Debian package postgresql)"
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/trunkgate-interop-pg.XXXXXX")
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        id -u postgres >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin postgres >/dev/null 2>&1 || fail "cannot create the postgres user"
        chown postgres "$PG_DIR"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
        fail "initdb failed: $(tail -n 5 "$PG_DIR/initdb.log")"
    local port=
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        if "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
            -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >"$PG_DIR/pg_ctl.log" 2>&1; then
            PG_CTL=("${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data")
            break
        fi
        port=
    done
    [ -n "$port" ] || fail "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/server.log" 2>/dev/null)"
    # Should this test be killed before its cleanup runs, a watchdog stops the server once the
    # test's shell is gone.
    local stop
    printf -v stop '%q ' "${PG_CTL[@]}"
    setsid bash -c "while kill -0 $$ 2>/dev/null; do sleep 1; done; $stop -m immediate stop >/dev/null 2>&1; rm -rf '$PG_DIR'" \
        </dev/null >/dev/null 2>&1 &
    "${as[@]}" "$bin/createdb" -h "$PG_DIR" -p "$port" -U postgres trunkgate >"$PG_DIR/createdb.log" 2>&1 ||
        fail "createdb failed: $(cat "$PG_DIR/createdb.log")"
    DATABASE_URL="postgres://postgres@127.0.0.1:$port/trunkgate?sslmode=disable"
}

stop_postgres() {
    if ((${#PG_CTL[@]})); then
        "${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
        PG_CTL=()
    fi
    if [ -n "$PG_DIR" ]; then
        rm -rf "$PG_DIR"
        PG_DIR=
    fi
}
