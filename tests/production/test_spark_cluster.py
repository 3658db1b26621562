"""The same feature job on a Spark standalone cluster (a master and a 1-core worker on 127.0.0.1, started from
the installed PySpark) gives the same table as in local mode.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from production_support import REPO, Services, free_port, wait_for
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

pytestmark = pytest.mark.slow

END = date(2025, 2, 28)
AS_OF = date(2025, 3, 1)


def _master_state(web_port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return {}


def test_build_features_on_a_standalone_cluster_matches_local_mode(
    spark: SparkSession, services: Services, tmp_path: Path
) -> None:
    import pyspark

    from bantay import settings as settings_module
    from bantay.jobs import build_features, validate_ledger
    from bantay.synth import generate

    ledger_root, local_out, cluster_out = tmp_path / "ledger", tmp_path / "local", tmp_path / "cluster"
    generate.run(out=ledger_root, customers=200, days=30, seed=11, end_date=END, truth=None)
    local = settings_module.load(ledger_root=ledger_root, output_root=local_out)
    validate_ledger.run(local, AS_OF)
    local_table = build_features.run(local, AS_OF)
    # The cluster run starts from the same validated layer, with no feature state: it builds its own.
    shutil.copytree(local_out / "validated", cluster_out / "validated")

    spark_home = Path(pyspark.__file__).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BANTAY_", "SPARK_", "PYSPARK_"))}
    env |= {
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    port, web_port = free_port(), free_port()
    spark_class = str(spark_home / "bin" / "spark-class")
    services.start(
        "spark-master",
        [
            spark_class,
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(web_port),
        ],
        env,
    )
    master = f"spark://127.0.0.1:{port}"
    # spark-submit's --master alone must send the job to the cluster (no BANTAY_SPARK_MASTER).
    env.pop("BANTAY_SPARK_MASTER", None)
    services.start(
        "spark-worker",
        [
            spark_class,
            "org.apache.spark.deploy.worker.Worker",
            master,
            "--cores",
            "1",
            "--memory",
            "1g",
            "--host",
            "127.0.0.1",
            "--webui-port",
            str(free_port()),
            "--work-dir",
            str(tmp_path / "work"),
        ],
        env,
    )
    wait_for("a live worker", lambda: _master_state(web_port).get("aliveworkers", 0) >= 1, 180, services)

    submit = subprocess.run(
        [
            str(spark_home / "bin" / "spark-submit"),
            "--master",
            master,
            "--driver-memory",
            "1g",
            "--executor-memory",
            "512m",
            "--total-executor-cores",
            "1",
            "--conf",
            "spark.driver.host=127.0.0.1",
            "--conf",
            "spark.driver.bindAddress=127.0.0.1",
            str(REPO / "jobs" / "build_features.py"),
            "--ledger",
            str(ledger_root),
            "--out",
            str(cluster_out),
            "--as-of",
            AS_OF.isoformat(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )

    assert submit.returncode == 0, submit.stderr[-4000:]
    # The master lists the application once its driver has gone: it ran on the cluster, not in local mode.
    apps = wait_for("the finished application", lambda: _master_state(web_port).get("completedapps"), 120)
    assert [(app["name"], app["state"]) for app in apps] == [("bantay", "FINISHED")], submit.stderr[-2000:]
    cluster_table = cluster_out / "features" / f"as_of={AS_OF}"
    assert f'"written": "{cluster_table}"' in submit.stdout
    expected = spark.read.parquet(str(local_table))
    actual = spark.read.parquet(str(cluster_table))
    assert expected.count() > 0
    # Sums may be added in another order on the cluster: equal up to floating-point rounding.
    assertDataFrameEqual(actual, expected, rtol=1e-9, atol=1e-9)
