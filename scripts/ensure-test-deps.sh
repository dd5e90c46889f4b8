#!/usr/bin/env bash
# Install the Debian packages ESS needs on this machine, but only those that are missing.
#
#   scripts/ensure-test-deps.sh --demo          what `make install` / `make demo` need on a bare Debian 12: venv support
#                                               for the Python that runs ESS (python3.11-venv: ensurepip) and CA certificates
#   scripts/ensure-test-deps.sh --integration   --demo + the services the integration tests start themselves
#                                               (PostgreSQL, slapd, Samba AD DC, Redis) and the openssl command (test certificates)
#   scripts/ensure-test-deps.sh --e2e           --integration + headless Chromium and libatomic1 (Playwright's driver)
#   scripts/ensure-test-deps.sh [--test]        everything the whole suite needs (the default)
#   scripts/ensure-test-deps.sh PACKAGE...      just those packages (e.g. `slapd ldap-utils` for make demo-ldap)
#
# Quiet (and fast) when everything is already there. Must run as root to install; otherwise it prints the exact
# command to run and exits 1. Daemons are never left running: the tests start their own throwaway instances
# (a system samba on port 389 would clash with them).
set -euo pipefail

# The interpreter ESS's virtual environment is made from (the Makefile passes its PYTHON).
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3 || true)}"

# libkrb5-dev and gcc: python-gssapi (Windows integrated login) builds against MIT Kerberos.
DEMO_PACKAGES=(ca-certificates libkrb5-dev gcc)
INTEGRATION_PACKAGES=(
    openssl
    postgresql
    slapd
    ldap-utils
    samba
    samba-ad-dc
    samba-ad-provision
    winbind
    krb5-user
    redis-server
)
# Playwright's bundled node driver links libatomic.so.1, which Debian's chromium does not pull in.
E2E_PACKAGES=(chromium libatomic1)

with_python=0
PACKAGES=()
case "${1:-}" in
    --demo)
        with_python=1
        PACKAGES=("${DEMO_PACKAGES[@]}")
        ;;
    --integration)
        with_python=1
        PACKAGES=("${DEMO_PACKAGES[@]}" "${INTEGRATION_PACKAGES[@]}")
        ;;
    --e2e | --test | "")
        with_python=1
        PACKAGES=("${DEMO_PACKAGES[@]}" "${INTEGRATION_PACKAGES[@]}" "${E2E_PACKAGES[@]}")
        ;;
    -*)
        echo "usage: $0 [--demo | --integration | --e2e | --test | PACKAGE...]" >&2
        exit 2
        ;;
    *)
        PACKAGES=("$@")
        ;;
esac

# Init scripts of daemons these packages may start.
SERVICES=(postgresql slapd samba-ad-dc samba smbd nmbd winbind redis-server)

APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

is_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

missing=()

# `python3.11 -m venv` needs ensurepip, which Debian ships apart from the interpreter (python3.X-venv). Without it
# the venv is left half-made. Judged by what the interpreter can do, so a Python from elsewhere (pyenv) needs nothing.
if [[ $with_python -eq 1 ]]; then
    if [[ -z "$PYTHON" ]]; then
        missing+=(python3.11 python3.11-venv python3.11-dev)
    elif ! "$PYTHON" -c '' >/dev/null 2>&1; then
        echo "ensure-test-deps: the Python to make the virtual environment with, '$PYTHON', does not run." >&2
        exit 1
    elif ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
        version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        case "$(readlink -f "$(command -v "$PYTHON")")" in
            /usr/bin/python3*) missing+=("python${version}-venv") ;;
            *)
                echo "ensure-test-deps: $PYTHON has no ensurepip module, so it cannot make a virtual environment;" >&2
                echo "ensure-test-deps: use Debian's python3.11 (make PYTHON=/usr/bin/python3.11 ...) or repair that Python." >&2
                exit 1
                ;;
        esac
    fi
    # python-gssapi has no wheel for Linux: it is built against the interpreter's headers (Python.h), which Debian
    # ships apart from the interpreter (python3.X-dev).
    if [[ -n "$PYTHON" ]] && "$PYTHON" -c '' >/dev/null 2>&1; then
        include="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
        if [[ ! -f "$include/Python.h" ]]; then
            version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
            case "$(readlink -f "$(command -v "$PYTHON")")" in
                /usr/bin/python3*) missing+=("python${version}-dev") ;;
            esac
        fi
    fi
fi

for pkg in "${PACKAGES[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "ensure-test-deps: missing Debian packages: ${missing[*]}" >&2
    echo "ensure-test-deps: installing them needs root; run this, then the same make command again:" >&2
    echo "" >&2
    echo "    sudo bash $0 ${missing[*]}" >&2
    echo "" >&2
    exit 1
fi

echo "ensure-test-deps: installing ${missing[*]}" >&2

export DEBIAN_FRONTEND=noninteractive
export DEBCONF_NONINTERACTIVE_SEEN=true

# Forbid maintainer scripts from starting daemons during the install (the standard
# Debian mechanism). Only add our own policy if none exists; remove it afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
    if [[ $own_policy -eq 1 ]]; then
        rm -f "$policy"
    fi
}
trap cleanup EXIT
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# added by ensure-test-deps.sh for the duration of an install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
fi

# krb5-user (via krb5-config) asks for a default realm and servers: preseed empty answers.
if command -v debconf-set-selections >/dev/null 2>&1; then
    debconf-set-selections <<'SEL'
krb5-config krb5-config/default_realm string
krb5-config krb5-config/kerberos_servers string
krb5-config krb5-config/admin_server string
krb5-config krb5-config/add_servers_realm string
krb5-config krb5-config/add_servers boolean false
krb5-config krb5-config/read_conf boolean true
SEL
fi

apt-get "${APT_OPTS[@]}" update -qq >/dev/null
apt-get "${APT_OPTS[@]}" install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null

# Belt and braces: if some package started its system daemon anyway, stop it through
# its own init script (which only targets the system instance's pid file, never the
# private instances the tests run).
if [[ -x /usr/sbin/service ]]; then
    for svc in "${SERVICES[@]}"; do
        if [[ -x "/etc/init.d/$svc" ]]; then
            /usr/sbin/service "$svc" stop >/dev/null 2>&1 || true
        fi
    done
fi

echo "ensure-test-deps: done" >&2
