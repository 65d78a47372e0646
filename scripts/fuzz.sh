#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for a bounded time, one after
# another, outside CI: scripts/fuzz.sh [seconds-per-target] [target...]
#
# Seeds come from the conformance sets and fixtures (fuzz/seed.py). libFuzzer
# runs in fork mode so a finding does not end the run: a panic, a render
# slower than 5 s (-timeout) or more than 512 MB resident (-rss_limit_mb) is
# saved under fuzz/artifacts/<target>/ and the run goes on. Reproduce one with
# `cargo +nightly fuzz run <target> <artifact>`. Exits 1 when a target left
# a new artifact. Uses nightly with AddressSanitizer (FUZZ_SANITIZER=none:
# without, several times faster); without nightly, stable with `-s none`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-180}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(render_template overrides config http_headers)
fi

if ! command -v cargo-fuzz >/dev/null; then
    echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
    sanitizer=(-s "${FUZZ_SANITIZER:-address}")
else
    echo "no nightly toolchain: stable, without a sanitizer" >&2
    fuzz=(cargo fuzz)
    sanitizer=(-s none)
fi

python3 fuzz/seed.py
"${fuzz[@]}" build -O "${sanitizer[@]}"

# AddressSanitizer's quarantine (256 MB by default) counts towards the RSS
# limit; with it, a fork job's RSS passes 512 MB on ordinary inputs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32}

declare -A dict=([render_template]=gotmpl [overrides]=config [config]=config [http_headers]=http)
logs=$(mktemp -d)
found=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    echo "==> $t for ${seconds}s"
    "${fuzz[@]}" run -O "${sanitizer[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=512 \
        -dict="fuzz/dict/${dict[$t]}.dict" \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        >"$logs/$t.log" 2>&1 || true
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    # Fork mode reports the total executions on its last status line.
    stats=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1 || true)
    echo "    ${stats:-no status line; see $logs/$t.log}"
    echo "    corpus $(find "fuzz/corpus/$t" -type f | wc -l) inputs; new artifacts $((after - before))"
    if [ "$after" -gt "$before" ]; then
        found=1
        find "fuzz/artifacts/$t" -type f -newer "$logs" | sed 's/^/    /'
    fi
done
echo "logs: $logs"
exit "$found"
