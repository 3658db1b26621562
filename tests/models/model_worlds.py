"""Small hand-made worlds for the model tests: a validated labels table, a population, point-in-time features.

Feature values are a fixed function of (customer, as_of) so that every call (training, the gate, scoring)
sees the same numbers. Three kinds of customer:
- `payer`: confirmed cases; what tells them apart is a column no rule looks at
  (`share_p2p_unrelated_surname_90d` high), so a model can beat the rules baseline;
- `lookalike`: cleared customers who trip the rules as much as payers do (many small PH payments at night);
- `ordinary`: everyone else (unlabelled), low activity abroad.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from bantay.features.catalogue import model_columns
from bantay.settings import Settings

COLUMNS = model_columns()
SEPARATOR = "share_p2p_unrelated_surname_90d"  # the column that tells payers from look-alikes
CUTOFF = date(2025, 6, 1)
FIRST_DECISION = date(2025, 2, 1)
PAYING_FROM = FIRST_DECISION - timedelta(days=100)  # before it, payers and look-alikes barely pay abroad


def customer_id(kind: str, n: int) -> str:
    return f"zq-{kind}-{n:04d}"


def kind_of(customer: str) -> str:
    return customer.split("-")[1]


def feature_values(customer: str, as_of: date) -> dict[str, float | None]:
    """Deterministic features for one point; see the module docstring for the three kinds."""
    rng = np.random.default_rng(zlib.crc32(f"{customer}|{as_of}".encode()))
    values: dict[str, float | None] = {c: float(rng.uniform(0, 1)) for c in COLUMNS}
    kind = kind_of(customer)
    if kind in {"payer", "lookalike"}:
        values |= {
            "n_p2p_ph_90d": float(rng.integers(6, 30)),
            "n_p2p_90d": float(rng.integers(30, 40)),
            "share_p2p_small_90d": float(rng.uniform(0.85, 1.0)),
            "share_p2p_night_90d": float(rng.uniform(0.3, 0.7)),
            "share_p2p_round_90d": float(rng.uniform(0.5, 0.8)),
            "n_payees_90d": float(rng.integers(2, 9)),
            "median_p2p_usd_90d": float(rng.uniform(20, 90)),
            "share_p2p_new_payee_90d": float(rng.uniform(0.2, 0.6)),
        }
        if as_of < PAYING_FROM:  # only training's lead points look this far back
            values["n_p2p_90d"] = 2.0
    else:
        values |= {"n_p2p_ph_90d": float(rng.integers(0, 3)), "share_p2p_small_90d": None,
                   "share_p2p_night_90d": None, "n_p2p_90d": float(rng.integers(0, 3))}
    values["share_p2p_unrelated_surname_90d"] = float(
        rng.uniform(0.75, 1.0) if kind == "payer" else rng.uniform(0.0, 0.35)
    )
    return values


def feature_frame(points: Iterable[tuple[str, date]]) -> pd.DataFrame:
    rows = [{"customer_id": c, "as_of": d, **feature_values(c, d)} for c, d in points]
    return pd.DataFrame(rows, columns=["customer_id", "as_of", *COLUMNS])


def to_spark(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    schema = "customer_id string, as_of date, " + ", ".join(f"{c} double" for c in COLUMNS)
    return spark.createDataFrame(frame.astype(object).where(frame.notna(), None).values.tolist(), schema)


class WorldStore:
    """A feature store of the world (`training_set.FeatureStore`): the same contract as
    `bantay.features.store`, values from `feature_values`."""

    def features_for_points(self, spark: SparkSession, settings: Settings, points: DataFrame) -> DataFrame:
        pairs = [(row["customer_id"], row["as_of"]) for row in points.collect()]
        return to_spark(spark, feature_frame(pairs))

    def p2p_counts_at(
        self, spark: SparkSession, settings: Settings, points: DataFrame, days: int
    ) -> DataFrame:
        """The same counts as the world's `n_p2p_<days>d` (only customers with at least one)."""
        features = self.features_for_points(spark, settings, points)
        return features.where(f"n_p2p_{days}d > 0").selectExpr(
            "customer_id", "as_of", f"cast(n_p2p_{days}d as long) as n_p2p"
        )


Label = tuple[str, int, datetime, str]


def label_rows(payers: int = 30, lookalikes: int = 30, days: int = 100) -> list[Label]:
    """Labels decided on spread-out days from FIRST_DECISION (payers and look-alikes interleaved)."""
    rows = []
    for n in range(max(payers, lookalikes)):
        when = datetime.combine(FIRST_DECISION + timedelta(days=(n * days) // max(payers, lookalikes)),
                                datetime.min.time(), tzinfo=UTC).replace(tzinfo=None) + timedelta(hours=10)
        if n < payers:
            rows.append((customer_id("payer", n), 1, when, "ocse_payer"))
        if n < lookalikes:
            rows.append((customer_id("lookalike", n), 0, when + timedelta(hours=1), "ofw_remitter"))
    return rows


def write_validated(spark: SparkSession, out: Path, labels: list[tuple[str, int, datetime, str]],
                    population: list[str]) -> None:
    """A validated layer with the labels and one transaction per population customer (before CUTOFF)."""
    spark.createDataFrame(labels, "customer_id string, label int, decided_at timestamp, typology string") \
        .write.mode("overwrite").parquet(str(out / "validated" / "labels"))
    day = CUTOFF - timedelta(days=3)
    rows = [(c, f"t{n}") for n, c in enumerate(population)]
    spark.createDataFrame(rows, "customer_id string, txn_id string").write.mode("overwrite").parquet(
        str(out / "validated" / "transactions" / f"booking_date={day}"))


def write_features(spark: SparkSession, out: Path, as_of: date, customers: list[str]) -> Path:
    path = out / "features" / f"as_of={as_of}"
    to_spark(spark, feature_frame((c, as_of) for c in customers)).write.mode("overwrite").parquet(str(path))
    return path



def training_frame(labels: list[tuple[str, int, datetime, str]], ordinary: int = 120) -> pd.DataFrame:
    """What `training_set.training_table` returns for the world, built without Spark (for the gate tests)."""
    decided = sorted({when.date() for _, _, when, _ in labels})
    rows = [(c, when.date(), label, typology) for c, label, when, typology in labels]
    rows += [(customer_id("ordinary", n), decided[n % len(decided)], 0, "unlabelled")
             for n in range(ordinary)]
    keys = pd.DataFrame(rows, columns=["customer_id", "as_of", "label", "typology"])
    features = feature_frame(zip(keys["customer_id"], keys["as_of"], strict=True))
    frame = keys.merge(features, on=["customer_id", "as_of"], how="inner")
    frame = frame.assign(decided_on=frame["as_of"], lead_days=0)
    return frame.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)


def blind_before(frame: pd.DataFrame, day: date, column: str = SEPARATOR) -> pd.DataFrame:
    """A copy where `column` is noise on every row before `day`: a model fitted on it cannot learn it."""
    blinded = frame.copy()
    early = blinded["as_of"] < day
    blinded.loc[early, column] = np.random.default_rng(1).uniform(0, 1, int(early.sum()))
    return blinded
