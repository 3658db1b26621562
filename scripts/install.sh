#!/usr/bin/env bash
# Install Bantay into ./.venv from the committed lock file (Python 3.11; needs only the package registries).
# Usage: scripts/install.sh            (idempotent: a second run only checks)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! command -v uv >/dev/null 2>&1 && [ ! -x .venv/bin/uv ]; then
  echo "==> installing uv (the resolver/installer that wrote requirements.lock)"
  "$PYTHON" -m pip install --quiet --user uv 2>/dev/null || "$PYTHON" -m pip install --quiet uv
fi
UV=$(command -v uv || true)
[ -n "$UV" ] || UV="$("$PYTHON" -m site --user-base)/bin/uv"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$UV" venv --quiet --python "$PYTHON" .venv
fi
echo "==> installing the locked dependencies (requirements.lock)"
"$UV" pip install --quiet --python .venv/bin/python -r requirements.lock
"$UV" pip install --quiet --python .venv/bin/python --no-deps -e .
.venv/bin/bantay version >/dev/null
echo "==> installed: $(.venv/bin/bantay version) in $(pwd)/.venv"
