#!/usr/bin/env bash
# One command for a fresh machine: install everything the tests need (venv, pip packages, Debian's
# chromium for the browser tests), lint, then run the whole test suite. Extra args go to pytest.
set -euo pipefail
EXTRA=dev source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# Debian packages the tests use: chromium (browser tests) and postgresql (the PostgreSQL runs).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian's ${missing[*]} for the tests" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "==> ruff" >&2
ruff check .
ruff format --check .

echo "==> pytest" >&2
python -m pytest "$@"
