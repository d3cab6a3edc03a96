#!/usr/bin/env bash
# The local backend's confinement as an unprivileged user (a TA's laptop): the adversarial
# suite and the confinement tests again, run by a user this script creates. Run as root
# (CI is); elsewhere it says why it skips. The venv's Python must be reachable by that
# user: folders on its way that others cannot search (a 0700 /root holding pyenv) get
# search permission (o+x) for the run, and lose it again at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
USER_NAME="${AUTOGRADER_TEST_USER:-agtest}"
note() { echo "tests/as-user.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    note "not root: the non-root run needs a user to create; skipped (run the suite itself as your user)"
    exit 0
fi
id "$USER_NAME" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$USER_NAME" || exit 1
python="$(readlink -f .venv/bin/python)"
opened=()
dir="$(dirname "$python")"
while [ "$dir" != "/" ]; do
    if [ "$(( $(stat -c '%a' "$dir" | sed 's/^.*\(.\)$/\1/') & 1 ))" = 0 ]; then
        chmod o+x "$dir" && opened+=("$dir")
    fi
    dir="$(dirname "$dir")"
done
restore() { for d in "${opened[@]}"; do chmod o-x "$d"; done; }
trap restore EXIT
work="$(mktemp -d /tmp/autograder-as-user-XXXXXX)"
chown "$USER_NAME" "$work"
status=0
# Twice: with the user namespaces the kernel allows here, and as where it does not (Ubuntu's
# default for unprivileged users): Landlock, seccomp and the rlimits alone. The two runs are
# independent (folders of their own), so they run side by side; each one's log is shown whole.
run() {
    runuser -u "$USER_NAME" -- env -i PATH=/usr/bin:/bin HOME="$work" TMPDIR="$work" CI="${CI:-1}" \
        AUTOGRADER_NO_NAMESPACES="$([ "$1" = refused ] && echo 1 || echo 0)" \
        .venv/bin/python -m pytest -p no:cacheprovider -ra --basetemp="$work/pytest-$1" -m "not docker" \
        tests/test_adversarial.py tests/test_local_confinement.py > "$work/log-$1" 2>&1
}
declare -A pids
for namespaces in allowed refused; do
    note "running the local adversarial suite as $USER_NAME (uid $(id -u "$USER_NAME")), namespaces $namespaces"
    run "$namespaces" &
    pids[$namespaces]=$!
done
for namespaces in allowed refused; do
    wait "${pids[$namespaces]}" || status=1
    note "namespaces $namespaces:"
    cat "$work/log-$namespaces"
done
rm -rf "$work"
exit "$status"
