#!/usr/bin/env bash
# Headless Chromium (Debian's package) for the tests that open a page in a browser: the
# evidence pack's. Installed when missing, non-interactively, as root (or through sudo).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if ! sudo -n true 2>/dev/null; then
        echo "chromium is missing: install Debian's package chromium as root" >&2
        exit 1
    fi
    as_root=(sudo -n)
fi
echo "installing Debian's chromium for the browser tests" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
