"""The output root's datasets: name -> folder pattern, partition key and permissions, in one table.

Every reader and writer of OUT/ asks this table where a dataset lives (`path`, `partition`), so the layout is
decided here and nowhere else. Patterns are relative to the output root; `{table}` style fields are filled
from keyword arguments. Every dataset holds personal data or is derived from it, so all are owner-only:
folders 0700, files 0600.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bantay.errors import ConfigError

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class Dataset:
    """One dataset of the output root: where it lives, how it is partitioned, who may read it."""

    name: str
    pattern: str  # relative to the output root, e.g. "quarantine/table={table}"
    key: str | None  # partition column (folders `key=value`), None for an unpartitioned dataset
    description: str
    dir_mode: int = DIR_MODE
    file_mode: int = FILE_MODE

    def path(self, output_root: Path, **fields: str) -> Path:
        """The dataset's folder (or file) under `output_root`."""
        try:
            relative = self.pattern.format(**fields)
        except KeyError as missing:
            raise ConfigError(f"dataset {self.name}: pattern {self.pattern} needs {missing}") from None
        return Path(output_root) / relative

    def folder(self, output_root: Path) -> Path:
        """The dataset's top folder under `output_root` (the pattern's first part, e.g. OUT/quarantine)."""
        return Path(output_root) / Path(self.pattern).parts[0]

    def partition(self, output_root: Path, value: date | str, **fields: str) -> Path:
        """The folder of one partition, `<path>/<key>=<value>` (dates in ISO form)."""
        if self.key is None:
            raise ConfigError(f"dataset {self.name} is not partitioned")
        return partition_path(self.path(output_root, **fields), self.key, value)


DATASETS: dict[str, Dataset] = {
    dataset.name: dataset
    for dataset in (
        Dataset("validated_transactions", "validated/transactions", "booking_date",
                "accepted transactions, typed, with amount_usd; one partition per booking day"),
        Dataset("validated_customers", "validated/customers", None, "accepted customers, replaced every run"),
        Dataset("validated_fx_rates", "validated/fx_rates", None, "accepted FX rates, replaced every run"),
        Dataset("validated_labels", "validated/labels", None, "accepted labels, replaced every run"),
        Dataset("quarantine", "quarantine/table={table}", "run_date", "bad rows as read, with their rule"),
        Dataset("validate_runs", "runs/validate", "run_date", "summary.json and GX results of each run"),
        Dataset("validated_sources", "validated/_sources.json", None,
                "per validated booking day, a fingerprint of the ledger files it was read from"),
        Dataset("state_p2p", "state/p2p", "booking_date", "feature state: slim cross-border p2p rows"),
        Dataset("state_daily", "state/daily", "booking_date",
                "feature state: per customer-day aggregates (a day's partition marks the day done)"),
        Dataset("state_clusters", "state/clusters", None, "payee clusters of the last features run"),
        Dataset("state_activity", "state/activity", None,
                "running window totals of the activity features as of the last features run"),
        Dataset("state_layout", "state/_layout.json", None, "fingerprint of the state tables' schemas"),
        Dataset("state_checkpoint", "state/_checkpoint", None, "Spark checkpoints of the cluster resolution"),
        Dataset("features", "features", "as_of", "the point-in-time feature table"),
        Dataset("clusters", "clusters", "as_of", "payee clusters with their cluster-level columns"),
        Dataset("scores", "scores", "as_of", "scores, ranks, alerts and reasons"),
        Dataset("cases", "cases", "as_of", "one folder of SAR drafts per alert, and the batch views"),
        Dataset("mlflow", "mlflow", None, "MLflow's SQLite store (mlflow.db) and artifacts, by default"),
        Dataset("workbench", "workbench", None,
                "the case store (cases.sqlite) when no case store URL is set: cases, audit trail, users"),
        Dataset("case_labels", "case_labels", None,
                "approved workbench decisions as labels, one Parquet file per approval"),
        Dataset("model_cards", "model_cards/version={version}", None,
                "model card and validation pack of a registered model version (HTML, PDF, card.json)"),
        Dataset("monitoring", "monitoring", None,
                "daily monitoring of the champion: daily.parquet, features.parquet, report.html, plot"),
        Dataset("backtest", "backtest", None,
                "the backtest's report: report.html, charts, weekly, daily and per-payer tables"),
        Dataset("backtest_marker", "_backtest.json", None,
                "marks an output root as a backtest's own (its ledger), so that a rerun may replace it"),
    )
}


def dataset(name: str) -> Dataset:
    """The catalogue entry `name`."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"no dataset {name!r} in the output catalogue") from None


def path(output_root: Path, name: str, **fields: str) -> Path:
    """Folder (or file) of dataset `name` under `output_root`."""
    return dataset(name).path(output_root, **fields)


def partition(output_root: Path, name: str, value: date | str, **fields: str) -> Path:
    """Folder of one partition of dataset `name` under `output_root`."""
    return dataset(name).partition(output_root, value, **fields)


def validated(table: str) -> str:
    """The catalogue name of a validated ledger table ("transactions" -> "validated_transactions")."""
    return f"validated_{table}"


def partition_path(base: Path, key: str, value: date | str) -> Path:
    """`base/key=value`, dates in ISO form."""
    return base / f"{key}={value.isoformat() if isinstance(value, date) else value}"
