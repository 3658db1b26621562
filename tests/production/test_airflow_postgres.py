"""Airflow 3 as deployed: PostgreSQL metadata database, LocalExecutor, scheduler + DAG processor + API server.

`airflow dags test` runs tasks one after another in one process; this test runs the real components so that
two independent tasks of one DAG run in two worker processes at the same time.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import textwrap
import urllib.request
from pathlib import Path

import pytest
from production_support import PG_HOST, PG_PORT, PG_USER, VENV_BIN, Services, free_port, query, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SLEEP_SECONDS = 15
PROBE_DAG = textwrap.dedent(
    f'''
    """Two independent tasks that each take {SLEEP_SECONDS} s: with the LocalExecutor they must overlap."""

    from __future__ import annotations

    import time

    import pendulum

    from airflow.sdk import dag, task


    @dag(schedule="@once", start_date=pendulum.datetime(2025, 1, 1, tz="UTC"), catchup=False)
    def bantay_parallel_probe() -> None:
        @task
        def left() -> None:
            time.sleep({SLEEP_SECONDS})

        @task
        def right() -> None:
            time.sleep({SLEEP_SECONDS})

        left()
        right()


    bantay_parallel_probe()
    '''
)


def _airflow_env(home: Path, database: str, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "BANTAY_", "PYSPARK"))}
    env |= {
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(64),
        # A shared 2-core CI machine answers slowly; the default 5 s would fail tasks for no fault of theirs.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "120",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
    }
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_airflow_postgres_local_executor_runs_tasks_in_parallel(
    postgres_db: str, services: Services, tmp_path: Path
) -> None:
    pytest.importorskip(
        "asyncpg",
        reason="Airflow 3 on PostgreSQL needs asyncpg (its async engine), not in requirements.lock yet",
    )
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "bantay_parallel_probe.py").write_text(PROBE_DAG)
    api_port = free_port()
    env = _airflow_env(home, postgres_db, api_port)

    migrate = subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    assert query(postgres_db, "SELECT count(*) FROM alembic_version")[0][0] == 1

    airflow = str(VENV_BIN / "airflow")
    services.start(
        "api-server",
        [
            airflow,
            "api-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            "--workers",
            "1",
            "--apps",
            "execution",
        ],
        env,
    )
    services.start("dag-processor", [airflow, "dag-processor"], env)
    services.start("scheduler", [airflow, "scheduler"], env)
    wait_for(
        "the execution API", lambda: _healthy(f"http://127.0.0.1:{api_port}/execution/health"), 240, services
    )

    def finished() -> list[tuple]:
        rows = query(
            postgres_db,
            "SELECT task_id, state, start_date, end_date FROM task_instance "
            "WHERE dag_id = 'bantay_parallel_probe' ORDER BY task_id",
        )
        done = len(rows) == 2 and all(
            state in ("success", "failed", "upstream_failed") for _, state, _, _ in rows
        )
        return rows if done else []

    rows = wait_for("both probe tasks to finish", finished, 420, services, every=3)
    assert [(task_id, state) for task_id, state, _, _ in rows] == [
        ("left", "success"),
        ("right", "success"),
    ], services.log("scheduler")
    (_, _, left_start, left_end), (_, _, right_start, right_end) = rows
    # Each task sleeps 15 s: run one after the other, one would start after the other ended.
    assert left_start < right_end and right_start < left_end, rows
    overlap = (min(left_end, right_end) - max(left_start, right_start)).total_seconds()
    assert overlap > SLEEP_SECONDS / 3, f"tasks overlapped only {overlap:.1f} s: {rows}"
    run_states = wait_for(
        "the run's final state",
        lambda: [
            row
            for row in query(postgres_db, "SELECT state FROM dag_run WHERE dag_id = 'bantay_parallel_probe'")
            if row[0] in ("success", "failed")
        ],
        60,
        services,
    )
    assert run_states == [("success",)]
