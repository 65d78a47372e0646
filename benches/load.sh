#!/usr/bin/env bash
# Load benchmark of `error-render serve` against nginx in the same run.
#
# Two modes (MODES, default "pinned two"):
#   pinned  each server on CPU 0 (taskset), wrk on CPU 1, wrk -t1 -c32:
#           one core's worth of server, the figure the goals are set on;
#   two     no pinning, wrk -t2 -c64: the whole machine, wrk included.
# Each mode starts its own servers: nginx (one worker per CPU the mode
# gives it, `return 403` with the render route's body, access log off),
# error-render with the bundled templates, and optionally a Go peer.
#
# Routes, run in turn ROUNDS times (interleaved, so a burst of load from
# elsewhere hits all alike); each figure is the median over the rounds:
#   nginx      GET /                          (nginx's `return 403`)
#   static     GET /healthz
#   render     GET /render/403?message=Quota%20exceeded   (a catalogue message)
#   render-var GET /render/400?message=<different on every request> (wrk Lua)
#   ingress    GET / with X-Code: 503, X-Format: application/json (ingress-nginx)
#   traefik    GET /503                        (Traefik's errors middleware)
#   nginx-html nginx answering 503 with the same HTML page from a file
#              (error_page to a static file): the html routes' baseline
#   html       ingress with a browser's X-Format: the HTML page, against
#              nginx-html and the JSON of `ingress` in the same run (issue #12)
#   html-gzip  the same with Accept-Encoding: gzip (compressed, Vary)
#   html-br    the same with Accept-Encoding: br
#   go         GO_PEER's path, when GO_PEER is set and go is on PATH
# For each: requests/s, p99, the server's CPU time per request (utime+stime
# from /proc/<pid>/stat before and after, children included), and the
# ratio to nginx. In pinned mode it says which goals are met (req/s at
# least 0.85 of nginx for render, render-var, ingress and traefik, 0.95 for
# static; p99 at most nginx's + 1 ms; the html routes are figures to set
# against ingress's, with no goal). Nothing here is checked by CI.
#
#   benches/load.sh                                  # both modes, 3 s x 5 rounds
#   DURATION=3s ROUNDS=5 MODES=pinned benches/load.sh
#   ERROR_RENDER_BIN=target/release/error-render benches/load.sh   # no build
#   GO_PEER=path/to/peer.go GO_PEER_PATH=/ benches/load.sh         # add a Go peer
#
# GO_PEER is a Go program that serves HTTP on 127.0.0.1:$PORT; it is built
# with `go build` and pinned like the others. None is shipped.
#
# Needs wrk, nginx and taskset (scripts/ci-deps.sh installs wrk).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-3s}
ROUNDS=${ROUNDS:-5}
MODES=${MODES:-pinned two}
TEMPLATES=${TEMPLATES:-$ROOT/templates}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

for tool in wrk taskset curl; do
    command -v "$tool" >/dev/null || { echo "load.sh: $tool is not installed" >&2; exit 2; }
done
[ -x "$NGINX" ] || { echo "load.sh: nginx is not installed (set NGINX=...)" >&2; exit 2; }
if [ "$(nproc)" -lt 2 ]; then
    echo "load.sh: needs two CPUs (server on one, wrk on the other)" >&2
    exit 2
fi

BIN=${ERROR_RENDER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin error-render)
    BIN=$ROOT/target/release/error-render
fi

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    local port=$1 name=$2 log=$3
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "load.sh: $name did not start:" >&2
    cat "$log" >&2
    exit 1
}

stop_servers() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

# The CPU time (in clock ticks) of a process and its children so far:
# nginx answers in its worker, a child of the process started here.
cpu_ticks() {
    local pid=$1 total=0 p
    for p in $pid $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        if [ -r "/proc/$p/stat" ]; then
            # Fields 14 and 15 (utime, stime) after the ")" that ends the name.
            total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
        fi
    done
    echo "$total"
}
TICK=$(getconf CLK_TCK)

cat >"$WORK/ingress.lua" <<'LUA'
wrk.headers["X-Code"] = "503"
wrk.headers["X-Format"] = "application/json"
LUA
BROWSER='text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
for enc in none gzip br; do
    {
        echo 'wrk.headers["X-Code"] = "503"'
        echo "wrk.headers[\"X-Format\"] = \"$BROWSER\""
        [ "$enc" = none ] || echo "wrk.headers[\"Accept-Encoding\"] = \"$enc\""
    } >"$WORK/html-$enc.lua"
done
# A different message on every request: nothing can be served from memory.
cat >"$WORK/vary.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/render/400?message=Request%20number%20" .. n)
end
LUA

declare -A RPS P99 CPU NAMES_SEEN
ORDER=()

# run MODE NAME PID URL [wrk args...]
run() {
    local mode=$1 name=$2 pid=$3 url=$4
    shift 4
    local key="$mode/$name" wrkargs out before after
    if [ "$mode" = pinned ]; then
        wrkargs=(taskset -c 1 wrk -t1 -c32)
    else
        wrkargs=(wrk -t2 -c64)
    fi
    out="$WORK/$mode-$name.txt"
    before=$(cpu_ticks "$pid")
    "${wrkargs[@]}" -d"$DURATION" --latency "$@" "$url" >"$out"
    after=$(cpu_ticks "$pid")
    local rps p99 requests errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    requests=$(awk '/requests in/ {print $1}' "$out")
    p99=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); n = v + 0;
        print (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : n}' "$out")
    errors=$(awk '/Socket errors/ {print}' "$out")
    local cpu
    cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN {printf "%.2f", t / hz * 1e6 / n}')
    if [ -z "${NAMES_SEEN[$key]:-}" ]; then
        NAMES_SEEN[$key]=1
        ORDER+=("$key")
    fi
    RPS[$key]="${RPS[$key]:-} $rps"
    P99[$key]="${P99[$key]:-} $p99"
    CPU[$key]="${CPU[$key]:-} $cpu"
    printf '  %-7s %-11s %10s req/s  p99 %7.2f ms  %6s us CPU/req %s\n' "$mode" "$name" "$rps" "$p99" "$cpu" "$errors"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_mode() {
    local mode=$1 pin=() workers=2
    if [ "$mode" = pinned ]; then
        pin=(taskset -c 0)
        workers=1
    fi
    ER_PORT=$(free_port)
    # Logging at warn, as a production sidecar would run.
    ERROR_RENDER_LOG_LEVEL=warn "${pin[@]}" "$BIN" serve --listen "127.0.0.1:$ER_PORT" \
        --templates "$TEMPLATES" >"$WORK/error-render.log" 2>&1 &
    ER_PID=$!
    PIDS+=("$ER_PID")
    wait_port "$ER_PORT" error-render "$WORK/error-render.log"

    # nginx answers with the render route's own body and content type.
    local body ctype
    body=$(curl -s "http://127.0.0.1:$ER_PORT/render/403?message=Quota%20exceeded")
    ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$ER_PORT/render/403?message=Quota%20exceeded")
    NGINX_PORT=$(free_port)
    mkdir -p "$WORK/nginx" "$WORK/www"
    curl -s -H 'X-Code: 503' -H "X-Format: $BROWSER" "http://127.0.0.1:$ER_PORT/" >"$WORK/www/page.html"
    cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes $workers;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx;
    proxy_temp_path $WORK/nginx;
    fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx;
    scgi_temp_path $WORK/nginx;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            default_type "$ctype";
            return 403 '$body';
        }
        # The html routes' baseline: the same page, from a file.
        location = /html {
            error_page 503 /page.html;
            return 503;
        }
        location = /page.html {
            internal;
            root $WORK/www;
            default_type "text/html; charset=utf-8";
        }
    }
}
CONF
    "${pin[@]}" "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" \
        >"$WORK/nginx/out.log" 2>&1 &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    wait_port "$NGINX_PORT" nginx "$WORK/nginx/out.log"
    local nginx_body
    nginx_body=$(curl -s "http://127.0.0.1:$NGINX_PORT/")
    if [ "$nginx_body" != "$body" ]; then
        echo "load.sh: nginx's body differs from error-render's" >&2
        exit 1
    fi

    GO_PID=""
    if [ -n "${GO_PEER:-}" ] && command -v go >/dev/null; then
        GO_PORT=$(free_port)
        [ -x "$WORK/go-peer" ] || go build -o "$WORK/go-peer" "$GO_PEER"
        PORT=$GO_PORT GOMAXPROCS=$workers "${pin[@]}" "$WORK/go-peer" >"$WORK/go.log" 2>&1 &
        GO_PID=$!
        PIDS+=("$GO_PID")
        wait_port "$GO_PORT" "the Go peer" "$WORK/go.log"
    fi
}

echo "error-render load: $DURATION x $ROUNDS rounds, modes: $MODES, $(nproc) CPUs"
echo "binary: $BIN"
echo "nginx: $("$NGINX" -v 2>&1)"
for mode in $MODES; do
    start_mode "$mode"
    ER=http://127.0.0.1:$ER_PORT
    for round in $(seq 1 "$ROUNDS"); do
        echo "$mode round $round"
        run "$mode" nginx "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/"
        run "$mode" static "$ER_PID" "$ER/healthz"
        run "$mode" render "$ER_PID" "$ER/render/403?message=Quota%20exceeded"
        run "$mode" render-var "$ER_PID" "$ER/" -s "$WORK/vary.lua"
        run "$mode" ingress "$ER_PID" "$ER/" -s "$WORK/ingress.lua"
        run "$mode" traefik "$ER_PID" "$ER/503"
        run "$mode" nginx-html "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/html"
        run "$mode" html "$ER_PID" "$ER/" -s "$WORK/html-none.lua"
        run "$mode" html-gzip "$ER_PID" "$ER/" -s "$WORK/html-gzip.lua"
        run "$mode" html-br "$ER_PID" "$ER/" -s "$WORK/html-br.lua"
        if [ -n "$GO_PID" ]; then
            run "$mode" go "$GO_PID" "http://127.0.0.1:$GO_PORT${GO_PEER_PATH:-/}"
        fi
    done
    stop_servers
done

echo
echo "medians over $ROUNDS rounds (ratio: req/s over nginx's in the same mode; html*: over nginx-html's, nginx sending the same page from a file)"
printf '%-7s %-11s %10s %9s %10s %7s\n' mode route req/s p99_ms cpu_us/req ratio
MET=()
for key in "${ORDER[@]}"; do
    mode=${key%%/*}
    name=${key#*/}
    rps=$(median <<<"${RPS[$key]}")
    p99=$(median <<<"${P99[$key]}")
    cpu=$(median <<<"${CPU[$key]}")
    base=$(median <<<"${RPS[$mode/nginx]}")
    # The HTML page is set against nginx sending the same page.
    if [ "${name#html}" != "$name" ] && [ -n "${RPS[$mode/nginx-html]:-}" ]; then
        base=$(median <<<"${RPS[$mode/nginx-html]}")
    fi
    base_p99=$(median <<<"${P99[$mode/nginx]}")
    ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
    printf '%-7s %-11s %10.0f %9.2f %10.2f %7s\n' "$mode" "$name" "$rps" "$p99" "$cpu" "$ratio"
    if [ "$mode" = pinned ] && [ "${name#nginx}" = "$name" ] && [ "$name" != go ] && [ "${name#html}" = "$name" ]; then
        goal=0.85
        [ "$name" = static ] && goal=0.95
        MET+=("$(awk -v r="$ratio" -v g="$goal" -v p="$p99" -v bp="$base_p99" -v n="$name" 'BEGIN {
            printf "%-11s req/s %.2f of nginx (goal %.2f): %s;  p99 %.2f ms vs nginx %.2f + 1 ms: %s",
                n, r, g, (r >= g) ? "met" : "NOT met", p, bp, (p <= bp + 1) ? "met" : "NOT met" }')")
    fi
done
if [ ${#MET[@]} -gt 0 ]; then
    echo
    echo "goals (pinned mode):"
    printf '  %s\n' "${MET[@]}"
fi
