#!/usr/bin/env bash
# Creates .venv (if needed) and installs the project into it. Sourced by run.sh and test.sh.
# Usage: EXTRA=dev source scripts/bootstrap.sh   (EXTRA: optional extras, e.g. `dev` for tests)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXTRA="${EXTRA:-}"
cd "$ROOT"
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv" >&2
  "$PYTHON" -m venv .venv
fi
STAMP=".venv/.installed${EXTRA:+-$EXTRA}"
if [ ! -f "$STAMP" ] || [ -n "$(find pyproject.toml libs -maxdepth 2 -name pyproject.toml -newer "$STAMP")" ]; then
  echo "==> installing the project${EXTRA:+ with [$EXTRA]} into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  # The libraries in libs/ first (editable), so the project's dependencies on them resolve here.
  .venv/bin/python -m pip install -q \
    -e libs/bedrock-sessions-local -e libs/langgraph-checkpoint-bedrock-sessions \
    -e ".${EXTRA:+[$EXTRA]}" >&2
  touch "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
