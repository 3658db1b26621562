#!/usr/bin/env bash
# Bantay end to end on a synthetic ledger, on one machine:
#   1. a virtualenv (.venv, with uv) holding the locked dependencies and Bantay itself;
#   2. a synthetic ledger (8,000 customers x 120 days, seed 7) under demo/ledger;
#   3. validate, features, train and promote a first model as of a cut-off four weeks before the last day;
#   4. the Airflow DAG `bantay_daily` for the day after the last booking day (`airflow dags test`, SQLite
#      metadata DB under demo/airflow), which validates the new days, advances the features, scores with the
#      champion model and drafts the SARs (the draft job loads the day's cases into the case store);
#   5. the investigators' workbench: demo users and the day's cases in the case store, and the command that
#      serves it (the script itself exits).
# Safe to rerun: finished steps are kept (the ledger, the first model), the daily run replaces its own output.
#
# Knobs (environment): DEMO_CUSTOMERS, DEMO_DAYS, DEMO_SEED, DEMO_END_DATE, DEMO_CUTOFF_DAYS, BANTAY_DEMO_DIR,
# DEMO_PASSWORD (the demo users' password), PYTHON (an interpreter for Python 3.11 used to create .venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

CUSTOMERS="${DEMO_CUSTOMERS:-8000}"
DAYS="${DEMO_DAYS:-120}"
SEED="${DEMO_SEED:-7}"
END_DATE="${DEMO_END_DATE:-2025-06-30}"   # fixed, so that a rerun tomorrow finds the same ledger
CUTOFF_DAYS="${DEMO_CUTOFF_DAYS:-28}"     # the first model is trained as of END_DATE + 1 - CUTOFF_DAYS
STARTED=${SECONDS}

say() { printf '==> [%02d:%02d] %s\n' $(((SECONDS - STARTED) / 60)) $(((SECONDS - STARTED) % 60)) "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# Run a command with its output in a log file; on failure show the end of the log.
logged() {
    local name="$1"; shift
    local log="${LOGS}/${name}.log"
    if ! "$@" >"${log}" 2>&1; then
        tail -n 40 "${log}" >&2
        die "${name} failed; full log: ${log}"
    fi
}

# --- 1. Python environment ---------------------------------------------------------------------------------
say "installing (scripts/install.sh)"
"${ROOT}/scripts/install.sh"

# shellcheck source=scripts/airflow_env.sh
source "${ROOT}/scripts/airflow_env.sh"
DEMO="${BANTAY_DEMO_DIR}"
LOGS="${DEMO}/logs"
mkdir -p "${DEMO}" "${LOGS}" "${AIRFLOW_HOME}"
PY="${ROOT}/.venv/bin/python"
export BANTAY_LOG_LEVEL="${BANTAY_LOG_LEVEL:-INFO}"
# The demo files carry the demo institution (TIN 000000000, test TCC, no goAML id): say so explicitly.
export BANTAY_DEMO=1

RUN_DATE="$("${PY}" -c 'import sys, datetime as d; print(d.date.fromisoformat(sys.argv[1]) + d.timedelta(days=1))' "${END_DATE}")"
CUTOFF="$("${PY}" -c 'import sys, datetime as d; print(d.date.fromisoformat(sys.argv[1]) - d.timedelta(days=int(sys.argv[2])))' "${RUN_DATE}" "${CUTOFF_DAYS}")"

# --- 2. Synthetic ledger -----------------------------------------------------------------------------------
LEDGER_ID="customers=${CUSTOMERS} days=${DAYS} seed=${SEED} end=${END_DATE}"
if [ -f "${DEMO}/ledger.done" ] && [ "$(cat "${DEMO}/ledger.done")" = "${LEDGER_ID}" ]; then
    say "ledger already generated (${LEDGER_ID})"
else
    say "generating the synthetic ledger (${LEDGER_ID})"
    # A different ledger invalidates everything derived from the old one.
    rm -rf "${DEMO}/ledger.done" "${DEMO}/ledger" "${DEMO}/truth" "${DEMO}/out" "${DEMO}/airflow"
    mkdir -p "${AIRFLOW_HOME}"
    logged generate .venv/bin/bantay generate --out "${BANTAY_LEDGER_ROOT}" --customers "${CUSTOMERS}" \
        --days "${DAYS}" --seed "${SEED}" --end-date "${END_DATE}" --truth "${DEMO}/truth"
    echo "${LEDGER_ID}" >"${DEMO}/ledger.done"
fi

# --- 3. First model ----------------------------------------------------------------------------------------
say "first model: validate, features, train and promote as of ${CUTOFF} (skipped when a champion exists)"
"${PY}" - "${CUTOFF}" <<'PYTHON' 2>"${LOGS}/first_model.log" || { tail -n 40 "${LOGS}/first_model.log" >&2; die "first model failed"; }
import sys
import time
from datetime import date

from bantay import log, settings
from bantay.jobs import build_features, validate_ledger
from bantay.models import registry, train

log.configure()
cutoff = date.fromisoformat(sys.argv[1])
config = settings.load()
if registry.has_champion(config):
    print("    a champion model is already registered: nothing to do", flush=True)
    raise SystemExit(0)
for name, step in (
    ("validate", lambda: validate_ledger.run(config, cutoff)),
    ("features", lambda: build_features.run(config, cutoff)),
    ("train + promotion gate", lambda: train.run(config, cutoff, promote=True)),
):
    print(f"    {name} as of {cutoff} ...", flush=True)
    started = time.monotonic()
    result = step()
    print(f"    {name}: done in {time.monotonic() - started:.0f} s", flush=True)
print(f"    trained {result['model_uri']} on labels decided before {cutoff}", flush=True)
print(f"    promotion gate: {result['promotion']['reason']}", flush=True)
if not registry.has_champion(config):
    # The daily DAG scores with the champion; a demo without one would stop there.
    forced = registry.promote(config, version=result["version"], force=True)
    print(f"    promoted version {forced['version']} by force so that the demo can score", flush=True)
PYTHON

# --- 4. The daily DAG through Airflow ----------------------------------------------------------------------
say "Airflow metadata DB (${AIRFLOW_HOME})"
logged airflow_db_migrate airflow db migrate
logged airflow_pool airflow pools set bantay_spark 1 "Bantay Spark jobs: one at a time on this machine"

say "airflow dags test bantay_daily ${RUN_DATE} (validate -> build_features -> score_customers -> draft_cases)"
set +e
airflow dags test bantay_daily "${RUN_DATE}" 2>&1 | tee "${LOGS}/bantay_daily.log" |
    grep --line-buffered -E "\[DAG TEST\] (starting|end) task|Task failed|AirflowFailException" |
    sed -u -E 's/.*\[DAG TEST\] starting task task_id=([a-z_]+).*/    task \1: started/; s/.*\[DAG TEST\] end task task_id=([a-z_]+).*/    task \1: finished/'
status=${PIPESTATUS[0]}
set -e
[ "${status}" -eq 0 ] || { tail -n 40 "${LOGS}/bantay_daily.log" >&2; die "bantay_daily failed; full log: ${LOGS}/bantay_daily.log"; }

CASES="${BANTAY_OUTPUT_ROOT}/cases/as_of=${RUN_DATE}"
[ -d "${CASES}" ] || die "the daily run finished but ${CASES} is missing"
N_CASES="$(find "${CASES}" -mindepth 1 -maxdepth 1 -type d -name 'C-*' | wc -l | tr -d ' ')"
MLFLOW_DB="${BANTAY_OUTPUT_ROOT}/mlflow/mlflow.db"
# The day's monitoring verdict (check_monitoring ends "skipped" on a warning, which the task list hides).
"${PY}" - "${BANTAY_OUTPUT_ROOT}" "${RUN_DATE}" <<'PYTHON' || die "reading the monitoring table failed"
import sys
from pathlib import Path

from bantay.models import monitor

days = monitor.history(Path(sys.argv[1]))
day = days[days["as_of"] == sys.argv[2]]
if day.empty:
    raise SystemExit(f"no monitoring row for {sys.argv[2]}")
row = day.iloc[-1]
print(f"    monitoring of {row['as_of']} ({row['model_version']}): {row['status']}: {row['reason']}", flush=True)
PYTHON

# --- 5. The workbench ---------------------------------------------------------------------------------------
DEMO_PASSWORD="${DEMO_PASSWORD:-bantay-demo-only}"   # a demo store on this machine only: never reuse it
say "workbench: demo users and the day's cases in the case store (${BANTAY_OUTPUT_ROOT}/workbench)"
for spec in investigator:demo-investigator investigator:demo-investigator2 approver:demo-approver admin:demo-admin; do
    if ! printf '%s\n' "${DEMO_PASSWORD}" | .venv/bin/bantay users add --out "${BANTAY_OUTPUT_ROOT}" \
        --username "${spec#*:}" --role "${spec%%:*}" --password-stdin >"${LOGS}/users_add.log" 2>&1; then
        grep -q "exists already" "${LOGS}/users_add.log" || { cat "${LOGS}/users_add.log" >&2; die "bantay users add failed"; }
    fi
done
# The draft job loaded the day already; loading again is idempotent and reports what the store holds.
"${PY}" - "${BANTAY_OUTPUT_ROOT}" "${RUN_DATE}" <<'PYTHON' 2>"${LOGS}/case_store.log" || { tail -n 40 "${LOGS}/case_store.log" >&2; die "loading the case store failed"; }
import sys
from datetime import date
from pathlib import Path

from bantay.cases import ingest

counts = ingest.ingest_day(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]))
print(f"    case store: {counts['reloaded']} of the day's cases already loaded by the draft job, "
      f"{counts['new']} new, {counts['appended']} open cases with new activity", flush=True)
PYTHON

say "done in $(((SECONDS - STARTED) / 60)) min $(((SECONDS - STARTED) % 60)) s"
cat <<EOF

SAR drafts (${N_CASES} cases) for ${RUN_DATE}:
    ${CASES}/index.html
    ${CASES}/C-*/draft.html, fincen_sar.xml, goaml_str.xml, nca_sar.txt
Scores:   ${BANTAY_OUTPUT_ROOT}/scores/as_of=${RUN_DATE}/
Model cards (one per promoted version): ${BANTAY_OUTPUT_ROOT}/model_cards/version=*/model_card.html, model_card.pdf
Monitoring (drift, alert volume; last 90 days): ${BANTAY_OUTPUT_ROOT}/monitoring/report.html
Logs:     ${LOGS}/

MLflow UI (runs, metrics, the registered model and its aliases):
    .venv/bin/mlflow ui --backend-store-uri sqlite:///${MLFLOW_DB} --port 5000     # http://127.0.0.1:5000

Investigators' workbench (review, decide, four-eyes approval, FinCEN file), serve it with:
    .venv/bin/bantay review --out ${BANTAY_OUTPUT_ROOT}                              # http://127.0.0.1:8000
  demo users (password: ${DEMO_PASSWORD}): demo-investigator, demo-investigator2 (investigators),
  demo-approver (approver), demo-admin (admin: users, and may approve cases it did not work on)

Airflow UI (the DAGs start paused; the admin password is in ${AIRFLOW_HOME}/simple_auth_manager_passwords.json.generated):
    source scripts/airflow_env.sh && airflow standalone                             # http://localhost:8080
EOF
