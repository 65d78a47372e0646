#!/usr/bin/env bash
# Builds and proves the container image where no image registry is
# reachable: a Debian rootfs from debootstrap, `docker import`ed as the
# runtime base and (with the host's Rust toolchain copied in) as the builder
# base, then `docker build` with those bases and vendored crates, then a run
# that shows the HEALTHCHECK turning healthy, the non-root user, a render
# from a mounted /templates, and a reload after editing it. Needs root, a
# running dockerd, debootstrap and rustc.
#
#   scripts/container.sh            # everything; reuses what is already built
#   IMAGE=error-render:dev scripts/container.sh
#
# Big artifacts (rootfs, logs) go to $CONTAINER_BUILD_DIR, outside the repo.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${CONTAINER_BUILD_DIR:-/work/container-build}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_image=error-render/debian-base:$suite
builder_image=error-render/rust-builder:$suite
image=${IMAGE:-error-render:local}
path_env='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

step() { printf '\n==> %s\n' "$*"; }
mkdir -p "$work"
docker info >/dev/null 2>&1 || { echo "no docker daemon answers" >&2; exit 2; }

if [ ! -f "$work/rootfs-base/etc/debian_version" ]; then
    step "debootstrap $suite (minbase) into $work/rootfs-base"
    debootstrap --variant=minbase "$suite" "$work/rootfs-base" "$mirror"
fi

if ! docker image inspect "$base_image" >/dev/null 2>&1; then
    step "import the runtime base $base_image (docs, man pages, apt lists left out)"
    tar -C "$work/rootfs-base" --numeric-owner \
        --exclude=./usr/share/doc/* --exclude=./usr/share/man/* \
        --exclude=./usr/share/locale/* --exclude=./var/cache/apt/* \
        --exclude=./var/lib/apt/lists/* -c . |
        docker import --change "ENV $path_env" --change 'CMD ["/bin/bash"]' - "$base_image"
fi

if ! docker image inspect "$builder_image" >/dev/null 2>&1; then
    step "builder rootfs: the base plus gcc and the host's Rust toolchain"
    rm -rf "$work/rootfs-builder"
    cp -a "$work/rootfs-base" "$work/rootfs-builder"
    cp /etc/resolv.conf "$work/rootfs-builder/etc/resolv.conf"
    mount -t proc proc "$work/rootfs-builder/proc"
    trap 'umount "$work/rootfs-builder/proc" 2>/dev/null || true' EXIT
    chroot "$work/rootfs-builder" /usr/bin/env -i "$path_env" DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null && apt-get clean'
    umount "$work/rootfs-builder/proc"
    trap - EXIT
    # The toolchain the host builds with (rustup's sysroot), without its
    # docs and sources: rustc, cargo and the std library are enough.
    sysroot=$(rustc --print sysroot)
    mkdir -p "$work/rootfs-builder/usr/local/rust"
    tar -C "$sysroot" --exclude=./lib/rustlib/src --exclude=./share -c ./bin ./lib ./libexec |
        tar -C "$work/rootfs-builder/usr/local/rust" -x
    tar -C "$work/rootfs-builder" --numeric-owner -c . |
        docker import --change "ENV PATH=/usr/local/rust/bin:${path_env#PATH=}" \
            --change 'CMD ["/bin/bash"]' - "$builder_image"
fi

step "stage an offline build context in $work/context (cargo vendor)"
# cargo inside the builder has no crates.io (no network, no registry CA):
# the crates come vendored from the host, which fetched them already.
rm -rf "$work/context"
mkdir -p "$work/context/.cargo"
(cd "$repo" && git ls-files --cached --others --exclude-standard -z |
    grep -zE '^(Cargo\.toml|Cargo\.lock|\.dockerignore|Dockerfile|benches/|data/|src/|templates/)' |
    xargs -0 cp --parents -t "$work/context")
(cd "$repo" && cargo vendor --locked --versioned-dirs "$work/context/vendor" >/dev/null 2>"$work/vendor.log") ||
    { tail -5 "$work/vendor.log"; exit 1; }
cat >"$work/context/.cargo/config.toml" <<'TOML'
[source.crates-io]
replace-with = "vendored-sources"
[source.vendored-sources]
directory = "vendor"
TOML
echo "context: $(du -sh "$work/context" | cut -f1)"

step "docker build $image (builder $builder_image, runtime $base_image)"
# The legacy builder: BuildKit is not part of Debian's docker.io 20.10.
started=$(date +%s)
DOCKER_BUILDKIT=0 docker build --network none \
    --build-arg BUILDER_IMAGE="$builder_image" \
    --build-arg RUNTIME_IMAGE="$base_image" \
    -t "$image" "$work/context" >"$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; exit 1; }
echo "built in $(($(date +%s) - started)) s (log: $work/build.log)"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
    grep -E "^($image|$base_image|$builder_image) "

step "prove it: healthcheck, user, mounted templates, a render"
templates=$(mktemp -d)
chmod 755 "$templates"
printf '{"error": "{{.Message}}", "from": "mounted"}' >"$templates/error.json"
printf '<error from="mounted">{{.Message}}</error>' >"$templates/error.xml"
chmod 644 "$templates"/*
name=error-render-proof-$$
port=${PROOF_PORT:-18080}
cleanup() { docker rm -f "$name" "$name-http" >/dev/null 2>&1 || true; rm -rf "$templates"; }
trap cleanup EXIT

# The image's own HEALTHCHECK, untouched, in a container without a network
# (its loopback is enough for the probe).
docker run -d --name "$name" --network none -v "$templates:/templates:ro" "$image" >/dev/null
deadline=$(($(date +%s) + 60))
health=starting
while [ "$(date +%s)" -lt "$deadline" ]; do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [ "$health" = healthy ] || [ "$health" = unhealthy ] && break
    sleep 1
done
echo "HEALTHCHECK status: $health"
echo "user in the container: $(docker exec "$name" id)"
echo "healthcheck probe log: $(docker inspect -f '{{range .State.Health.Log}}exit {{.ExitCode}} {{end}}' "$name")"
[ "$health" = healthy ]

# `healthcheck` fails when nothing answers.
if docker run --rm --network none --entrypoint error-render "$image" healthcheck 2>/dev/null; then
    echo "healthcheck succeeded with no server" >&2
    exit 1
fi
echo "healthcheck with no server: fails, as it should"

# A render over HTTP from the mounted templates (host network, another port).
docker run -d --name "$name-http" --network host -e ERROR_RENDER_LISTEN="127.0.0.1:$port" \
    -v "$templates:/templates:ro" "$image" >/dev/null
deadline=$(($(date +%s) + 30))
until curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { docker logs "$name-http"; exit 1; }
    sleep 0.2
done
body=$(curl -sS "http://127.0.0.1:$port/render/404?message=Not%20here")
echo "GET /render/404: $body"
[ "$body" = '{"error": "Not here", "from": "mounted"}' ]

# An edit on the host reaches the container through the mount and reloads.
printf '{"error": "{{.Message}}", "from": "edited"}' >"$templates/error.json.new"
mv "$templates/error.json.new" "$templates/error.json"
deadline=$(($(date +%s) + 10))
until [ "$(curl -sS "http://127.0.0.1:$port/render/404?message=Not%20here")" = '{"error": "Not here", "from": "edited"}' ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no reload seen in the container" >&2; exit 1; }
    sleep 0.1
done
echo "after editing the mounted error.json: $(curl -sS "http://127.0.0.1:$port/render/404?message=Not%20here")"
echo "container proof: ok"
