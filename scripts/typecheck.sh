#!/usr/bin/env bash
# Strict mypy over the installed layout: jobs/, features/ and models/ are the packages bantay.jobs,
# bantay.features and bantay.models (setup.cfg package_dir), a mapping mypy cannot read. So the check runs in a
# temporary tree of symbolic links laid out as installed (bantay/, bantay/jobs -> jobs/, ...; dags/ beside it),
# with setup.cfg's [mypy] settings. Paths in messages are printed as they are in this repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MYPY="${ROOT}/.venv/bin/mypy"
[ -x "${MYPY}" ] || { echo "typecheck: error: ${MYPY} is missing (run scripts/install.sh)" >&2; exit 2; }
TREE="$(mktemp -d)"
trap 'rm -rf "${TREE}"' EXIT
mkdir "${TREE}/bantay"
for entry in "${ROOT}"/bantay/*; do
    ln -s "${entry}" "${TREE}/bantay/"
done
for package in jobs features models; do
    ln -s "${ROOT}/${package}" "${TREE}/bantay/${package}"
done
ln -s "${ROOT}/dags" "${TREE}/dags"
cd "${TREE}"
set +e
"${MYPY}" --config-file "${ROOT}/setup.cfg" --cache-dir "${ROOT}/.mypy_cache" bantay dags "$@" \
    | sed -E 's#^bantay/(jobs|features|models)/#\1/#'
status=${PIPESTATUS[0]}
exit "${status}"
