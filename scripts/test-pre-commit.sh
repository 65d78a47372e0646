#!/usr/bin/env bash
# Tests .pre-commit-hooks.yaml with the real pre-commit (PyPI; installed by
# scripts/ci-deps.sh): a temporary git repository whose
# .pre-commit-config.yaml points `repo:` at this checkout (a local path) and
# `rev:` at its HEAD commit, with a clean and then a broken template folder.
# pre-commit builds the hook with `cargo install` (a release build);
# CARGO_TARGET_DIR keeps that build in target/pre-commit so later runs reuse
# it. Prints how long the install took.
#
# It tests the committed HEAD: uncommitted changes are not part of the hook.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v pre-commit >/dev/null 2>&1; then
    echo "test-pre-commit: pre-commit is not installed: run scripts/ci-deps.sh" >&2
    exit 1
fi
rev=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain -- .pre-commit-hooks.yaml Cargo.toml Cargo.lock src)" ]; then
    echo "test-pre-commit: warning: uncommitted changes; testing the hook at HEAD ($rev)" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A pre-commit cache of its own, so the hook is really installed from the
# checkout; the cargo build is kept between runs.
export PRE_COMMIT_HOME="$work/pre-commit-home"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/pre-commit}"

repo="$work/repo"
mkdir -p "$repo/templates"
cp "$root/templates/error.json" "$root/templates/error.xml" "$repo/templates/"
cat >"$repo/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $root
    rev: $rev
    hooks:
      - id: error-render-validate
        args: [templates/]
YAML
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=ci -c user.email=ci@localhost commit -qm "templates"

echo "test-pre-commit: installing the hook (cargo install, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
start=$(date +%s)
(cd "$repo" && pre-commit install-hooks)
echo "test-pre-commit: hook installed in $(($(date +%s) - start)) s"

echo "test-pre-commit: a clean folder passes"
if ! (cd "$repo" && pre-commit run --all-files); then
    echo "test-pre-commit: FAILED: the hook rejects the bundled templates" >&2
    exit 1
fi

echo "test-pre-commit: a broken folder fails, naming the problem"
printf '{\n    "error": "{{.Message}"\n}\n' >"$repo/templates/error.json"
set +e
out=$(cd "$repo" && pre-commit run --all-files 2>&1)
code=$?
set -e
printf '%s\n' "$out"
if [ "$code" -eq 0 ]; then
    echo "test-pre-commit: FAILED: the hook passes a template that does not parse" >&2
    exit 1
fi
if ! printf '%s' "$out" | grep -q 'parse-error'; then
    echo "test-pre-commit: FAILED: the hook's output does not name parse-error" >&2
    exit 1
fi

echo "test-pre-commit: a change to the broken file is caught by git commit too"
(cd "$repo" && pre-commit install >/dev/null)
git -C "$repo" add templates/error.json
if git -C "$repo" -c user.name=ci -c user.email=ci@localhost commit -qm "broken" >/dev/null 2>&1; then
    echo "test-pre-commit: FAILED: git commit accepted a broken template" >&2
    exit 1
fi
echo "test-pre-commit: 3 passed, 0 failed"
