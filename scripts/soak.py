#!/usr/bin/env python3
"""Soak test: `error-render serve` under steady load while its templates are
rewritten every second, its overrides file every few seconds, and one more
template in place every 100 ms (in bursts).

    scripts/soak.py --seconds 40                 # what .ci/run runs
    scripts/soak.py --minutes 5 --release        # a longer run

The templates alternate between two known versions, A and B, the overrides
between OA and OB, each written atomically (temp file, rename) or in place
(truncate, write), alternately. Before the load starts, every request's full
body is fetched under each of the four combinations; during the load every
response must be one of those bodies (anything else is a torn render) with the
status calibrated for it (anything else, or a connection error, is a failed
request). A third template, error_418.json, is rewritten in place (truncate,
then the text in four chunks 5 ms apart) every 100 ms
during two seconds out of four, alternating versions SA and SB: its body
must always be one of those two, never empty or half of one. Resident memory (VmRSS) is sampled every two seconds; after a
warm-up, the median of the last quarter of the samples may exceed the median
of the first quarter by at most --rss-growth percent plus --rss-slack-mb.

Exits 1 if any request failed, any render was torn, or memory grew.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Two template versions with different shapes and lengths, so that a body
# from half of one and half of the other matches neither.
TEMPLATES = {
    "A": {
        "error.json": '{"version": "A", "error": "{{.Message}}"}',
        "error.xml": '<error version="A">{{.Message}}</error>',
        "error_404.json": '{"version": "A", "missing": "{{.Message}}", "code": 404}',
    },
    "B": {
        "error.json": '{\n  "v": "B",\n  "message": "{{.Message}}",\n  "padding": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"\n}\n',
        "error.xml": '<?xml version="1.0"?>\n<failure v="B"><text>{{.Message}}</text></failure>\n',
        "error_404.json": '{"v": "B", "not_found": "{{.Message}}"}',
    },
}
# Rewritten in place every 100 ms, in bursts (see `stormer`).
STORM = {
    "SA": '{"storm": "SA", "message": "{{.Message}}", "pad": "' + "a" * 200 + '"}',
    "SB": '{"storm": "SB", "pad": "' + "b" * 120 + '", "message": "{{.Message}}"}',
}
STORM_FILE = "error_418.json"
STORM_PERIOD = 0.1
OVERRIDES = {
    "OA": "auth.key_not_found:\n  code: 401\n  message: Key A is not valid\n",
    "OB": "auth.key_not_found:\n  message: Key B was refused, ask for a new one\n"
    "auth.auth_field_missing:\n  code: 400\n",
}

# How long the service wants a file left alone before reading it
# (src/live/watch.rs SETTLE): an in-place write pausing longer than this midway
# can be loaded half-written (an emptied file waits EMPTY_SETTLE, 5 s).
SLOW_WRITE = 0.25

# (name, method, path, headers): the service's own route, the
# ingress-nginx route (X-Code), Traefik's path route, and an override ID.
REQUESTS = [
    ("render-404", "GET", "/render/404?message=soak%20test", {}),
    ("render-500-xml", "GET", "/render/500?content_type=application/xml", {}),
    ("ingress-503", "GET", "/", {"X-Code": "503", "X-Format": "application/json"}),
    ("ingress-404-xml", "GET", "/", {"X-Code": "404", "X-Format": "application/xml"}),
    ("traefik-429", "GET", "/429.xml", {}),
    ("override-id", "GET", "/render?id=auth.key_not_found", {}),
    ("storm-418", "GET", "/render/418?message=storm", {}),
]


def write(path: Path, text: str, atomic: bool, stall: float = 0.0) -> float:
    """Writes `text` to `path`; returns how long the file was incomplete
    (for an in-place write: from the truncation to the end of the write)."""
    if atomic:
        # Not an `error*` name, so the set never includes the temp file.
        tmp = path.with_name(".soak-" + path.name)
        tmp.write_text(text)
        os.replace(tmp, path)
        return 0.0
    data = text.encode()
    start = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    try:
        time.sleep(stall)
        os.write(fd, data)
    finally:
        os.close(fd)
    return time.monotonic() - start


def write_in_chunks(path: Path, text: str, chunks: int = 4, pause: float = 0.005) -> None:
    """An in-place write as a careless tool makes it: truncate, then the
    text in several writes with short pauses between them."""
    data = text.encode()
    step = len(data) // chunks + 1
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    try:
        for i in range(0, len(data), step):
            os.write(fd, data[i:i + step])
            time.sleep(pause)
    finally:
        os.close(fd)


def stormer(folder, stop, storms):
    """error_418.json in place every STORM_PERIOD, two seconds out of four
    (in the quiet two the service can reload everything else)."""
    t0 = time.monotonic()
    n = 0
    while not stop.is_set():
        now = time.monotonic() - t0
        if int(now // 2) % 2 == 0:
            write_in_chunks(folder / STORM_FILE, STORM[("SA", "SB")[n % 2]])
            n += 1
            with storms.get_lock():
                storms.value = n
        stop.wait(max(0.0, STORM_PERIOD - (time.monotonic() - t0 - now)))


def write_templates(folder: Path, version: str, atomic: bool, stall: float = 0.0) -> float:
    return max(write(folder / name, text, atomic, stall) for name, text in TEMPLATES[version].items())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Server:
    def __init__(self, binary: Path, folder: Path, overrides: Path, log: Path):
        self.port = free_port()
        env = dict(os.environ, ERROR_RENDER_LOG_LEVEL="warn")
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}",
             "--templates", str(folder), "--overrides", str(overrides)],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            time.sleep(0.05)

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def generation(self) -> int:
        return json.loads(self.get("/status")[1])["generation"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def calibrate(server, folder, overrides_path):
    """Each request's (status, body) under every template × overrides
    combination, each taken after its reload was seen in /status."""
    valid = {name: set() for name, *_ in REQUESTS}
    for tv, ov in [("B", "OA"), ("B", "OB"), ("A", "OB"), ("A", "OA")]:
        gen = server.generation()
        write_templates(folder, tv, atomic=True)
        write(overrides_path, OVERRIDES[ov], atomic=True)
        deadline = time.monotonic() + 10
        # One debounced reload takes both files; wait until it is live.
        while server.generation() == gen:
            if time.monotonic() > deadline:
                raise RuntimeError("no reload seen while calibrating")
            time.sleep(0.02)
        time.sleep(0.3)  # a second reload, if the burst was split, lands too
        for name, _, path, headers in REQUESTS:
            valid[name].add(server.get(path, headers))
    # The storm's two versions, each loaded in turn.
    for sv in ["SB", "SA"]:
        gen = server.generation()
        write(folder / STORM_FILE, STORM[sv], atomic=True)
        deadline = time.monotonic() + 10
        while server.generation() == gen:
            if time.monotonic() > deadline:
                raise RuntimeError("no reload seen while calibrating the storm")
            time.sleep(0.02)
        time.sleep(0.3)
        name, _, path, headers = REQUESTS[-1]
        valid[name].add(server.get(path, headers))
    for name, bodies in valid.items():
        if len(bodies) < 2:
            raise RuntimeError(f"{name}: the versions render alike; the soak could not tell them apart")
    return valid


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = self.failed = self.torn = 0
        self.examples = []

    def add(self, requests, failed, torn, examples):
        with self.lock:
            self.requests += requests
            self.failed += failed
            self.torn += torn
            self.examples.extend(examples[: 5 - len(self.examples)])


def client(port, valid, stop, tally):
    conn = None
    n = failed = torn = 0
    examples = []
    i = 0
    while not stop.is_set():
        name, method, path, headers = REQUESTS[i % len(REQUESTS)]
        i += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            got = (r.status, r.read())
        except (OSError, http.client.HTTPException) as e:
            failed += 1
            examples.append(f"{name}: {e!r}")
            conn = None
            continue
        n += 1
        if got not in valid[name]:
            statuses = {s for s, _ in valid[name]}
            if got[0] in statuses:
                torn += 1
                examples.append(f"{name}: torn body {got[1][:120]!r}")
            else:
                failed += 1
                examples.append(f"{name}: status {got[0]} {got[1][:120]!r}")
    tally.add(n, failed, torn, examples)


def rewriter(folder, overrides_path, stop, counts, stall):
    """Templates every second, overrides every third second (half a second
    apart from the templates), alternating atomic and in-place writes.

    Runs in its own process: sharing the clients' GIL, an in-place write can
    stall between truncation and write for longer than the service waits for
    files to settle."""
    t0 = time.monotonic()
    tick = 0
    templates = overrides = 0
    while not stop.wait(max(0.0, t0 + tick * 0.5 - time.monotonic())):
        if tick % 2 == 0:
            took = write_templates(folder, "AB"[templates % 2], atomic=(templates // 2) % 2 == 0,
                                   stall=stall)
            templates += 1
        elif tick % 6 == 1:
            took = write(overrides_path, OVERRIDES[("OA", "OB")[overrides % 2]],
                         atomic=(overrides // 2) % 2 == 0)
            overrides += 1
        else:
            took = 0.0
        tick += 1
        with counts.get_lock():
            counts[0], counts[1] = templates, overrides
            counts[2] = max(counts[2], int(took * 1e6))
            counts[3] += took > SLOW_WRITE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--minutes", type=float)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--release", action="store_true", help="build and use the release binary")
    ap.add_argument("--binary", type=Path, help="use this binary instead of building one")
    ap.add_argument("--stall-ms", type=float, default=0.0,
                    help="pause in-place template writes between truncating and writing: a self-test, "
                         "torn renders expected beyond 5000 (the service waits that long on an empty file)")
    ap.add_argument("--rss-growth", type=float, default=20.0, help="percent (default 20)")
    ap.add_argument("--rss-slack-mb", type=float, default=2.0)
    a = ap.parse_args()
    duration = a.seconds if a.seconds is not None else (a.minutes or 1) * 60

    binary = a.binary
    if binary is None:
        profile = ["--release"] if a.release else []
        subprocess.run(["cargo", "build", "--quiet", "--locked", "--bin", "error-render", *profile],
                       cwd=ROOT, check=True)
        binary = ROOT / "target" / ("release" if a.release else "debug") / "error-render"

    with tempfile.TemporaryDirectory(prefix="error-render-soak-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "templates"
        folder.mkdir()
        overrides_path = tmp / "overrides.yaml"
        write_templates(folder, "A", atomic=True)
        write(folder / STORM_FILE, STORM["SA"], atomic=True)
        write(overrides_path, OVERRIDES["OA"], atomic=True)
        server = Server(binary, folder, overrides_path, tmp / "server.log")
        try:
            valid = calibrate(server, folder, overrides_path)
            gen0 = server.generation()
            ctx = multiprocessing.get_context("fork")
            stop_writes = ctx.Event()
            # templates written, overrides written, longest in-place write
            # (µs), in-place writes slower than SLOW_WRITE.
            counts = ctx.Array("q", 4)
            writer = ctx.Process(target=rewriter, args=(folder, overrides_path, stop_writes, counts, a.stall_ms / 1000))
            writer.start()
            storms = ctx.Value("q", 0)
            storm = ctx.Process(target=stormer, args=(folder, stop_writes, storms))
            storm.start()
            stop = threading.Event()
            tally = Tally()
            threads = [threading.Thread(target=client, args=(server.port, valid, stop, tally))
                       for _ in range(a.clients)]
            start = time.monotonic()
            for t in threads:
                t.start()
            samples = []  # (seconds since start, RSS in kB)
            while (now := time.monotonic() - start) < duration:
                samples.append((now, rss_kb(server.proc.pid)))
                time.sleep(min(2.0, max(0.0, duration - now)))
            stop_writes.set()
            writer.join()
            storm.join()
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - start
            samples.append((elapsed, rss_kb(server.proc.pid)))
            status = json.loads(server.get("/status")[1])
            alive = server.proc.poll() is None
        finally:
            server.stop()

    # Warm-up: the first tenth of the run (at least one sample) is left out.
    steady = [kb for t, kb in samples if t >= duration / 10] or [kb for _, kb in samples]
    q = max(1, len(steady) // 4)
    first, last = statistics.median(steady[:q]), statistics.median(steady[-q:])
    limit = first * (1 + a.rss_growth / 100) + a.rss_slack_mb * 1024
    grew = last > limit

    print(f"soak: {elapsed:.0f} s, {a.clients} clients, binary {binary}")
    print(f"  requests {tally.requests} ({tally.requests / elapsed:.0f}/s), "
          f"failed {tally.failed}, torn {tally.torn}")
    print(f"  rewrites: templates {counts[0]}, overrides {counts[1]}; longest in-place write "
          f"{counts[2] / 1000:.1f} ms, {counts[3]} over {SLOW_WRITE * 1000:.0f} ms; "
          f"{storms.value} in-place storm writes of {STORM_FILE}; "
          f"reloads ok {status['reloads']['ok']}, failed {status['reloads']['failed']}, "
          f"generations {gen0} -> {status['generation']}")
    print(f"  VmRSS kB every ~2 s: {' '.join(str(kb) for _, kb in samples)}")
    print(f"  VmRSS median first quarter {first / 1024:.1f} MB, last quarter {last / 1024:.1f} MB "
          f"(limit {limit / 1024:.1f} MB)")
    for e in tally.examples:
        print(f"  e.g. {e}")
    ok = tally.failed == 0 and tally.torn == 0 and not grew and alive and tally.requests > 0
    print("soak: " + ("ok" if ok else "FAILED" + (" (memory grew)" if grew else "")
                      + ("" if alive else " (the server died)")))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
