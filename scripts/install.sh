#!/usr/bin/env bash
# Install Bantay into ./.venv from the committed lock file (Python 3.11; needs only the package registries).
# Idempotent: a second run only checks. Set PYTHON=/path/to/python3.11 to choose the interpreter.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

python_311() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3 python; do
        [ -n "${candidate}" ] || continue
        if command -v "${candidate}" >/dev/null 2>&1 &&
            "${candidate}" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            command -v "${candidate}"
            return 0
        fi
    done
    return 1
}

PY311="$(python_311)" || { echo "install: error: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
if command -v uv >/dev/null 2>&1; then
    UV=(uv)
else
    if ! "${PY311}" -m uv --version >/dev/null 2>&1; then
        echo "==> installing uv (the installer that wrote requirements.lock)"
        "${PY311}" -m pip install --quiet --user uv || "${PY311}" -m pip install --quiet uv
    fi
    UV=("${PY311}" -m uv)
fi
if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with Python 3.11"
    "${UV[@]}" venv --quiet --python "${PY311}" .venv
fi
echo "==> installing the locked dependencies (requirements.lock) and Bantay into .venv"
# --compile-bytecode: write every package's .pyc now. Where PYTHONDONTWRITEBYTECODE is set (as on our CI
# machines) nothing else ever writes them, and every Python process (each command, Airflow task and Spark
# worker) would compile pandas, pyspark, MLflow and GX again: twice the CPU of each start (measured: 14-17 s
# of user time to import the stack without them, 6-8 s with).
"${UV[@]}" pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements.lock
# The editable install maps jobs/, features/ and models/ into bantay.*; it is cheap (--no-deps), so always redo it.
# (Checking `import bantay` from this folder would find ./bantay on sys.path and wrongly skip it.)
"${UV[@]}" pip install --quiet --python .venv/bin/python --no-deps -e .
echo "==> installed bantay $(.venv/bin/bantay version) in ${ROOT}/.venv"
