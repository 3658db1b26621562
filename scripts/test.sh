#!/usr/bin/env bash
# Install Bantay and run the whole test suite (the command CI runs).
# Chromium (Debian package) is installed when missing and possible, for the one headless-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "==> installing Debian's chromium for the headless-browser test"
  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1)) \
    || echo "   chromium could not be installed: the browser test will be skipped"
fi
echo "==> running the tests"
exec .venv/bin/python -m pytest -q --durations=15 "$@"
