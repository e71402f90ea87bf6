#!/usr/bin/env bash
# One command for a fresh machine: install everything the tests need (venv, pip packages, Debian's
# chromium for the browser tests, the npm OpenID Connect provider of the sign-in test), lint, then
# run the whole test suite. Extra args go to pytest.
set -euo pipefail
EXTRA=dev source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# Debian packages the tests use: chromium (browser tests), postgresql (the PostgreSQL runs) and,
# when there is no node yet, nodejs and npm (the OpenID Connect provider of the sign-in test).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian's ${missing[*]} for the tests" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The OpenID Connect provider of tests/ui/test_browser_oidc.py, from the npm registry as pinned by
# its package-lock.json (the test does the same when run on its own).
if [ ! -f tests/oidc/node_modules/.package-lock.json ] \
  || [ tests/oidc/package-lock.json -nt tests/oidc/node_modules/.package-lock.json ]; then
  echo "==> npm ci in tests/oidc" >&2
  (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

echo "==> ruff" >&2
ruff check .
ruff format --check .

echo "==> pytest" >&2
python -m pytest "$@"
