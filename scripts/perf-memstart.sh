#!/usr/bin/env bash
# Start-up time and resident memory of `error-render serve` with 1,000
# templates: generates a folder of 500 files (error_<code>.json and .xml for
# 400-599, plus 100 error_part_<n>.json files) each defining one more named
# template, starts the release binary, times exec to the first `200` from
# /readyz, then serves REQUESTS (default 1,000,000) with wrk over a mix of
# codes and both formats and reads VmRSS and VmHWM from /proc/PID/status.
#
#   scripts/perf-memstart.sh
#   REQUESTS=200000 ERROR_RENDER_BIN=target/release/error-render scripts/perf-memstart.sh
#
# Needs wrk (scripts/ci-deps.sh installs it) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${REQUESTS:-1000000}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { echo "perf-memstart: wrk is not installed: run scripts/ci-deps.sh" >&2; exit 2; }
BIN=${ERROR_RENDER_BIN:-}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release --quiet --bin error-render)
    BIN=$ROOT/target/release/error-render
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
T=$WORK/templates
mkdir "$T"
cp "$ROOT/templates/error.json" "$ROOT/templates/error.xml" "$T/"
for code in $(seq 400 599); do
    printf '{{define "detail_%s_json"}}{"code": {{.StatusCode}}, "title": "{{.Title}}"}{{end}}{"error": "{{.Message}}", "detail": {{template "detail_%s_json" .}}}\n' \
        "$code" "$code" >"$T/error_$code.json"
    printf '{{define "detail_%s_xml"}}<code>{{.StatusCode}}</code>{{end}}<?xml version="1.0"?>\n<error><message>{{.Message}}</message>{{template "detail_%s_xml" .}}</error>\n' \
        "$code" "$code" >"$T/error_$code.xml"
done
for n in $(seq 1 100); do
    printf '{{define "part_%s"}}{{.Message}} (%s){{end}}{"part": "{{template "part_%s" .}}"}\n' \
        "$n" "$n" "$n" >"$T/error_part_$n.json"
done
echo "perf-memstart: $(ls "$T" | wc -l) files, $(cat "$T"/* | grep -o '{{define' | wc -l) defines"

cat >"$WORK/mix.lua" <<'LUA'
local i = 0
request = function()
    i = i + 1
    local code = 400 + (i % 200)
    if i % 2 == 0 then
        return wrk.format("GET", "/render/" .. code, {["Content-Type"] = "application/xml"})
    end
    return wrk.format("GET", "/render/" .. code)
end
LUA

python3 - "$BIN" "$WORK" "$REQUESTS" "$THREADS" "$CONNECTIONS" <<'PY'
import http.client, os, re, socket, subprocess, sys, time

bin_, work, requests, threads, conns = sys.argv[1:6]
requests = int(requests)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env = dict(os.environ, ERROR_RENDER_LOG_LEVEL="warn")
started = time.monotonic()
server = subprocess.Popen([bin_, "serve", "--listen", f"127.0.0.1:{port}",
                           "--templates", f"{work}/templates"],
                          env=env, stderr=open(f"{work}/server.log", "w"))

def status(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        return c.getresponse().status
    finally:
        c.close()

def mem():
    text = open(f"/proc/{server.pid}/status").read()
    return {k: int(v) // 1024 for k, v in re.findall(r"(VmRSS|VmHWM):\s+(\d+) kB", text)}

try:
    while True:
        try:
            if status("/readyz") == 200:
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() - started > 30:
            sys.exit("perf-memstart: the service did not start: " + open(f"{work}/server.log").read())
        time.sleep(0.001)
    ready_ms = (time.monotonic() - started) * 1000
    print(f"start-up to ready: {ready_ms:.0f} ms; memory after start: {mem()}")
    done = 0
    while done < requests:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", "-d5s",
                              "-s", f"{work}/mix.lua", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, check=True).stdout
        done += int(re.search(r"(\d+) requests in", out).group(1))
    m = mem()
    print(f"after {done} requests: VmRSS {m['VmRSS']} MiB, VmHWM (peak) {m['VmHWM']} MiB")
finally:
    server.terminate()
    server.wait()
PY
