#!/bin/sh
# Installs what the interoperability tests and the load benchmark need from
# Debian: nginx (tests/nginx.rs), wrk (benches/load.sh), and chromium with
# chromium-driver (tests/preview_browser.rs). Idempotent: does nothing when
# all are already there; runs `apt-get update` only when something is
# missing, and at most once.
set -eu

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
    echo "ci-deps: nginx, wrk, chromium and chromium-driver already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
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
# Debian's postinst may start a system nginx; the tests run their own.
case "$missing" in
*nginx*)
    if command -v service >/dev/null 2>&1; then
        $SUDO service nginx stop >/dev/null 2>&1 || true
    fi
    ;;
esac
echo "ci-deps: installed$missing"
