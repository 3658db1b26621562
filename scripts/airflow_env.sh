# Environment of the demo's Airflow (sourced by scripts/demo.sh). Source it yourself to open the demo in the
# Airflow UI after ./scripts/demo.sh:
#
#   source scripts/airflow_env.sh && airflow standalone      # http://localhost:8080
#
# Everything lives under BANTAY_DEMO_DIR (default: demo/ in the repository): the Airflow home with its SQLite
# metadata DB, the ledger, and the output root (features, scores, cases, MLflow store). It sets the demo's
# values whatever the shell had; for a real ledger set AIRFLOW_HOME, BANTAY_LEDGER_ROOT, BANTAY_OUTPUT_ROOT,
# ... yourself instead of sourcing this file.

_bantay_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BANTAY_REPO="${_bantay_repo}"
export BANTAY_DEMO_DIR="${BANTAY_DEMO_DIR:-${_bantay_repo}/demo}"
unset _bantay_repo

export AIRFLOW_HOME="${BANTAY_DEMO_DIR}/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="${BANTAY_REPO}/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///${AIRFLOW_HOME}/airflow.db"
# New DAGs start paused: `airflow standalone` does not start daily runs for today's date on the demo ledger.
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True

export BANTAY_LEDGER_ROOT="${BANTAY_DEMO_DIR}/ledger"
export BANTAY_OUTPUT_ROOT="${BANTAY_DEMO_DIR}/out"
unset MLFLOW_TRACKING_URI BANTAY_MLFLOW_TRACKING_URI  # the demo's MLflow store is OUT/mlflow/mlflow.db
export BANTAY_SPARK_DRIVER_MEMORY="${BANTAY_SPARK_DRIVER_MEMORY:-4g}"
export BANTAY_SPARK_SHUFFLE_PARTITIONS="${BANTAY_SPARK_SHUFFLE_PARTITIONS:-4}"

if [ -x "${BANTAY_REPO}/.venv/bin/airflow" ]; then
    export PATH="${BANTAY_REPO}/.venv/bin:${PATH}"
fi
