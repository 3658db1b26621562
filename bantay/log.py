"""Logging set-up: once, at the edge (CLI, job main, Airflow task). Never log personal data."""

from __future__ import annotations

import logging
import os

QUIET_LOGGERS = ("py4j", "pyspark", "mlflow", "alembic", "urllib3", "great_expectations", "matplotlib",
                 "fontTools", "weasyprint", "numexpr", "git")


def configure(level: str | None = None) -> None:
    """Configure the root logger for Bantay's own modules and quieten chatty libraries."""
    level = (level or os.environ.get("BANTAY_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bantay").setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
