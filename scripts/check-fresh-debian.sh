#!/usr/bin/env bash
# The README's quick start on a newcomer's machine: a bare Debian 12 (bookworm) made by debootstrap --variant=minbase,
# plus only python3.11, make and git. In it, the current commit (HEAD) of this repository is cloned and:
#
#   1. `make demo`, as an ordinary user: must stop at once, naming the exact `sudo ...` command to run (the Debian
#      packages it lacks); that command is run as root, then `make demo` again as the user must serve
#      http://127.0.0.1:<free port>/health/ready (200) and the login page (ESS_PORT: the port is not 8000, so this also
#      shows mailed links follow the port). It is then stopped with SIGINT, as Ctrl-C would, and must leave no process.
#   2. `make test-deps` as root (installs the services and Chromium; needs the network), then `make test` as root in a
#      private network namespace (Samba AD's fixed ports cannot clash with other test runs on this machine).
#
# Usage, as root:  scripts/check-fresh-debian.sh [ROOT_DIR]        (default ROOT_DIR: var/fresh-debian in the repository)
#   KEEP_ROOT=1    keep ROOT_DIR afterwards (to look inside); by default it is deleted on exit, also on failure.
#   MIRROR=URL     the Debian mirror (default http://deb.debian.org/debian).
#
# Runs in CI after `make lint` and `make test` (.ci/run), and by hand (`make check-fresh-debian`). Measured on the
# project's 2-core machine: about 7 minutes (debootstrap 30 s, make demo serving 35 s after the packages, make test-deps
# 30 s, make test 5 min; 11 minutes under load from other work) and 2.5 GB in the root while it runs. CI's own machine
# has every package already: only this run notices a change that needs a new Debian package.
#
# The host needs debootstrap (installed with apt-get when missing), unshare, chroot and ip (iproute2). Everything runs
# in a private mount and PID namespace: the /proc, /sys, /dev and /dev/pts mounts of the root and every process started
# in it end with the script, even when it is killed; the trap unmounts and deletes the root on a normal or failed exit.
# Certificates in the host's /usr/local/share/ca-certificates (a site's own CA, e.g. a TLS-inspecting proxy) are copied
# into the root: without them it could reach no HTTPS package registry. Nothing else of the host's set-up is.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUITE=bookworm
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
NEWCOMER=newcomer
CLONE=/home/$NEWCOMER/ess
DEMO_READY_TIMEOUT_S=1800
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# What a newcomer's terminal emulator sets (the commands run without one; TERM=dumb would turn off rich's progress bar,
# which tests/integration/test_cli.py checks on a pseudo-terminal).
NEWCOMER_TERM=xterm-256color

say() { printf '\n=== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
    printf '\ncheck-fresh-debian: FAILED: %s\n' "$*" >&2
    exit 1
}

if [[ "$(id -u)" -ne 0 ]]; then
    echo "check-fresh-debian: must run as root (debootstrap, chroot, mounts): sudo $0 $*" >&2
    exit 1
fi

# Re-run inside a private mount and PID namespace (see the header).
if [[ -z "${ESS_FRESH_DEBIAN_NS:-}" ]]; then
    for tool in unshare chroot ip; do
        command -v "$tool" >/dev/null || fail "the host lacks $tool (util-linux, coreutils, iproute2)"
    done
    exec env ESS_FRESH_DEBIAN_NS=1 unshare --mount --propagation private --pid --fork --mount-proc -- bash "$0" "$@"
fi

ROOT="$(realpath -m "${1:-$REPO/var/fresh-debian}")"
[[ "$ROOT" != / && "$ROOT" != "$REPO" ]] || fail "refusing to use $ROOT as the root"
COMMIT="$(git -C "$REPO" rev-parse HEAD)"
LOGS="$REPO/var/fresh-debian-logs"  # kept after the run, replaced by the next one
rm -rf "$LOGS" && mkdir -p "$LOGS"
declare -a TIMINGS=()
demo_pid=""
started_at=$SECONDS

timed() {  # timed LABEL COMMAND...: run, record the seconds it took
    local label=$1 start=$SECONDS
    shift
    "$@"
    local status=$?
    TIMINGS+=("$(printf '%-46s %5d s' "$label" $((SECONDS - start)))")
    return $status
}

in_root() {  # in_root USER COMMAND...: a login-like clean environment inside the root, as USER
    local user=$1
    shift
    local home=/root
    [[ $user == root ]] || home=/home/$user
    chroot "$ROOT" /usr/sbin/runuser -u "$user" -- \
        env -i HOME="$home" USER="$user" LOGNAME="$user" PATH="$CHROOT_PATH" LANG=C.UTF-8 TERM="$NEWCOMER_TERM" "$@"
}

processes_in_root() {
    local proc
    for proc in /proc/[0-9]*; do
        if [[ "$(readlink "$proc/root" 2>/dev/null)" == "$ROOT" ]]; then
            echo "${proc#/proc/}"
        fi
    done
}

mounts_under_root() {
    awk -v root="$ROOT" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo
}

cleanup() {
    local status=$?
    set +e
    if [[ -n "$demo_pid" ]]; then
        kill -INT -- "-$demo_pid" 2>/dev/null
        for _ in $(seq 1 10); do
            kill -0 "$demo_pid" 2>/dev/null || break
            sleep 1
        done
    fi
    local pids
    pids="$(processes_in_root)"
    if [[ -n "$pids" ]]; then
        echo "check-fresh-debian: killing processes left in the root: $pids" >&2
        # shellcheck disable=SC2086 # one pid per word
        kill -KILL $pids 2>/dev/null
        sleep 1
    fi
    local mount
    for mount in $(mounts_under_root | sort -r); do
        umount "$mount" 2>/dev/null || umount -l "$mount"
    done
    if [[ -n "$(mounts_under_root)" ]]; then
        echo "check-fresh-debian: still mounted, $ROOT is NOT deleted: $(mounts_under_root | tr '\n' ' ')" >&2
    elif [[ "${KEEP_ROOT:-0}" == 1 ]]; then
        echo "check-fresh-debian: kept $ROOT (KEEP_ROOT=1)" >&2
    elif [[ -d "$ROOT" ]]; then
        rm -rf --one-file-system "$ROOT"
    fi
    echo
    echo "check-fresh-debian: timings (commit ${COMMIT:0:12}, $(nproc) cores)"
    printf '  %s\n' "${TIMINGS[@]}"
    printf '  %-46s %5d s\n' "total" $((SECONDS - started_at))
    echo "check-fresh-debian: logs in $LOGS"
    if [[ $status -eq 0 ]]; then
        echo "check-fresh-debian: PASSED"
    else
        echo "check-fresh-debian: FAILED (exit $status)"
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]]; then
    echo "check-fresh-debian: note: uncommitted changes are not part of the check; it tests commit $COMMIT" >&2
fi
if [[ -e "$ROOT" ]]; then
    [[ -z "$(mounts_under_root)" ]] || fail "$ROOT has mounts"
    rm -rf --one-file-system "$ROOT"
fi

# --- the newcomer's machine ------------------------------------------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    apt-get -qq update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -y -qq install debootstrap >/dev/null
fi

say "debootstrap --variant=minbase $SUITE into $ROOT"
mkdir -p "$ROOT"
timed "debootstrap (minbase)" \
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
    fail "debootstrap, see $LOGS/debootstrap.log"

# As a Debian installer leaves it: the release, its updates and security updates.
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
fi

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys" 2>/dev/null || mount --bind /sys "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"

say "the newcomer's packages: python3.11 make git (nothing recommended)"
timed "apt-get install python3.11 make git" in_root root bash -c \
    'apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -y -qq install --no-install-recommends python3.11 make git' \
    >"$LOGS/newcomer-packages.log" 2>&1 || fail "installing python3.11 make git, see $LOGS/newcomer-packages.log"

chroot "$ROOT" /usr/sbin/useradd --create-home --shell /bin/bash "$NEWCOMER"
git clone --quiet --no-checkout "$REPO" "$ROOT$CLONE"
git -C "$ROOT$CLONE" -c advice.detachedHead=false checkout --quiet "$COMMIT"
chroot "$ROOT" chown -R "$NEWCOMER:$NEWCOMER" "$CLONE"
echo "cloned $COMMIT into $CLONE"

# --- make demo -------------------------------------------------------------------------------------------------------
say "make demo as $NEWCOMER, before any package is added: must name the sudo command and stop"
status=0
in_root "$NEWCOMER" make -C "$CLONE" demo >"$LOGS/demo-unprivileged.log" 2>&1 || status=$?
cat "$LOGS/demo-unprivileged.log"
[[ $status -ne 0 ]] || fail "make demo without root and without python3.11-venv succeeded?"
hint="$(sed -n 's/^ *\(sudo bash scripts\/ensure-test-deps\.sh .*\)$/\1/p' "$LOGS/demo-unprivileged.log")"
[[ -n "$hint" ]] || fail "make demo stopped without naming a sudo command"

say "as root, the command it named: $hint"
# shellcheck disable=SC2086 # the words of the printed command
timed "the named sudo command (demo packages)" in_root root bash -c "cd $CLONE && ${hint#sudo }" \
    >"$LOGS/demo-packages.log" 2>&1 || fail "$hint, see $LOGS/demo-packages.log"

port="$(in_root root python3.11 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
say "ESS_PORT=$port make demo as $NEWCOMER, until /health/ready answers 200"
demo_start=$SECONDS
# Its own process group, and SIGINT not ignored (a script's background jobs ignore it), as in a terminal.
setsid env --default-signal=INT chroot "$ROOT" /usr/sbin/runuser -u "$NEWCOMER" -- \
    env -i HOME=/home/$NEWCOMER PATH="$CHROOT_PATH" LANG=C.UTF-8 TERM="$NEWCOMER_TERM" ESS_PORT="$port" \
    make -C "$CLONE" demo >"$LOGS/demo.log" 2>&1 &
demo_pid=$!
probe() {  # probe PATH: print the HTTP status; the body goes to $ROOT/tmp/probe.html
    in_root root python3.11 - "http://127.0.0.1:$port$1" /tmp/probe.html <<'PY' 2>>"$LOGS/probe.log" || echo 000
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as answer:
        body, status = answer.read(), answer.status
except urllib.error.HTTPError as error:
    body, status = error.read(), error.code
open(sys.argv[2], "wb").write(body)
print(status)
PY
}
until [[ "$(probe /health/ready)" == 200 ]]; do
    kill -0 "$demo_pid" 2>/dev/null || { tail -40 "$LOGS/demo.log"; fail "make demo exited before it served"; }
    ((SECONDS - demo_start < DEMO_READY_TIMEOUT_S)) || { tail -40 "$LOGS/demo.log"; fail "no 200 from /health/ready"; }
    sleep 2
done
TIMINGS+=("$(printf '%-46s %5d s' "make demo until /health/ready = 200" $((SECONDS - demo_start)))")
[[ "$(probe /login)" == 200 ]] || fail "GET /login did not answer 200"
if ! grep -q 'name="password"' "$ROOT/tmp/probe.html" || ! grep -q 'name="_csrf_token"' "$ROOT/tmp/probe.html"; then
    fail "the login page has no password field or CSRF token"
fi
echo "GET /health/ready: 200; GET /login: 200 with the login form"

say "stopping make demo with SIGINT (Ctrl-C)"
kill -INT -- "-$demo_pid"
for _ in $(seq 1 30); do
    kill -0 "$demo_pid" 2>/dev/null || break
    sleep 1
done
kill -0 "$demo_pid" 2>/dev/null && fail "make demo still runs 30 s after SIGINT"
wait "$demo_pid" || true
demo_pid=""
sleep 1
[[ -z "$(processes_in_root)" ]] || fail "processes left after make demo stopped: $(processes_in_root)"
echo "stopped; no process left"
tail -5 "$LOGS/demo.log"

# --- make test -------------------------------------------------------------------------------------------------------
say "make test-deps as root (the Debian packages the suite needs; network)"
timed "make test-deps (apt-get: services, Chromium)" in_root root make -C "$CLONE" test-deps \
    >"$LOGS/test-deps.log" 2>&1 || { tail -40 "$LOGS/test-deps.log"; fail "make test-deps"; }
tail -5 "$LOGS/test-deps.log"

say "make test as root, in a private network namespace"
status=0
timed "make test (private network namespace)" unshare --net -- bash -c \
    'ip link set lo up && exec "$@"' _ chroot "$ROOT" /usr/sbin/runuser -u root -- \
    env -i HOME=/root PATH="$CHROOT_PATH" LANG=C.UTF-8 TERM="$NEWCOMER_TERM" make -C "$CLONE" test \
    >"$LOGS/test.log" 2>&1 || status=$?
grep -E '^(FAILED|ERROR) ' "$LOGS/test.log" | head -40 || true
summary="$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "$LOGS/test.log" | tail -1 | sed 's/^=* //; s/ =*$//' || true)"
echo "make test: ${summary:-no pytest summary line} (exit $status)"
TIMINGS+=("$(printf '%-46s %s' "  pytest says" "${summary:-nothing}")")
TIMINGS+=("$(printf '%-46s %s' "size of the root (system, venv, packages)" "$(du -sh --one-file-system "$ROOT" | cut -f1)")")
[[ $status -eq 0 ]] || { tail -30 "$LOGS/test.log"; fail "make test exited $status"; }
