#!/usr/bin/env bash
# Install Bantay and run the whole test suite (the command CI runs).
# Chromium (Debian package) is installed when missing, for the headless-browser tests; the run stops when it
# cannot be (the browser tests never skip in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "==> installing Debian's chromium for the headless-browser test"
  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
    || { echo "test: error: chromium could not be installed (apt-get install -y chromium); the browser tests need it" >&2; exit 1; }
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "test: error: /usr/bin/chromium is missing (apt-get install -y chromium, as root); the browser tests need it" >&2
  exit 1
fi
echo "==> running the tests"
exec .venv/bin/python -m pytest -q --durations=30 "$@"
