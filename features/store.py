"""The feature store: the incremental state under OUT/state/, the payee clusters, and point-in-time features.

The store keeps a compact state under OUT/state/ (`features.state`: the slim p2p table and the
per-customer-day aggregates, both partitioned by booking_date). An update for D adds to the state only the
validated days that are new or were re-validated since (a day whose validated partition is newer than its
state partition), so the daily run for D+1 reads one validated day. The payee clusters of the last run are
kept too (OUT/state/clusters/, with each payee's link keys), so that the next run resolves only the payees
and clusters that changed, and so are the activity families' window sums (OUT/state/activity/), which the
next run moves forward by the days entering and leaving each window. `full=True` rebuilds the state of the
look-back, the clusters and the window sums from scratch; both give the same table.

Only validated transactions with booking_date < D and labels decided before D (UTC) are used: the validated
labels and the workbench's approved decisions (`read_labels`).

The state's layout (the two tables' schemas, derived from the code) is fingerprinted in
OUT/state/_layout.json: when a new version of Bantay adds or changes a state column, the next update rebuilds
the state whole instead of reading old days without that column.

Used by the features job (one as-of date), by training (`features_for_points`, `p2p_counts_at`: many
points, each as of its own date) and by drafting (`p2p_rows_for`: the p2p rows behind a cluster's payers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bantay import ledger
from bantay.cases import labels as case_labels
from bantay.errors import MissingArtefactError
from bantay.features import catalogue, network, payees, spending, state
from bantay.features.common import LOOKBACK_DAYS
from bantay.features.table import at_as_of, at_points, feature_table
from bantay.io import catalogue as output_catalogue
from bantay.io import files
from bantay.settings import Settings

logger = logging.getLogger(__name__)

PARTITION = ledger.PARTITION_COLUMN
STATE_TABLES = ("p2p", "daily")  # p2p first: a day's `daily` partition is the marker that the day is done
# Training points snap their network (F1-F5) as-of date DOWN to this grid (Mondays), to bound the number of
# cluster resolutions; older is safe, later would leak. Sender features use each point's exact as_of.
POINT_GRID_DAYS = 7
_GRID_ORIGIN = date(2000, 1, 3)  # a Monday


# --- stage logging ---


@contextmanager
def stage(name: str, as_of: date | None = None) -> Iterator[None]:
    started = time.monotonic()
    logger.info("features: %s%s ...", name, f" as of {as_of}" if as_of else "")
    yield
    logger.info("features: %s done in %.1fs", name, time.monotonic() - started)


# --- paths and reads ---


def state_path(settings: Settings, table: str) -> Path:
    """The folder of state table `table` ("p2p", "daily", "clusters" or "activity")."""
    return output_catalogue.path(settings.output_root, f"state_{table}")


def checkpoint_dir(settings: Settings) -> Path:
    """Spark's checkpoint folder for the cluster resolution (created)."""
    folder = output_catalogue.path(settings.output_root, "state_checkpoint")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _partition_days(base: Path) -> dict[date, float]:
    """booking_date partitions under `base` and their modification times."""
    return {day: folder.stat().st_mtime for day, folder in files.partition_dates(base, PARTITION).items()}


def _empty_transactions(spark: SparkSession) -> DataFrame:
    schema = T.StructType(
        [
            *ledger.TRANSACTIONS_SCHEMA.fields,
            T.StructField("booking_date", T.DateType()),
            T.StructField("amount_usd", T.DoubleType()),
        ]
    )
    return spark.createDataFrame([], schema)


_STATE_SCHEMAS: dict[str, T.StructType] = {}


def state_schema(spark: SparkSession, table: str) -> T.StructType:
    """Schema of a state table, derived from the code that builds it (so a read never infers types).

    Derived once per process: analysing the empty plans costs a second or two, and the code does not change.
    """
    if table not in _STATE_SCHEMAS:
        txns = _empty_transactions(spark)
        customers = spark.createDataFrame([], ledger.CUSTOMERS_SCHEMA)
        if table == "p2p":
            fx_rates = spark.createDataFrame([], ledger.FX_RATES_SCHEMA)
            _STATE_SCHEMAS[table] = state.p2p_rows(txns, customers, fx_rates).schema
        else:
            _STATE_SCHEMAS[table] = state.daily_rows(txns, customers).schema
    return _STATE_SCHEMAS[table]


def state_layout(spark: SparkSession) -> str:
    """Fingerprint of the state tables' schemas (a change of the state code changes it)."""
    schemas = {table: state_schema(spark, table).json() for table in STATE_TABLES}
    return hashlib.sha256(json.dumps(schemas, sort_keys=True).encode()).hexdigest()[:16]


def _layout_path(settings: Settings) -> Path:
    return output_catalogue.path(settings.output_root, "state_layout")


def _layout_changed(spark: SparkSession, settings: Settings) -> bool:
    """True when state exists but was written by code with another layout (or before layouts were kept)."""
    if not _partition_days(state_path(settings, "daily")):
        return False
    try:
        recorded = json.loads(_layout_path(settings).read_text()).get("layout")
    except (FileNotFoundError, ValueError, AttributeError):
        recorded = None
    return bool(recorded != state_layout(spark))


def _validated_days(settings: Settings, start: date, before: date) -> dict[date, float]:
    """The validated booking days start <= day < before and their partitions' modification times."""
    days = _partition_days(ledger.validated_path(settings.output_root, "transactions"))
    return {day: mtime for day, mtime in days.items() if start <= day < before}


def _stale_days(settings: Settings, validated: dict[date, float]) -> list[date]:
    """The days of `validated` whose state is missing or older than their validated partition (the `daily`
    table marks a day done: a day without p2p rows has no p2p partition)."""
    done = _partition_days(state_path(settings, "daily"))
    return sorted(d for d, t in validated.items() if d not in done or t > done[d])


def p2p_rows_for(spark: SparkSession, settings: Settings, start: date, before: date) -> DataFrame:
    """The p2p rows (`state.p2p_rows`) of booking days start <= day < before, as `update_state` would leave
    them: the state's rows of every day it holds as validated now, and the days it does not (a day validated
    again after the features ran, a day without rows, another state layout) derived from the validated
    transactions by the same code."""
    validated = _validated_days(settings, start, before)
    stale = sorted(validated) if _layout_changed(spark, settings) else _stale_days(settings, validated)
    current = read_state(spark, settings, "p2p", start, before)
    if not stale:
        return current
    txns = ledger.read_validated(
        spark, settings.output_root, "transactions", start=stale[0], before=stale[-1] + timedelta(days=1)
    )
    txns = txns.withColumn("booking_date", F.col("booking_date").cast("date")).where(
        F.col("booking_date").isin(stale)
    )
    fx_rates = ledger.read_validated(spark, settings.output_root, "fx_rates")
    derived = state.p2p_rows(txns, read_customers(spark, settings), fx_rates)
    kept = current.where(~F.col("booking_date").isin(stale))
    return kept.unionByName(derived)


def read_state(spark: SparkSession, settings: Settings, table: str, start: date, before: date) -> DataFrame:
    """State rows with start <= booking_date < before (empty frame when the state holds none)."""
    base = state_path(settings, table)
    schema = state_schema(spark, table)
    if not any(start <= day < before for day in _partition_days(base)):
        return spark.createDataFrame([], schema)
    frame = spark.read.schema(schema).option("basePath", str(base)).parquet(str(base))
    return frame.where(F.col("booking_date").between(F.lit(start), F.lit(before - timedelta(days=1))))


def read_customers(spark: SparkSession, settings: Settings) -> DataFrame:
    return ledger.read_validated(spark, settings.output_root, "customers")


def read_labels(spark: SparkSession, settings: Settings) -> DataFrame:
    """The validated labels and the workbench's approved decisions (OUT/case_labels, each decided at its
    approval time), as training and scoring read them (`bantay.cases.labels.with_decided`); empty when there
    are none (unlabelled is not negative). A case confirmed in the workbench before D makes its payee
    clusters "paid by a confirmed case" as of D, without waiting for the bank's label feed."""
    try:
        labels: DataFrame | None = ledger.read_validated(spark, settings.output_root, "labels")
    except MissingArtefactError:
        labels = None
    both = case_labels.with_decided(spark, labels, settings.output_root)
    return both if both is not None else spark.createDataFrame([], ledger.LABELS_SCHEMA)


def decided_before(labels: DataFrame, as_of: date) -> DataFrame:
    """Labels decided strictly before midnight UTC of `as_of`."""
    return labels.where(F.col("decided_at") < F.lit(ledger.day_start(as_of)))


# --- state ---


def update_state(
    spark: SparkSession, settings: Settings, start: date, before: date, full: bool = False
) -> list[date]:
    """Bring the state up to date for booking days start <= day < before; return the days (re)computed.

    A day is recomputed when it has no state yet or its validated partition is newer than its state;
    `full` recomputes every day of the range and replaces the state tables whole.
    """
    if not full and _layout_changed(spark, settings):
        logger.warning("features: the state was written with another layout; rebuilding it whole")
        full = True
    validated = _validated_days(settings, start, before)
    todo = sorted(validated) if full else _stale_days(settings, validated)
    if not todo:
        logger.info("features: state up to date (%d days)", len(validated))
        return []
    with stage(f"state for {len(todo)} day(s) {todo[0]}..{todo[-1]}{' (full)' if full else ''}"):
        txns = ledger.read_validated(
            spark, settings.output_root, "transactions", start=todo[0], before=todo[-1] + timedelta(days=1)
        )
        txns = txns.withColumn("booking_date", F.col("booking_date").cast("date"))
        if len(todo) != (todo[-1] - todo[0]).days + 1:
            txns = txns.where(F.col("booking_date").isin(todo))
        fx_rates = ledger.read_validated(spark, settings.output_root, "fx_rates")
        # Not cached: the scan and the join cost less CPU than filling and reading a cache of the joined rows
        # (measured at 1M transactions, docs/performance.md), so each table reads the validated days.
        rows = state.with_sender(txns, read_customers(spark, settings))
        frames = {"p2p": state.p2p_from_rows(rows, fx_rates), "daily": state.daily_from_rows(rows)}
        if full:
            # The two tables are swapped one after the other: until both are, no layout is recorded, so a
            # run killed between the swaps leaves a state the next update rebuilds whole (`_layout_changed`)
            # instead of one whose `daily` marks days done that the new `p2p` lacks.
            _layout_path(settings).unlink(missing_ok=True)
        for table in STATE_TABLES:
            frame = frames[table].repartition("booking_date")
            if full:
                with files.atomic_dir(state_path(settings, table)) as staging:
                    frame.write.partitionBy("booking_date").parquet(str(staging))
                    files.make_private(staging)
            else:
                # A day without rows loses its partition: the `daily` marker of an unfinished day stays
                # stale, so the next run redoes it.
                files.replace_partitions(frame, state_path(settings, table), PARTITION, todo)
        files.write_json(_layout_path(settings), {"layout": state_layout(spark)})
    return todo


# --- running window totals of the activity families ---


TOTALS_VERSION = 1  # raise when what a `spending.SUMS` column counts changes without changing its name
_TOTALS_RECORD = "_totals.json"  # inside the totals folder, so that it is swapped with the rows it describes


def _totals_layout() -> str:
    """Fingerprint of the totals' columns, windows and what each sums (the daily row's expression): totals of
    another layout are never advanced, only summed again."""
    sums = [[name, spec.days, str(value)] for spec in spending.SUMS for name, value in spec.parts().items()]
    payload = json.dumps({"version": TOTALS_VERSION, "sums": sums, "units": spending.FRACTION_UNITS})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _day_prints(settings: Settings, start: date, before: date) -> dict[str, str]:
    """Per `daily` state day start <= day < before (ISO), a fingerprint of its files: names, sizes and
    modification times. Spark names each written file after its job, so a day written again changes it."""
    prints = {}
    for day, folder in files.partition_dates(state_path(settings, "daily"), PARTITION).items():
        if start <= day < before:
            listing = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files.visible_files(folder)]
            prints[day.isoformat()] = hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]
    return prints


def _advance_from(settings: Settings, as_of: date) -> date | None:
    """The as_of of the kept totals when they can be moved forward to `as_of`, else None (and why, logged).

    They can when their layout is this code's, they are at most `spending.SHORTEST_WINDOW` days older than
    `as_of` (not newer), and every `daily` state day of their look-back is as it was when they were summed:
    a day validated again since, or a state rebuilt, sends the run back to summing the whole look-back."""
    try:
        record = json.loads((state_path(settings, "activity") / _TOTALS_RECORD).read_text())
        since = date.fromisoformat(record["as_of"])
        layout, recorded = record["layout"], record["days"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    reason = None
    if layout != _totals_layout():
        reason = "they were written with another layout"
    elif not 0 <= (as_of - since).days <= spending.SHORTEST_WINDOW:
        reason = f"they are as of {since}"
    elif _day_prints(settings, since - timedelta(days=LOOKBACK_DAYS), since) != recorded:
        reason = "a day of their look-back was written again since"
    if reason:
        logger.info("features: activity totals summed over the look-back: %s", reason)
        return None
    return since


def activity_features(spark: SparkSession, settings: Settings, as_of: date, full: bool = False) -> DataFrame:
    """The activity families (`spending.FAMILIES`) as of `as_of`, from running window totals.

    The totals of the last run are kept (OUT/state/activity/, with the as_of and a fingerprint of every
    state day they summed) and moved forward by the days entering and leaving each window
    (`spending.advance_totals`: a daily run reads the rows of four `daily` state days and the kept totals,
    not the rows of a year; it still lists the year's state files for the fingerprints); when they cannot
    be (`_advance_from`), or with `full`, they are summed over the look-back (`spending.window_totals`).
    The sums are exact, so both ways give the same values. Only state days before `as_of` are read."""
    start = as_of - timedelta(days=LOOKBACK_DAYS)
    target = state_path(settings, "activity")
    # Taken before the rows are read: the record must describe no newer file than the totals summed.
    days = _day_prints(settings, start, as_of)
    since = None if full else _advance_from(settings, as_of)
    if since is None:
        totals = spending.window_totals(at_as_of(read_state(spark, settings, "daily", start, as_of), as_of))
    else:
        wanted = spending.days_to_advance(since, as_of)  # empty when the totals are already as of as_of
        first = wanted[0] if wanted else as_of
        changes = read_state(spark, settings, "daily", first, as_of).where(F.col("booking_date").isin(wanted))
        previous = spark.read.schema(_totals_schema(spark)).parquet(str(target))
        totals = spending.advance_totals(previous, changes, since, as_of)
        logger.info("features: activity totals moved from %s by %d state day(s)", since, len(wanted))
    with files.atomic_dir(target) as staging:
        totals.write.parquet(str(staging))
        record = {"as_of": as_of.isoformat(), "layout": _totals_layout(), "days": days}
        files.write_json(staging / _TOTALS_RECORD, record)
        files.make_private(staging)
    return spending.activity_from_totals(spark.read.schema(_totals_schema(spark)).parquet(str(target)))


_TOTALS_SCHEMA: list[T.StructType] = []


def _totals_schema(spark: SparkSession) -> T.StructType:
    """Schema of the running totals (`spending.window_totals`), derived from the code once per process."""
    if not _TOTALS_SCHEMA:
        empty = spark.createDataFrame([], state_schema(spark, "daily"))
        _TOTALS_SCHEMA.append(spending.window_totals(at_as_of(empty, date(2000, 1, 1))).schema)
    return _TOTALS_SCHEMA[0]


# --- network (payee side, owned by features.payees / features.network) ---


CLUSTER_STATE_SCHEMA = "counterparty_id string, cluster_id string, link_keys array<string>"


def payee_clusters(spark: SparkSession, settings: Settings, p2p: DataFrame, reuse: bool = True) -> DataFrame:
    """`counterparty_id, cluster_id` of the payees in `p2p`, kept in OUT/state/clusters/ for the next run.

    With `reuse`, the clusters of the last run (any date) are the starting point (`payees.update_clusters`:
    same clusters, only what changed is resolved again); without, or when there are none, all are resolved.
    """
    target = state_path(settings, "clusters")
    previous = None
    if reuse and files.has_parquet(target):
        previous = spark.read.schema(CLUSTER_STATE_SCHEMA).parquet(str(target))
    checkpoint = checkpoint_dir(settings)
    clusters = payees.update_clusters(payees.payee_registry(p2p), previous, str(checkpoint))
    # `previous` is read lazily from `target`, and `clusters` is a local checkpoint that no longer needs it.
    with files.atomic_dir(target) as staging:
        clusters.coalesce(1).write.parquet(str(staging))
        files.make_private(staging)
    return clusters.select("counterparty_id", "cluster_id")


def network_features(
    settings: Settings,
    p2p: DataFrame,
    labels: DataFrame,
    as_of: date,
    clusters: DataFrame | None = None,
    cached: list[DataFrame] | None = None,
) -> tuple[DataFrame, DataFrame]:
    """F1-F5 as of `as_of`: (customer_id, as_of + F5 columns; clusters with cluster columns).

    `p2p`: the slim p2p rows of the look-back before as_of; `labels`: all labels (filtered here);
    `clusters`: the payee clusters of `p2p` when the caller has them (`payee_clusters`), else resolved here.
    `cached`: when given, the per-cluster table is persisted (both returned frames read it, and a caller
    writing both would otherwise compute it twice) and appended, for the caller to unpersist.
    """
    decided = decided_before(labels, as_of)
    if clusters is None:
        checkpoint = checkpoint_dir(settings)
        clusters = payees.resolve_clusters(payees.payee_registry(p2p), str(checkpoint))
    clusters_table = network.cluster_table(p2p, clusters, decided, as_of, settings.hub_sender_share)
    if cached is not None:
        clusters_table = clusters_table.persist()
        cached.append(clusters_table)
    customers = network.customer_network_features(p2p, clusters, clusters_table, decided, as_of)
    linked = clusters.join(clusters_table, on="cluster_id", how="left")
    return customers.withColumn("as_of", F.lit(as_of)), linked


def grid_date(as_of: date) -> date:
    """`as_of` snapped DOWN to the weekly grid (the Monday on or before it)."""
    return as_of - timedelta(days=(as_of - _GRID_ORIGIN).days % POINT_GRID_DAYS)


def features_for_points(spark: SparkSession, settings: Settings, points: DataFrame) -> DataFrame:
    """One feature row per (customer_id, as_of) point, each from data before its own as_of only.

    Sender features use the exact as_of of each point. Network features (F1-F5) are as of the weekly grid
    date (`grid_date`, on or before the point's as_of) with labels decided before that date; a customer's own
    label never feeds its features (the network code excludes it). Every grid date is computed in one pass
    over the state: the payee clusters of all grid dates come from one propagation
    (`payees.resolve_clusters_at`), and the cluster and customer aggregates are keyed by grid date
    (`network.cluster_table_at`, `network.customer_network_features_at`), only for the points' customers.
    Measured on the quality benchmark's training ledger (20k customers, 5,355 points, 24 grid dates,
    local[2]): one propagation took 155 s against 339 s resolving each date on its own; chaining
    `update_clusters` from date to date was no faster (about 14 s a date). docs/performance.md has the
    profile of the one-pass aggregates against one plan per grid date.
    """
    # Materialised once (a few rows a point): the dates, every feature family and the spine read it.
    points = (
        points.select("customer_id", F.col("as_of").cast("date").alias("as_of")).distinct()
        .localCheckpoint(eager=True)
    )
    dates = sorted(row["as_of"] for row in points.select("as_of").distinct().collect())
    if not dates:
        return spark.createDataFrame([], table_schema())
    start = grid_date(dates[0]) - timedelta(days=LOOKBACK_DAYS)
    update_state(spark, settings, start, dates[-1])
    p2p = read_state(spark, settings, "p2p", start, dates[-1])
    daily = read_state(spark, settings, "daily", start, dates[-1])
    grid = sorted({grid_date(d) for d in dates})
    labels = read_labels(spark, settings)
    snapped = points.withColumn("grid_as_of", _grid_column("as_of"))
    with stage(f"network features for {len(grid)} grid date(s), one pass"):
        checkpoint = checkpoint_dir(settings)
        # Every grid date at once: each p2p row once per grid date whose look-back holds it, the clusters of
        # every date from one propagation (the same as one resolve per date), then one aggregation keyed by
        # (as_of, ...) where the daily table's is keyed by its one date.
        scoped = payees.rows_at_dates(p2p, grid, LOOKBACK_DAYS)
        clusters = payees.resolve_clusters_at(p2p, grid, LOOKBACK_DAYS, str(checkpoint))
        confirmed = network.confirmed_payers_at(labels, grid)
        clusters_table = network.cluster_table_at(scoped, clusters, confirmed, settings.hub_sender_share)
        wanted = snapped.select("customer_id", F.col("grid_as_of").alias("as_of"))
        combined = network.customer_network_features_at(scoped, clusters, clusters_table, confirmed, wanted)
    network_rows = snapped.join(
        combined.withColumnRenamed("as_of", "grid_as_of"), on=["customer_id", "grid_as_of"], how="inner"
    ).drop("grid_as_of")
    return feature_table(
        at_points(p2p, points),
        spending.activity_features(at_points(daily, points)),
        read_customers(spark, settings),
        network_rows,
        spine=points,
    )


def p2p_counts_at(spark: SparkSession, settings: Settings, points: DataFrame, days: int) -> DataFrame:
    """`customer_id, as_of, n_p2p`: cross-border p2p payments of each point's customer booked in the `days`
    days before its as_of (the features' `n_p2p_<days>d`), from the state alone; points without any are
    absent. Cheap next to `features_for_points`: no network step."""
    points = points.select("customer_id", F.col("as_of").cast("date").alias("as_of")).distinct()
    bounds = points.agg(F.min("as_of").alias("first"), F.max("as_of").alias("last")).first()
    if bounds is None or bounds["first"] is None:
        return spark.createDataFrame([], "customer_id string, as_of date, n_p2p long")
    start = bounds["first"] - timedelta(days=days)
    update_state(spark, settings, start, bounds["last"])
    p2p = read_state(spark, settings, "p2p", start, bounds["last"])
    return (
        at_points(p2p, points)
        .where(F.col("booking_date") >= F.date_sub(F.col("as_of"), days))
        .groupBy("customer_id", "as_of")
        .agg(F.count(F.lit(1)).alias("n_p2p"))
    )


def _grid_column(name: str) -> Column:
    """`grid_date` as a Column."""
    return F.date_sub(
        F.col(name), F.pmod(F.datediff(F.col(name), F.lit(_GRID_ORIGIN)), F.lit(POINT_GRID_DAYS))
    )


def table_schema() -> T.StructType:
    """Schema of the feature table: customer_id, as_of, then the catalogue's columns as doubles."""
    return T.StructType(
        [T.StructField("customer_id", T.StringType()), T.StructField("as_of", T.DateType())]
        + [T.StructField(name, T.DoubleType()) for name in catalogue.model_columns()]
    )
