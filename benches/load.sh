#!/usr/bin/env bash
# Load benchmark of `error-render serve`: wrk against a rendering route, the
# ingress-nginx protocol and a static route (/healthz) of the same binary,
# so the ratio render/static shows what rendering costs over plain serving.
#
#   benches/load.sh                      # 64 connections, 2 threads, 10 s
#   DURATION=30s CONNECTIONS=128 THREADS=4 benches/load.sh
#   ERROR_RENDER_BIN=target/release/error-render benches/load.sh   # no build
#
# Needs wrk (scripts/ci-deps.sh installs it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
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

# run NAME URL [wrk args...]: runs wrk, keeps its output, prints a summary.
declare -A RPS
run() {
    local name=$1 url=$2
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$WORK/$name.txt"
    local rps p50 p90 p99 non2xx
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$WORK/$name.txt")
    p90=$(awk '$1 == "90%" {print $2}' "$WORK/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$WORK/$name.txt")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$WORK/$name.txt")
    RPS[$name]=$rps
    printf '%-14s %-36s %12s req/s   p50 %-9s p90 %-9s p99 %-9s (non-2xx: %s)\n' \
        "$name" "$url" "$rps" "$p50" "$p90" "$p99" "${non2xx:-0}"
}

echo "error-render load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $(nproc) CPUs, $BIN"
run static "$BASE/healthz"
run render "$BASE/render/503"
run ingress "$BASE/" -s "$WORK/ingress.lua"
awk -v r="${RPS[render]}" -v i="${RPS[ingress]}" -v s="${RPS[static]}" 'BEGIN {
    printf "ratio render/static: %.2f   ingress/static: %.2f\n", r / s, i / s
}'
if [ -n "${VERBOSE:-}" ]; then
    cat "$WORK"/*.txt
fi
