#!/usr/bin/env bash
# Install the Debian packages the test suite needs, but only those that are missing.
#
# Quiet (and fast) when everything is already installed. Must run as root to install.
# Daemons are never left running: the tests start their own throwaway instances
# (a system samba on port 389 would clash with them).
set -euo pipefail

# Without arguments: everything the tests need. With arguments: just those packages (e.g. `slapd ldap-utils`).
PACKAGES=(
    postgresql
    chromium
    slapd
    ldap-utils
    samba
    samba-ad-dc
    samba-ad-provision
    winbind
    krb5-user
)
if [[ $# -gt 0 ]]; then
    PACKAGES=("$@")
fi

# Init scripts of daemons these packages may start.
SERVICES=(postgresql slapd samba-ad-dc samba smbd nmbd winbind)

APT_OPTS=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)

is_installed() {
    local status
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]]
}

missing=()
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
    echo "ensure-test-deps: run this script as root (e.g. sudo $0) to install them." >&2
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
