#!/usr/bin/env bash
# One command for a fresh machine: install, then start the local session service and the web app.
# Extra arguments go to `shoe-assistant up` (e.g. --port 8502).
set -euo pipefail
EXTRA="" source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec shoe-assistant up "$@"
