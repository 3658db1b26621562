"""Daily monitoring of the model that scored a day: drift, null rates, alert volume, coverage.

After scoring day D, `compute` compares the day's population with the scoring version's training reference
(`monitoring/reference.json` of its run, written by training: deciles of the score and of every feature over
the book as of the training date, plus the share of missing values):
- the population stability index (PSI, `bantay.models.validation.psi`) of the score and of every feature;
- each feature's null rate, and its change against the reference's;
- alerts against the alerts the budget allows (`score.alert_count`; open cases are alerted outside the
  budget, so the ratio can exceed 1), and the share of the day's feature rows that were scored.

Bucket counts come from one Spark aggregation over the day's feature table joined to its scores (a bucket
index per column by Spark ML's Bucketizer, unpivoted, counted by column and bucket); nothing is collected but
the counts.

`checks` turns the numbers into findings against the thresholds of the settings (`monitor_*`); a finding is a
warning, or a failure for the checks named in `monitor_fail_on`. `record` keeps one row per day in
OUT/monitoring/daily.parquet and one row per day and feature in features.parquet (a rerun of a day replaces
its rows), logs the day as an MLflow run of the experiment `<experiment>-monitoring` (a rerun replaces the
day's run), and redraws the report: OUT/monitoring/report.html with the plot of the last 90 days
(monitoring_90d.png), which the model card shows too.
"""

from __future__ import annotations

import base64
import io
import logging
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bantay.io import catalogue, files
from bantay.models import validation

logger = logging.getLogger(__name__)

DAILY_FILE = "daily.parquet"
FEATURES_FILE = "features.parquet"
REPORT_FILE = "report.html"
PLOT_FILE = "monitoring_90d.png"
PLOT_DAYS = 90
SCORE = "score"
SUMMARY_COLUMNS = (
    "as_of", "model_version", "status", "reason", "score_psi", "max_feature_psi", "max_psi_feature",
    "features_drifted", "null_rate_mean", "null_rate_changes", "alerts", "alerts_allowed", "alert_ratio",
    "customers_scored", "feature_rows", "scored_share", "monitoring_run_id",
)
FEATURE_COLUMNS = ("as_of", "feature", "psi", "null_rate", "null_rate_reference", "drifted")


@dataclass(frozen=True)
class Finding:
    """One threshold crossed: which check, whether it fails the task, and one line saying so."""

    check: str
    failure: bool
    text: str


# --- computing a day ---


def bucket_counts(frame: Any, reference: Mapping[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """`column, bucket, count` over `frame` (Spark) for `columns` (the features and `score`), with each
    column's reference cuts; bucket -1 holds the missing values. One Spark action.

    Spark ML's `Bucketizer` finds each value's bucket by binary search on the JVM (splits -inf, the cuts,
    +inf: bucket i holds `cuts[i-1] <= value < cuts[i]`, as `validation.bucket_counts`); missing values go
    in as NaN, which it keeps in one extra bucket.
    """
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F

    def cuts(name: str) -> list[float]:
        bins = reference[SCORE] if name == SCORE else reference["features"][name]
        return [float(c) for c in bins["cuts"]]

    # Bucketizer wants 3 splits or more: a column without cuts (a reference all missing) gets a dummy one
    # at the largest float, and its values all count in bucket 0.
    splits = [[-math.inf, *(cuts(name) or [sys.float_info.max]), math.inf] for name in columns]
    names = [f"_c{i}" for i in range(len(columns))]
    values = frame.select(*[F.coalesce(F.col(c).cast("double"), F.lit(math.nan)).alias(n)
                            for c, n in zip(columns, names, strict=True)])
    bucketed = Bucketizer(splitsArray=splits, inputCols=names, outputCols=[f"{n}_b" for n in names],
                          handleInvalid="keep").transform(values)
    index = bucketed.select(*[F.col(f"{n}_b").cast("int").alias(n) for n in names])
    long = index.unpivot([], list[Any](names), "column", "bucket")
    rows = long.groupBy("column", "bucket").count().collect()
    by_name = dict(zip(names, columns, strict=True))
    nan_bucket = {n: len(split) - 1 for n, split in zip(names, splits, strict=True)}
    last = {n: len(cuts(by_name[n])) for n in names}
    return (
        pd.DataFrame(
            [(by_name[r["column"]],
              -1 if r["bucket"] == nan_bucket[r["column"]] else min(int(r["bucket"]), last[r["column"]]),
              int(r["count"])) for r in rows],
            columns=["column", "bucket", "count"],
        )
        .groupby(["column", "bucket"], as_index=False)["count"].sum()
    )


def summarise(
    counts: pd.DataFrame,
    reference: Mapping[str, Any],
    features: Sequence[str],
    feature_rows: int,
    alerts: int,
    alerts_allowed: int,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The day's summary (PSI of the score, the largest feature PSI, null rates, alert ratio, scored share)
    and the per-feature table (`psi, null_rate, null_rate_reference`), from `bucket_counts`' output.

    Nothing divides by zero: an empty day has NaN rates and PSIs, and the alert ratio divides by at least 1.
    """
    def of(name: str, bins: Mapping[str, Any]) -> tuple[float, float]:
        mine = counts[counts["column"] == name]
        by_bucket = dict(zip(mine["bucket"], mine["count"], strict=True))
        nulls = int(by_bucket.get(-1, 0))
        present = [int(by_bucket.get(i, 0)) for i in range(len(bins["cuts"]) + 1)]
        total = nulls + sum(present)
        return validation.psi(bins, present, nulls), (nulls / total if total else float("nan"))

    score_psi, unscored = of(SCORE, reference[SCORE])
    per_feature = []
    for name in features:
        bins = reference["features"][name]
        value, null_rate = of(name, bins)
        per_feature.append({"feature": name, "psi": value, "null_rate": null_rate,
                            "null_rate_reference": float(bins["null_share"])})
    table = pd.DataFrame(per_feature, columns=["feature", "psi", "null_rate", "null_rate_reference"])
    finite = table.dropna(subset=["psi"])
    top = finite.loc[finite["psi"].idxmax()] if len(finite) else None
    scored = feature_rows - round(unscored * feature_rows) if feature_rows else 0
    summary = {
        "score_psi": score_psi,
        "max_feature_psi": float(top["psi"]) if top is not None else float("nan"),
        "max_psi_feature": str(top["feature"]) if top is not None else "",
        "null_rate_mean": float(table["null_rate"].mean()) if feature_rows else float("nan"),
        "alerts": int(alerts),
        "alerts_allowed": int(alerts_allowed),
        "alert_ratio": alerts / max(alerts_allowed, 1),
        "customers_scored": scored,
        "feature_rows": int(feature_rows),
        "scored_share": scored / feature_rows if feature_rows else float("nan"),
    }
    return summary, table


def checks(summary: Mapping[str, Any], table: pd.DataFrame, settings: Any) -> list[Finding]:
    """The thresholds of `settings` crossed by a day (NaN crosses none)."""
    fail_on = set(settings.monitor_fail_on)
    found: list[Finding] = []

    def add(check: str, text: str) -> None:
        found.append(Finding(check, check in fail_on, text))

    if summary["score_psi"] > settings.monitor_score_psi_max:
        add("score_psi", f"score PSI {summary['score_psi']:.3f} > {settings.monitor_score_psi_max:g}")
    drifted = table[table["psi"] > settings.monitor_feature_psi_max].sort_values("psi", ascending=False)
    if len(drifted):
        named = ", ".join(f"{r.feature} {r.psi:.2f}" for r in drifted.head(3).itertuples())
        more = f" and {len(drifted) - 3} more" if len(drifted) > 3 else ""
        add("feature_psi", f"{len(drifted)} feature(s) PSI > {settings.monitor_feature_psi_max:g} "
                           f"({named}{more})")
    change = (table["null_rate"] - table["null_rate_reference"]).abs()
    moved = table[change > settings.monitor_null_rate_change_max]
    if len(moved):
        add("null_rate", f"{len(moved)} feature(s) null rate moved > "
                         f"{settings.monitor_null_rate_change_max:g} (e.g. {moved.iloc[0]['feature']})")
    if summary["alert_ratio"] > settings.monitor_alert_ratio_max:
        add("alert_volume", f"{summary['alerts']} alerts for {summary['alerts_allowed']} allowed "
                            f"(ratio {summary['alert_ratio']:.2f} > {settings.monitor_alert_ratio_max:g})")
    if summary["scored_share"] < settings.monitor_scored_share_min:
        add("scored_share", f"{summary['scored_share']:.1%} of the feature rows scored "
                            f"(< {settings.monitor_scored_share_min:.0%})")
    return found


def verdict(findings: Sequence[Finding]) -> tuple[str, str]:
    """('ok' | 'warning' | 'failure', one line naming every finding)."""
    if not findings:
        return "ok", "within every threshold"
    status = "failure" if any(f.failure for f in findings) else "warning"
    return status, "; ".join(f.text for f in findings)


# --- the table under the output root ---


def folder(output_root: Path) -> Path:
    return catalogue.path(output_root, "monitoring")


def _read(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=list(columns))
    return pd.read_parquet(path)


def history(output_root: Path) -> pd.DataFrame:
    """Every day's summary row, in date order (empty, with `SUMMARY_COLUMNS`, before the first day)."""
    frame = _read(folder(output_root) / DAILY_FILE, SUMMARY_COLUMNS)
    return frame.sort_values("as_of").reset_index(drop=True) if len(frame) else frame


def feature_history(output_root: Path) -> pd.DataFrame:
    return _read(folder(output_root) / FEATURES_FILE, FEATURE_COLUMNS)


def _replace_day(existing: pd.DataFrame, day: pd.DataFrame, as_of: str) -> pd.DataFrame:
    kept = existing[existing["as_of"].astype(str) != as_of] if len(existing) else existing
    parts = [p for p in (kept, day) if len(p)]
    return pd.concat(parts, ignore_index=True).sort_values("as_of", kind="stable").reset_index(drop=True)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def store(output_root: Path, summary: Mapping[str, Any], table: pd.DataFrame) -> None:
    """Replace the day's rows of daily.parquet and features.parquet (owner-only, atomic per file)."""
    as_of = str(summary["as_of"])
    target = files.private_dir(folder(output_root))
    daily = _replace_day(history(output_root), pd.DataFrame([{c: summary.get(c) for c in SUMMARY_COLUMNS}]),
                         as_of)
    files.write_private(target / DAILY_FILE, _parquet_bytes(daily))
    rows = table.assign(as_of=as_of)[list(FEATURE_COLUMNS)]
    files.write_private(target / FEATURES_FILE,
                        _parquet_bytes(_replace_day(feature_history(output_root), rows, as_of)))


# --- the report ---


def plot(daily: pd.DataFrame, settings: Any) -> bytes:
    """PNG of the last `PLOT_DAYS` days: score PSI and largest feature PSI, alerts against the budget,
    scored share and mean null rate; thresholds as dashed lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    days = pd.to_datetime(daily["as_of"])
    recent = daily[days >= days.max() - timedelta(days=PLOT_DAYS - 1)] if len(daily) else daily
    x = pd.to_datetime(recent["as_of"])
    figure, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    psi_axis, alert_axis, share_axis = axes
    psi_axis.plot(x, recent["score_psi"], marker="o", label="score PSI")
    psi_axis.plot(x, recent["max_feature_psi"], marker="s", label="largest feature PSI")
    psi_axis.axhline(settings.monitor_score_psi_max, color="tab:red", linestyle="--", label="score threshold")
    psi_axis.axhline(settings.monitor_feature_psi_max, color="tab:orange", linestyle=":",
                     label="feature threshold")
    psi_axis.set_ylabel("PSI vs training reference")
    psi_axis.legend(loc="upper left", fontsize=8)
    alert_axis.bar(x, recent["alerts"], width=0.8, color="tab:blue", alpha=0.6, label="alerts")
    alert_axis.plot(x, recent["alerts_allowed"], color="black", marker="_", linestyle="-",
                    label="allowed by the budget")
    # Headroom above the bars for the legend.
    alert_axis.set_ylim(0, 1.35 * max([*recent["alerts"], *recent["alerts_allowed"], 1]))
    alert_axis.set_ylabel("alerts per day")
    alert_axis.legend(loc="upper left", fontsize=8)
    share_axis.plot(x, recent["scored_share"], marker="o", label="share of feature rows scored")
    share_axis.plot(x, recent["null_rate_mean"], marker="s", label="mean feature null rate")
    share_axis.axhline(settings.monitor_scored_share_min, color="tab:red", linestyle="--",
                       label="scored share minimum")
    share_axis.set_ylim(-0.05, 1.05)
    share_axis.set_ylabel("share")
    share_axis.legend(loc="center left", fontsize=8)
    share_axis.set_xlabel("as-of date (UTC)")
    if len(recent):  # always the whole window, so that a few days are not stretched into hours
        last = pd.Timestamp(x.max())
        share_axis.set_xlim(last - pd.Timedelta(days=PLOT_DAYS - 0.5), last + pd.Timedelta(days=0.5))
        date_format = mdates.DateFormatter("%Y-%m-%d")  # type: ignore[no-untyped-call]  # untyped in matplotlib
        share_axis.xaxis.set_major_formatter(date_format)
    figure.suptitle(f"Bantay model monitoring, last {PLOT_DAYS} days (to {recent['as_of'].max()})")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def plot_uri(output_root: Path) -> str | None:
    """The report's plot as a data URI, or None before the first monitored day."""
    path = folder(output_root) / PLOT_FILE
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def write_report(output_root: Path, settings: Any) -> Path:
    """Redraw monitoring_90d.png and report.html from the table; return the report's path."""
    import jinja2

    daily = history(output_root)
    target = files.private_dir(folder(output_root))
    files.write_private(target / PLOT_FILE, plot(daily, settings))
    env = jinja2.Environment(loader=jinja2.PackageLoader("bantay.models", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = lambda v, d=3: "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) \
        else (f"{v:.{d}f}" if isinstance(v, float) else str(v))
    latest = daily.iloc[-1].to_dict() if len(daily) else None
    features = feature_history(output_root)
    today = features[features["as_of"].astype(str) == str(latest["as_of"])] if latest else features
    worst = today.sort_values("psi", ascending=False).head(15).to_dict(orient="records") if latest else []
    html = env.get_template("monitoring.html.j2").render(
        latest=latest, rows=daily.tail(PLOT_DAYS).iloc[::-1].to_dict(orient="records"), worst=worst,
        plot=plot_uri(output_root), settings=settings, days=PLOT_DAYS,
    )
    return files.write_private(target / REPORT_FILE, html)


def as_metrics(summary: Mapping[str, Any], table: pd.DataFrame) -> dict[str, float]:
    """The day's numbers as MLflow metrics (NaN left out): the summary's, and `psi_<feature>`,
    `null_rate_<feature>`."""
    out = {k: float(summary[k]) for k in ("score_psi", "max_feature_psi", "null_rate_mean", "alerts",
                                          "alerts_allowed", "alert_ratio", "customers_scored", "feature_rows",
                                          "scored_share", "features_drifted")}
    for row in table.itertuples():
        out[f"psi_{row.feature}"] = float(row.psi)
        out[f"null_rate_{row.feature}"] = float(row.null_rate)
    return {k: v for k, v in out.items() if np.isfinite(v)}


def log_run(settings: Any, summary: Mapping[str, Any], table: pd.DataFrame) -> str:
    """Log the day as a run of the experiment `<experiment>-monitoring` (tags as_of, model_version, status,
    reason; metrics `as_metrics`); an earlier run of the same day is deleted first. Returns the run id."""
    import mlflow

    from bantay.models import registry

    mlflow_client = registry.client(settings)
    experiment = registry.ensure_experiment(settings, f"{settings.mlflow_experiment}-monitoring")
    as_of = str(summary["as_of"])
    for earlier in mlflow_client.search_runs([experiment], filter_string=f"tags.as_of = '{as_of}'"):
        mlflow_client.delete_run(earlier.info.run_id)
    with mlflow.start_run(experiment_id=experiment, run_name=f"monitor-{as_of}") as active:
        mlflow.set_tags({"as_of": as_of, "model_version": str(summary["model_version"]),
                         "status": str(summary["status"]), "reason": str(summary["reason"])[:4000]})
        mlflow.log_metrics(as_metrics(summary, table))
        run_id = str(active.info.run_id)
    registry.private_store(settings)
    return run_id
