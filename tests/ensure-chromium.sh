#!/usr/bin/env bash
# The feedback page's layout tests (pytest marker "browser") open pages in headless Chromium.
# Installs Debian's chromium when it is missing and we are root; elsewhere says why not (the
# tests then skip, or fail where CI is set).
set -euo pipefail
note() { echo "tests/ensure-chromium.sh: $*"; }

if command -v chromium >/dev/null 2>&1; then
    note "chromium already installed: $(chromium --version 2>/dev/null || command -v chromium)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    note "chromium is missing and we are not root: nothing installed (as root: apt-get install chromium)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh image has no package lists; stale ones may name files the mirror no longer has.
if ! apt-cache show chromium >/dev/null 2>&1; then
    note "package lists do not know chromium: apt-get update"
    apt-get update -qq
fi
note "apt-get install -y --no-install-recommends chromium"
if ! apt-get install -y -qq --no-install-recommends chromium; then
    note "install failed; apt-get update and once more"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium
fi
note "installed: $(chromium --version 2>/dev/null || command -v chromium)"
