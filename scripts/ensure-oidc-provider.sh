#!/usr/bin/env bash
# The OpenID provider the single sign-on tests sign in through (tests/harness/oidc.py): panva's certified
# oidc-provider, installed with `npm ci` from tests/harness/oidc_provider/package-lock.json when missing.
# Needs Node.js 20.19 or later and npm (Debian 12's nodejs is 18: use NodeSource or nvm). Quiet when installed.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/harness/oidc_provider"
if [[ -d "$dir/node_modules/oidc-provider" ]]; then
    exit 0
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "ensure-oidc-provider: Node.js (20.19 or later) and npm are needed for the single sign-on tests" >&2
    exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "ensure-oidc-provider: Node.js $(node --version) is too old; oidc-provider 9 needs 20.19 or later" >&2
    exit 1
fi
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
