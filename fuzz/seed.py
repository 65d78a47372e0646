#!/usr/bin/env python3
"""Writes the fuzz corpora's seeds from the repository's own inputs: the
conformance template sets and cases, the override and tyk.conf fixtures, the
example config. Run by scripts/fuzz.sh; output goes to fuzz/corpus/<target>/
(ignored by git). Field layout: see fuzz/src/lib.rs and each target."""

import hashlib
import json
import pathlib
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
SET_DIRS = [ROOT / "tests/conformance/sets", ROOT.parent / "shared/conformance/sets"]
CASE_FILES = [
    ROOT / "tests/conformance/cases.jsonl",
    ROOT / "tests/conformance/cases-extra.jsonl",
    ROOT.parent / "shared/conformance/cases.jsonl",
]
CASES_PER_SET = 6


def control(flags, code=500):
    return bytes([flags]) + struct.pack(">H", code & 0xFFFF)


def write(target, fields):
    data = b"\0".join(f if isinstance(f, bytes) else f.encode() for f in fields)
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def template_sets():
    sets = {}
    for base in SET_DIRS:
        if base.is_dir():
            for s in sorted(base.iterdir()):
                files = sorted(p for p in s.iterdir() if p.is_file())
                sets.setdefault(s.name, [(p.name, p.read_bytes()) for p in files])
    return sets


def cases():
    by_set = {}
    for f in CASE_FILES:
        if f.is_file():
            for line in f.read_text().split("\n"):
                if line.strip():
                    c = json.loads(line)
                    by_set.setdefault(c.get("set"), []).append(c)
    return by_set


def main():
    sets, by_set = template_sets(), cases()
    n = {}
    for name, files in sets.items():
        chunks = [files[i : i + 3] for i in range(0, len(files), 3)] or [[]]
        for i, case in enumerate(by_set.get(name, [{}])[:CASES_PER_SET]):
            flags = 1 if case.get("profile") == "5.14" else 0
            # Linting renders every code: on one seed per chunk, not all.
            flags |= 4 if i == 0 else 0
            code = case.get("code") or 500
            for chunk in chunks:
                fields = [control(flags, code), case.get("message") or "", case.get("content_type") or ""]
                for fname, text in chunk:
                    fields += [fname, text.replace(b"\0", b"")]
                write("render_template", fields)
    for c in [c for cs in by_set.values() for c in cs][::7]:
        write("http_headers", [control(0), "/", c.get("code") and str(c["code"]) or "", c.get("content_type") or "", "/a?b=c", "ns", "", "ing", "svc", "80", "req-1"])
        write("http_headers", [control(4), "/%s.json" % c.get("code", 404), "", "", "", "", "", "", "", "", "", c.get("content_type") or "*/*"])
        write("http_headers", [control(1), "/render", "", "", "", "", "", "", "", "", "", "", "application/json", "", json.dumps({"code": c.get("code", 500), "message": c.get("message") or ""})])
        write("http_headers", [control(0), "/render/%s?message=%s" % (c.get("code", 500), "x%20y")])
    for p in sorted((ROOT / "overrides").glob("*")) + sorted((ROOT / "tests/fixtures/validate/overrides").glob("*")):
        text = p.read_bytes()
        json_bit = 2 if p.suffix in (".json", ".conf") else 0
        tyk_bit = 4 if p.suffix == ".conf" else 0
        write("overrides", [control(json_bit | tyk_bit), text])
    for p in [ROOT / "examples/config.yaml", ROOT / "deploy/kubernetes/configmap.yaml"]:
        if p.is_file():
            write("config", [control(0), p.read_bytes(), "ERROR_RENDER_LISTEN=:8080", "ERROR_RENDER_PROFILE=5.14"])
    write("config", [control(2), json.dumps({"listen": ":9000", "status_rewrites": {"5xx": 503}, "headers": {"*": {"x-a": "b"}}})])
    for t in sorted(OUT.iterdir()):
        n[t.name] = len(list(t.iterdir()))
    print("seeds:", ", ".join(f"{k} {v}" for k, v in sorted(n.items())), file=sys.stderr)


if __name__ == "__main__":
    main()
