#!/usr/bin/env bash
# Reload latency of `error-render serve`: how long after a template is
# written the new body is served. Edits error.json EDITS times (default 20)
# in a scratch copy of the templates and polls GET /render/500 until the
# edit shows; prints every latency, the median and the max.
#
#   scripts/perf-reload.sh
#   EDITS=50 ERROR_RENDER_BIN=target/release/error-render scripts/perf-reload.sh
#
# The watcher's 100 ms quiet period (src/live/watch.rs DEBOUNCE) is part of the
# figure: a write is acted on once the folder has been quiet that long.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EDITS=${EDITS:-20}
BIN=${ERROR_RENDER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin error-render)
    BIN=$ROOT/target/release/error-render
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/templates"
cp "$ROOT/templates/error.json" "$ROOT/templates/error.xml" "$WORK/templates/"

python3 - "$BIN" "$WORK" "$EDITS" <<'PY'
import http.client, os, socket, statistics, subprocess, sys, time

bin_, work, edits = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env = dict(os.environ, ERROR_RENDER_LOG_LEVEL="warn")
server = subprocess.Popen([bin_, "serve", "--listen", f"127.0.0.1:{port}",
                           "--templates", f"{work}/templates"],
                          env=env, stderr=open(f"{work}/server.log", "w"))

def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        return c.getresponse().read().decode()
    finally:
        c.close()

try:
    deadline = time.monotonic() + 10
    while True:
        try:
            if get("/readyz") == "ready":
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("perf-reload: the service did not start: " + open(f"{work}/server.log").read())
        time.sleep(0.005)
    path = f"{work}/templates/error.json"
    lat = []
    for i in range(edits):
        marker = f"edit-{i}-{time.time_ns()}"
        # Plain write in place, as `echo > file` or most editors' save.
        with open(path, "w") as f:
            f.write('{"error": "{{.Message}}", "edit": "%s"}' % marker)
        written = time.monotonic()
        deadline = written + 5
        while marker not in get("/render/500"):
            if time.monotonic() > deadline:
                sys.exit(f"perf-reload: edit {i} not served within 5 s")
            time.sleep(0.001)
        lat.append((time.monotonic() - written) * 1000)
        time.sleep(0.2)  # let the next edit start a fresh quiet period
    print("latencies (ms):", " ".join(f"{x:.0f}" for x in lat))
    print(f"reload: {edits} edits, median {statistics.median(lat):.0f} ms, "
          f"min {min(lat):.0f} ms, max {max(lat):.0f} ms")
finally:
    server.terminate()
    server.wait()
PY
