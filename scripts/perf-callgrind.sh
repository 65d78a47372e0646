#!/usr/bin/env bash
# Instructions per request of `error-render serve`, counted by callgrind:
# a figure other load on the machine does not move, unlike req/s. The
# server runs under valgrind on CPU 0; a client sends WARMUP requests (the
# render cache fills), then callgrind starts counting and the client sends
# N more on the same keep-alive connection, one at a time. User space only:
# the kernel's part of each request (one read, one write, one epoll_wait,
# as `strace -c -f -p PID` shows) is not counted.
#
#   scripts/perf-callgrind.sh                  # every route, N=3000
#   ROUTES="render ingress" N=5000 ERROR_RENDER_BIN=target/release/error-render scripts/perf-callgrind.sh
#
# Each route's callgrind file is kept in OUT (default a temp folder) for
# `callgrind_annotate --inclusive=yes FILE`; a build with
# CARGO_PROFILE_RELEASE_DEBUG=line-tables-only names the source lines.
#
# Needs valgrind (callgrind_control) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-3000}
WARMUP=${WARMUP:-300}
ROUTES=${ROUTES:-static render render-var ingress traefik}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

command -v callgrind_control >/dev/null || { echo "perf-callgrind.sh: valgrind is not installed" >&2; exit 2; }
BIN=${ERROR_RENDER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin error-render)
    BIN=$ROOT/target/release/error-render
fi

# Sends `count` requests one at a time on one connection, reading each
# response whole (Content-Length) before the next.
client() {
    python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
port, count, req = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape").encode()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
for _ in range(count):
    s.sendall(req)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("the server closed the connection")
        buf += chunk
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            continue
        length = 0
        for line in buf[:end].decode().split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
        if len(buf) >= end + 4 + length:
            buf = buf[end + 4 + length:]
            break
PY
}

request() {
    case $1 in
        static) echo 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' ;;
        render) echo 'GET /render/403?message=Quota%20exceeded HTTP/1.1\r\nHost: x\r\n\r\n' ;;
        # Not a catalogue message: rendered every time, never from memory.
        render-var) echo 'GET /render/400?message=Request%20number%2012345 HTTP/1.1\r\nHost: x\r\n\r\n' ;;
        ingress) echo 'GET / HTTP/1.1\r\nHost: x\r\nX-Code: 503\r\nX-Format: application/json\r\n\r\n' ;;
        traefik) echo 'GET /503 HTTP/1.1\r\nHost: x\r\n\r\n' ;;
        *) echo "perf-callgrind.sh: unknown route $1" >&2; exit 2 ;;
    esac
}

echo "instructions per request (callgrind, user space), N=$N, $BIN"
for route in $ROUTES; do
    req=$(request "$route")
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    ERROR_RENDER_LOG_LEVEL=warn taskset -c 0 valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$OUT/$route.%p" "$BIN" serve --listen "127.0.0.1:$port" \
        --templates "$ROOT/templates" >"$OUT/$route.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    client "$port" "$WARMUP" "$req"
    callgrind_control -i on "$pid" >/dev/null 2>&1
    client "$port" "$N" "$req"
    callgrind_control -d "$pid" >/dev/null 2>&1
    kill -INT "$pid"
    wait "$pid" || true
    file=$(ls -t "$OUT/$route.$pid".*[0-9] 2>/dev/null | grep -v "\.$pid$" | head -1)
    total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    printf '%-11s %8d   (%s)\n' "$route" $((total / N)) "$file"
done
