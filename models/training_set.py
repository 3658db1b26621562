"""The training set as of D: labelled points, lead points, the unlabelled sample, each with its features.

Every point is joined to its features as of its own date (`features_for_points`, which only uses data booked
before that date), and every label was decided before D (UTC midnight):
- Labelled points: each customer's latest label decided before D, as of its decision date: the validated
  labels and the workbench's approved decisions (`training_labels`), a decision dated by its approval.
- Lead points: each confirmed customer again `recipe.lead_days` days before its decision (label 1), kept
  where it had already made `recipe.lead_min_p2p` or more cross-border p2p payments in the 90 days before
  that date (`paying_lead_points` checks this on the feature state before any feature is computed). The
  scored book holds payers long before anyone investigates them; a decision point shows each payer once.
- The unlabelled sample: the scored population is nearly all unlabelled, so a deterministic random sample of
  customers with transactions before D and no label decided before D (`recipe.unlabelled_ratio` times the
  labelled count, within `recipe.unlabelled_min` and `recipe.unlabelled_max`) enters as negatives, typology
  `unlabelled`, each on a pseudo decision date drawn from the labelled decision dates (so the sample spreads
  over the same time split).
Rows: `customer_id, as_of, label, typology, decided_on, lead_days, residence_country` and the catalogue's
feature columns (`residence_country`, from the KYC snapshot, is no feature: it only groups the validation
pack's segments, and is null when the validated layer holds no customers);
`decided_on` is the decision date a row's label belongs to (the split goes by it), `lead_days` 0 for a
decision point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from bantay import ledger
from bantay.cases import labels as case_labels
from bantay.errors import MissingArtefactError, ModelError, TooFewLabelsError
from bantay.features import store as feature_store
from bantay.features.common import LOOKBACK_DAYS
from bantay.io import catalogue as output_catalogue
from bantay.io import files
from bantay.models import evaluate
from bantay.models.recipe import RECIPE, Recipe
from bantay.settings import Settings


def catalogue() -> tuple[Any, ...]:
    """The model's inputs: the feature catalogue's `FeatureSpec`s in column order, without the columns the
    table holds for reporting only (`model_input` False: sex and age)."""
    from bantay.features.catalogue import FEATURES

    return tuple(spec for spec in FEATURES if spec.model_input)


def catalogue_columns() -> list[str]:
    return [spec.name for spec in catalogue()]


class FeatureStore(Protocol):
    """Where training reads point-in-time features: the module `bantay.features.store`, or any object with
    its two functions (the model tests pass one built from a hand-made world)."""

    def features_for_points(self, spark: SparkSession, settings: Settings, points: DataFrame) -> DataFrame:
        """Features of each (customer_id, as_of) point, each as of its own date."""
        ...

    def p2p_counts_at(
        self, spark: SparkSession, settings: Settings, points: DataFrame, days: int
    ) -> DataFrame:
        """`customer_id, as_of, n_p2p`: cross-border p2p payments in the `days` days before each point."""
        ...


def _latest_before(labels: DataFrame, as_of: date, *tie_break: Column) -> DataFrame:
    """Each customer's latest usable label (0 or 1) decided before `as_of` (UTC): the later decision, then
    the confirmed one, then `tie_break`; none where the latest is a withdrawal (a null label: a reopened
    case's, `bantay.cases.labels.write_withdrawal`)."""
    latest = Window.partitionBy("customer_id").orderBy(
        F.col("decided_at").desc(), F.col("label").desc(), *tie_break
    )
    usable = F.col("label").isin(0, 1) | F.col("label").isNull()
    return (
        labels.where(F.col("decided_at") < F.lit(ledger.day_start(as_of)))
        .where(usable & F.col("customer_id").isNotNull())
        .withColumn("_n", F.row_number().over(latest))
        .where((F.col("_n") == 1) & F.col("label").isNotNull())
    )


def labelled_points(labels: DataFrame, as_of: date) -> DataFrame:
    """`customer_id, as_of, label, typology`: each customer's latest label decided before `as_of` (UTC)."""
    default_typology = F.when(F.col("label") == 1, "confirmed").otherwise("cleared")
    return (
        _latest_before(labels, as_of)
        .select(
            "customer_id",
            ledger.utc_day(F.col("decided_at")).alias("as_of"),
            F.col("label").cast("int").alias("label"),
            F.coalesce(F.col("typology"), default_typology).alias("typology"),
        )
    )


def lead_points(labelled: DataFrame, recipe: Recipe = RECIPE) -> DataFrame:
    """`customer_id, as_of, label, typology, decided_on, lead_days`: each confirmed customer of `labelled`
    (a `labelled_points` frame) again `recipe.lead_days` days before its decision."""
    leads = recipe.lead_days
    if not leads:
        return decision_points(labelled).limit(0)
    return (
        labelled.where(F.col("label") == 1)
        .select("*", F.explode(F.array(*[F.lit(int(n)) for n in leads])).alias("lead_days"))
        .withColumn("decided_on", F.col("as_of"))
        .withColumn("as_of", F.date_sub(F.col("decided_on"), F.col("lead_days")))
        .select("customer_id", "as_of", "label", "typology", "decided_on", "lead_days")
    )


def paying_lead_points(
    spark: SparkSession,
    settings: Settings,
    leads: DataFrame,
    recipe: Recipe = RECIPE,
    store: FeatureStore = feature_store,
) -> DataFrame:
    """The `leads` (a `lead_points` frame) whose customer had made `recipe.lead_min_p2p` or more cross-border
    p2p payments in the 90 days before the point.

    Applied before `features_for_points`, so that lead points that cannot count cost no feature work: most
    early ones fall here, and with them the weekly grid dates (network features) only they needed. The same
    rule is applied again to the features' `n_p2p_90d`, which it equals."""
    counts = store.p2p_counts_at(spark, settings, leads.select("customer_id", "as_of"), 90)
    return leads.join(
        counts.where(F.col("n_p2p") >= recipe.lead_min_p2p).select("customer_id", "as_of"),
        on=["customer_id", "as_of"],
        how="left_semi",
    )


def decision_points(points: DataFrame) -> DataFrame:
    """`points` (`customer_id, as_of, label, typology`) as points of their own decision date (lead 0)."""
    return points.select(
        "customer_id", "as_of", "label", "typology", F.col("as_of").alias("decided_on"),
        F.lit(0).alias("lead_days"),
    )


def unlabelled_points(
    population: DataFrame, labelled: DataFrame, dates: Sequence[date], size: int, recipe: Recipe = RECIPE
) -> DataFrame:
    """A deterministic sample of `size` customers of `population` not in `labelled` (the customers with any
    decision before the cut-off), each on a pseudo date.

    Customers are ordered by a seeded hash of their id (a reproducible random order); each gets one of the
    labelled decision `dates`, picked by a second hash.
    """
    if size <= 0 or not dates:
        schema = "customer_id string, as_of date, label int, typology string"
        return population.sparkSession.createDataFrame([], schema)
    choices = F.array(*[F.lit(d) for d in sorted(dates)])
    pick = F.pmod(F.xxhash64(F.col("customer_id"), F.lit(recipe.sample_seed + 1)), F.lit(len(dates))) + 1
    return (
        population.select("customer_id").distinct()
        .join(labelled.select("customer_id"), on="customer_id", how="left_anti")
        .orderBy(F.xxhash64(F.col("customer_id"), F.lit(recipe.sample_seed)), F.col("customer_id"))
        .limit(size)
        .select(
            "customer_id",
            F.element_at(choices, pick.cast("int")).alias("as_of"),
            F.lit(0).alias("label"),
            F.lit(evaluate.UNLABELLED).alias("typology"),
        )
    )


def training_table(
    spark: SparkSession,
    settings: Settings,
    as_of: date,
    columns: Sequence[str],
    recipe: Recipe = RECIPE,
    store: FeatureStore = feature_store,
) -> pd.DataFrame:
    """Labelled points and the unlabelled sample, each joined to its point-in-time features (pandas)."""
    table = training_rows(spark, settings, as_of, columns, recipe, store)
    frame = to_frame(table)
    table.unpersist()
    return frame


def to_frame(table: DataFrame) -> pd.DataFrame:
    """A Spark training table on the driver, in decision-date order."""
    frame: pd.DataFrame = table.toPandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    frame["decided_on"] = pd.to_datetime(frame["decided_on"]).dt.date
    return frame.sort_values(["as_of", "customer_id"], kind="stable").reset_index(drop=True)


def training_labels(spark: SparkSession, settings: Settings) -> DataFrame:
    """The validated labels and the workbench's approved decisions (OUT/case_labels) in the contract's
    `labels` columns; a decision's `decided_at` is its approval time, so `labelled_points` takes it only for
    a cut-off after the approval, and over an earlier label of the same customer (latest wins)."""
    labels = ledger.read_validated(spark, settings.output_root, "labels")  # empty when the ledger has none
    return case_labels.with_decided(spark, labels, settings.output_root)


UNKNOWN_ORIGIN = "unknown"  # a workbench decision written before label files recorded their origin


def label_origins(spark: SparkSession, settings: Settings, as_of: date) -> pd.DataFrame:
    """`customer_id, as_of, origin`: the origin of the label `labelled_points` takes for each customer before
    `as_of` (the same rows, the same order; `bantay.cases.labels.origins`). Where two sources hold the same
    decision, an alert's origin is preferred, then a below-the-line sample's, then the ledger's: a label an
    alert could have chosen is never counted as one not from an alert."""
    labels = ledger.read_validated(spark, settings.output_root, "labels")
    origin = F.col("origin")
    preference = (F.when(origin == case_labels.ALERT, 0).when(origin == case_labels.BELOW_LINE_SAMPLE, 1)
                  .when(origin == case_labels.LEDGER, 2).otherwise(3))  # unrecorded origins last
    chosen = _latest_before(case_labels.origins(spark, labels, settings.output_root), as_of, preference)
    frame: pd.DataFrame = chosen.select(
        "customer_id", ledger.utc_day(F.col("decided_at")).alias("as_of"), "origin"
    ).toPandas()
    return frame


def _day(value: Any) -> Any:
    """A date, from a date, a datetime or a pandas Timestamp (no nanosecond range involved)."""
    return value.date() if isinstance(value, datetime) else value


def with_origin(points: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
    """`points` (`customer_id, as_of, typology`, decision points) with `origin`: the label's origin
    (`label_origins`, one row per customer and date), `unlabelled_sample` for the unlabelled sample,
    UNKNOWN_ORIGIN when not recorded. Same rows, same order."""
    keys = origins.assign(as_of=origins["as_of"].map(_day))
    found = points[["customer_id"]].assign(as_of=points["as_of"].map(_day)).merge(
        keys, on=["customer_id", "as_of"], how="left", validate="many_to_one"
    )
    origin = found["origin"].to_numpy(dtype=object)
    origin[(points["typology"] == evaluate.UNLABELLED).to_numpy()] = case_labels.UNLABELLED_SAMPLE
    origin[pd.isna(origin)] = UNKNOWN_ORIGIN
    return points.assign(origin=origin)


def residence(spark: SparkSession, settings: Settings) -> DataFrame:
    """`customer_id, residence_country` of the validated KYC snapshot (no rows when there is none)."""
    try:
        customers = ledger.read_validated(spark, settings.output_root, "customers")
    except MissingArtefactError:
        return spark.createDataFrame([], "customer_id string, residence_country string")
    return customers.select("customer_id", F.col("residence_country").cast("string"))


def training_rows(
    spark: SparkSession,
    settings: Settings,
    as_of: date,
    columns: Sequence[str],
    recipe: Recipe = RECIPE,
    store: FeatureStore = feature_store,
) -> DataFrame:
    """`training_table` as a Spark frame (cached): `customer_id, as_of, label, typology, decided_on,
    lead_days` and the features."""
    decisions = training_labels(spark, settings)
    labelled = labelled_points(decisions, as_of).cache()
    # Left out of the unlabelled sample: every customer with any decision before the cut-off, a withdrawn
    # one included (a reopened case's customer is unknown, not a known negative).
    decided = decisions.where(F.col("decided_at") < F.lit(ledger.day_start(as_of))).select("customer_id")
    counts = {row["label"]: row["count"] for row in labelled.groupBy("label").count().collect()}
    if counts.get(1, 0) < 2 * recipe.min_positives or counts.get(0, 0) < recipe.min_positives:
        raise TooFewLabelsError(
            f"labels decided before {as_of}: {counts.get(1, 0)} confirmed and {counts.get(0, 0)} cleared; "
            f"training needs at least {2 * recipe.min_positives} confirmed and {recipe.min_positives} cleared"
        )
    dates = [row["as_of"] for row in labelled.select("as_of").distinct().collect()]
    size = min(max(recipe.unlabelled_ratio * (counts[0] + counts[1]), recipe.unlabelled_min),
               recipe.unlabelled_max)
    population = ledger.read_validated(spark, settings.output_root, "transactions", before=as_of)
    # Materialised once: the points feed every family of features and the join below, and each reading of
    # the plan would redo the lead points' state scan and the unlabelled sample's scan and sort.
    points = (
        decision_points(labelled)
        .unionByName(paying_lead_points(spark, settings, lead_points(labelled, recipe), recipe, store))
        .unionByName(decision_points(unlabelled_points(population, decided, dates, size, recipe)))
        .localCheckpoint(eager=True)
    )
    features = store.features_for_points(spark, settings, points.select("customer_id", "as_of"))
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ModelError(
            f"features_for_points lacks {len(missing)} catalogue column(s): {', '.join(missing[:5])}"
        )
    # A lead point counts once the customer was already paying abroad (`lead_min_p2p` payments in 90 days).
    paying = F.col("n_p2p_90d").alias("_lead_p2p")
    table = (
        points.join(
            features.select("customer_id", F.col("as_of").cast("date").alias("as_of"), *columns, paying),
            on=["customer_id", "as_of"],
            how="inner",
        )
        .where((F.col("lead_days") == 0) | (F.col("_lead_p2p") >= recipe.lead_min_p2p))
        .drop("_lead_p2p")
        .join(residence(spark, settings), on="customer_id", how="left")
        .cache()
    )
    table.count()
    labelled.unpersist()
    return table



@dataclass(frozen=True)
class Book:
    """The book's features as of the training date (`frame`: the catalogue columns), and their source."""

    frame: pd.DataFrame
    source: str


def book_features(
    spark: SparkSession,
    settings: Settings,
    as_of: date,
    columns: Sequence[str],
    recipe: Recipe = RECIPE,
    store: FeatureStore = feature_store,
) -> Book:
    """The book as the daily scoring of `as_of` sees it, for the monitoring reference: `columns` of every
    customer (a seeded sample of `recipe.reference_max` above that), and where the rows came from.

    The feature table OUT/features/as_of=D when the features job wrote it (what scoring D reads); otherwise
    the same customers (a transaction in the look-back before D) through `store.features_for_points` as of D,
    whose network features are those of the weekly grid date on or before D. Nothing is written.
    """
    table = files.read_optional(spark, output_catalogue.partition(settings.output_root, "features", as_of))
    source = "feature table"
    if table is None:
        book = (
            ledger.read_validated(spark, settings.output_root, "transactions",
                                  start=as_of - timedelta(days=LOOKBACK_DAYS), before=as_of)
            .select("customer_id").distinct()
            .withColumn("as_of", F.lit(as_of))
        )
        table = store.features_for_points(spark, settings, book)
        source = "features computed at training"
    sample = (
        table.orderBy(F.xxhash64(F.col("customer_id"), F.lit(recipe.sample_seed + 2)), F.col("customer_id"))
        .limit(recipe.reference_max)
        .select(*[F.col(c).cast("double").alias(c) for c in columns])
    )
    return Book(sample.toPandas(), source)
