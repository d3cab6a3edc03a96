#!/usr/bin/env bash
# The service's tests (tests/service/) start a throwaway PostgreSQL cluster of their own (initdb and
# pg_ctl, as an unprivileged user, on a unix socket). Installs Debian's postgresql server when it is
# missing and we are root; elsewhere says why not (the tests then skip, or fail where CI is set).
set -euo pipefail
note() { echo "tests/ensure-postgres.sh: $*"; }

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    note "PostgreSQL's server already installed: $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | tr '\n' ' ')"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    note "PostgreSQL's server is missing and we are not root: nothing installed (as root: apt-get install postgresql)"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show postgresql >/dev/null 2>&1; then
    apt-get update -qq
fi
note "apt-get install -y --no-install-recommends postgresql"
apt-get install -y -qq --no-install-recommends postgresql || { apt-get update -qq; apt-get install -y -qq --no-install-recommends postgresql; }
# Debian starts a cluster of its own on install where it can; the tests never use it.
note "installed: $(ls -d /usr/lib/postgresql/*/)"
