#!/usr/bin/env bash
# Load benchmark of `error-render serve`: wrk against a rendering route, the
# ingress-nginx protocol and a static route (/healthz) of the same binary,
# so the ratio render/static shows what rendering costs over plain serving.
#
# The three run in turn ROUNDS times (default 3) and each figure is the
# median over the rounds, so a burst of load from elsewhere on a shared
# machine hits all three alike.
#
#   benches/load.sh                      # 64 connections, 2 threads, 10 s, 3 rounds
#   DURATION=30s CONNECTIONS=128 THREADS=4 ROUNDS=5 benches/load.sh
#   ERROR_RENDER_BIN=target/release/error-render benches/load.sh   # no build
#
# With PERF=1, `perf stat` also measures the server's CPU time during each
# run and prints it per request: a figure the machine's other load moves
# far less than req/s and latency.
#
# Needs wrk (scripts/ci-deps.sh installs it); PERF=1 needs perf.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
TEMPLATES=${TEMPLATES:-$ROOT/templates}

command -v wrk >/dev/null || { echo "load.sh: wrk is not installed: run scripts/ci-deps.sh" >&2; exit 2; }

BIN=${ERROR_RENDER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin error-render)
    BIN=$ROOT/target/release/error-render
fi

# A free port: bind :0 and let it go (a tiny race, fine for a benchmark).
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))}
BASE=http://127.0.0.1:$PORT

WORK=$(mktemp -d)
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then
        kill -TERM "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# Logging at warn: per-request logs would measure the terminal, not us.
ERROR_RENDER_LOG_LEVEL=warn "$BIN" serve --listen "127.0.0.1:$PORT" --templates "$TEMPLATES" \
    >"$WORK/server.log" 2>&1 &
SERVER=$!

ready=""
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        ready=yes
        break
    fi
    sleep 0.05
done
if [ -z "$ready" ]; then
    echo "load.sh: error-render did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi

cat >"$WORK/ingress.lua" <<'LUA'
wrk.headers["X-Code"] = "503"
wrk.headers["X-Format"] = "application/json"
LUA

# run NAME URL [wrk args...]: runs wrk, keeps its output, prints a line and
# records req/s and p99 (in ms) for the medians.
declare -A RPS P99 CPU
run() {
    local name=$1 url=$2
    shift 2
    local counter=""
    if [ -n "${PERF:-}" ]; then
        perf stat -x, -e task-clock -p "$SERVER" -o "$WORK/$name.perf" &
        counter=$!
    fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$WORK/$name.txt"
    local per_request=""
    if [ -n "$counter" ]; then
        kill -INT "$counter"
        wait "$counter" || true
        per_request=$(awk -F, -v n="$(awk '/requests in/ {print $1}' "$WORK/$name.txt")" \
            '$3 ~ /task-clock/ {printf "   %.1f us CPU/request", $1 * 1000 / n}' "$WORK/$name.perf")
        CPU[$name]="${CPU[$name]:-} $(tr -dc "0-9." <<<"$per_request")"
    fi
    local rps p50 p90 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.txt")
    p90=$(awk '$1 == "90%" {print $2}' "$WORK/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.txt")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$WORK/$name.txt")
    RPS[$name]="${RPS[$name]:-} $rps"
    P99[$name]="${P99[$name]:-} $(awk -v v="$p99" 'BEGIN {
        u = v; sub(/[0-9.]+/, "", u); n = v + 0
        print (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : n }')"
    printf '%-8s %-34s %12s req/s   p50 %-9s p90 %-9s p99 %-9s (non-2xx: %s)%s\n' \
        "$name" "$url" "$rps" "$p50" "$p90" "$p99" "${non2xx:-0}" "$per_request"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "error-render load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds, $(nproc) CPUs, $BIN"
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    run static "$BASE/healthz"
    run render "$BASE/render/503"
    run ingress "$BASE/" -s "$WORK/ingress.lua"
    if [ -n "${VERBOSE:-}" ]; then
        cat "$WORK"/*.txt
    fi
done
echo "medians over $ROUNDS rounds:"
for name in static render ingress; do
    printf '%-8s %12.0f req/s   p99 %.2f ms' "$name" "$(median <<<"${RPS[$name]}")" "$(median <<<"${P99[$name]}")"
    if [ -n "${CPU[$name]:-}" ]; then
        printf '   %.1f us server CPU/request' "$(median <<<"${CPU[$name]}")"
    fi
    echo
done
awk -v r="$(median <<<"${RPS[render]}")" -v i="$(median <<<"${RPS[ingress]}")" -v s="$(median <<<"${RPS[static]}")" 'BEGIN {
    printf "ratio render/static: %.2f   ingress/static: %.2f\n", r / s, i / s
}'
