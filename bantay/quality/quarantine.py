"""Row-level quarantine in Spark: type each table to the contract, flag every rule, split good from bad rows.

Everything is built-in Column expressions (try-cast, joins, windows, `filter` over an array): no Python UDFs.
A table goes through `prepare` (typed columns and cross-row helpers), `flag` (the `rules` array and the first
`rule`), then `quarantined` (the original columns, unchanged, plus the rule and the run) and `accepted` (the
contract columns, typed). `counts` derives every number of the run summary from one aggregation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bantay import ledger
from bantay.quality.rules import (
    AMOUNT_NUMBER,
    BOOKING_DAY,
    CUSTOMER_KNOWN,
    DUP_RANK,
    SEEN_BEFORE,
    USD_PER_UNIT,
    Rule,
    typed,
)

RULE, RULES = "__rule", "__rules"
FILE, POSITION = "__file", "__position"
LABEL_NUMBER = "__label_number"


class ConservationError(RuntimeError):
    """Rows read != rows accepted + rows quarantined: a bug in the validator, never bad input."""


def with_position(raw: DataFrame) -> DataFrame:
    """Add the source file and the row's position in the read, so that "keep the first copy" is well defined.

    Call on the frame straight from the reader (the hidden `_metadata` column exists only there).
    """
    return raw.withColumn(FILE, F.col("_metadata.file_path")).withColumn(
        POSITION, F.monotonically_increasing_id()
    )


def _typed_value(raw: DataFrame, field: T.StructField) -> Column:
    """The contract-typed value of one column; a value that does not parse becomes null, never an error."""
    if field.name not in raw.columns:
        return F.lit(None).cast(field.dataType)
    source = F.col(field.name)
    if isinstance(field.dataType, T.StringType):
        text = source.cast("string")
        # Blank is missing: CSV cannot tell "" from null, so Parquet must not either.
        return F.when(F.trim(text) == "", F.lit(None).cast("string")).otherwise(text)
    if field.name == "label":
        # 1.0 is a label, 0.5 is not (a plain cast to int would truncate it to 0).
        number = F.col(LABEL_NUMBER)
        return F.when(number == F.floor(number), number.cast("int"))
    return source.try_cast(field.dataType)


def typed_columns(raw: DataFrame, table: str) -> list[Column]:
    """Every contract column of `table`, typed, under `__<name>`."""
    return [_typed_value(raw, field).alias(f"__{field.name}") for field in ledger.SCHEMAS[table].fields]


def _first_copy_rank(keys: list[Column], order: list[Column]) -> Column:
    """1 for the first copy of a key in `order`, 2.. for later copies, null when any key part is null."""
    window = (
        Window.partitionBy(*keys).orderBy(*order).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    any_null = F.lit(False)
    for key in keys:
        any_null = any_null | key.isNull()
    return F.when(~any_null, F.row_number().over(window))


def _with_first_copy_rank(frame: DataFrame, key: Column, order: list[Column]) -> DataFrame:
    """Add DUP_RANK as `_first_copy_rank` does, for a key that almost never repeats (a transaction id).

    Only the rows whose key repeats are ranked: their ids come from an aggregation of the key alone, and the
    window sorts just those rows. Every other row is the only copy (rank 1, or null for a null key), so the
    whole frame is neither shuffled nor sorted for the sake of a few duplicates.
    """
    repeated = (
        frame.where(key.isNotNull())
        .groupBy(key.alias("__dup_key"))
        .agg(F.count(F.lit(1)).alias("__copies"))
        .where(F.col("__copies") > 1)
        .select("__dup_key")
    )
    # Repeated ids are few (planted or accidental copies): a broadcast keeps the big side where it is.
    marked = frame.join(F.broadcast(repeated), key == F.col("__dup_key"), how="left")
    repeats = F.col("__dup_key").isNotNull()
    ranked = marked.where(repeats).withColumn(DUP_RANK, _first_copy_rank([key], order))
    single = marked.where(~repeats).withColumn(DUP_RANK, F.when(key.isNotNull(), F.lit(1)))
    return ranked.unionByName(single).drop("__dup_key")


def _known(frame: DataFrame, key: Column, known_ids: DataFrame) -> DataFrame:
    """Add CUSTOMER_KNOWN: whether `key` is among `known_ids` (one column of unique ids); never null.

    The ids are broadcast, whatever Spark estimates their size: one column of a book's customers is small
    beside its transactions, which a sort-merge join would shuffle and sort by customer (at 50M rows 10 GB
    shuffled and all of the full validation's spill; docs/performance.md).
    """
    lookup = known_ids.select(F.col(known_ids.columns[0]).alias("__known_id")).distinct()
    joined = frame.join(F.broadcast(lookup), key == F.col("__known_id"), how="left")
    return joined.withColumn(CUSTOMER_KNOWN, F.col("__known_id").isNotNull()).drop("__known_id")


def prepare(
    raw: DataFrame,
    table: str,
    known_customers: DataFrame | None = None,
    fx_rates: DataFrame | None = None,
    seen_txn_ids: DataFrame | None = None,
    broadcast_ids: bool = True,
) -> DataFrame:
    """Original columns, `__<name>` typed contract columns, and the helper columns the rules of `table` read.

    transactions: `known_customers` (accepted customer ids), `fx_rates` (accepted, contract-typed) and
    `seen_txn_ids` (txn_ids validated earlier, or None; `broadcast_ids`: the run's own ids are few enough to
    broadcast); the raw frame keeps `booking_date` as a string.
    customers, fx_rates: the raw frame comes from `with_position` (first copy wins).
    labels: `known_customers`.
    """
    frame = raw
    if table == "labels" and "label" in raw.columns:
        frame = frame.withColumn(LABEL_NUMBER, F.col("label").try_cast("double"))
    frame = frame.select("*", *typed_columns(frame, table))
    if table == "transactions":
        assert known_customers is not None and fx_rates is not None
        frame = frame.withColumn(BOOKING_DAY, ledger.partition_day_column(F.col(ledger.PARTITION_COLUMN)))
        amount = F.col("amount").cast("string").try_cast("double") if "amount" in raw.columns else F.lit(None)
        frame = frame.withColumn(AMOUNT_NUMBER, amount.cast("double"))
        contract = [
            typed(f.name).asc_nulls_last() for f in ledger.TRANSACTIONS_SCHEMA.fields if f.name != "txn_id"
        ]
        # The earliest booking is the original; ties are broken by every other column, so the choice does not
        # depend on file order (and CSV and Parquet ledgers agree).
        order = [typed("booked_at").asc_nulls_last(), F.col(BOOKING_DAY).asc_nulls_last(), *contract]
        read = frame
        frame = _with_first_copy_rank(frame, typed("txn_id"), order)
        if seen_txn_ids is None:
            frame = frame.withColumn(SEEN_BEFORE, F.lit(False))
        else:
            # Only the earlier ids that this run also holds: the days being validated name their ids, and the
            # earlier days' id column is filtered by them (a semi-join, the run's ids broadcast when
            # `broadcast_ids`), so a day costs a scan of one column of the history, not a shuffle of it.
            ids = read.select(typed("txn_id").alias("__seen_id")).where(F.col("__seen_id").isNotNull())
            ids = ids.distinct()
            # The ids found are at most the run's own (a handful unless a day was delivered twice).
            seen = seen_txn_ids.select(F.col("txn_id").alias("__seen_id")).join(
                F.broadcast(ids) if broadcast_ids else ids, on="__seen_id", how="left_semi"
            ).distinct()
            frame = (
                frame.join(F.broadcast(seen) if broadcast_ids else seen,
                           typed("txn_id") == F.col("__seen_id"), how="left")
                .withColumn(SEEN_BEFORE, F.col("__seen_id").isNotNull())
                .drop("__seen_id")
            )
        frame = _known(frame, typed("customer_id"), known_customers)
        rates = F.broadcast(
            fx_rates.select(
                F.col("rate_date").alias("__rate_date"),
                F.col("currency").alias("__rate_currency"),
                F.col("usd_per_unit").alias(USD_PER_UNIT),
            )
        )
        on = (typed("currency") == F.col("__rate_currency")) & (F.col(BOOKING_DAY) == F.col("__rate_date"))
        frame = frame.join(rates, on, how="left").drop("__rate_date", "__rate_currency")
    elif table == "customers":
        frame = frame.withColumn(
            DUP_RANK, _first_copy_rank([typed("customer_id")], [F.col(FILE), F.col(POSITION)])
        )
    elif table == "fx_rates":
        frame = frame.withColumn(
            DUP_RANK,
            _first_copy_rank([typed("currency"), typed("rate_date")], [F.col(FILE), F.col(POSITION)]),
        )
    elif table == "labels":
        assert known_customers is not None
        frame = _known(frame, typed("customer_id"), known_customers)
    return frame


def flag(prepared: DataFrame, rules: tuple[Rule, ...]) -> DataFrame:
    """Add `__rules` (every rule the row breaks, in order of precedence) and `__rule` (the first, or null)."""
    hits = F.array(*[F.when(F.coalesce(rule.broken, F.lit(False)), F.lit(rule.id)) for rule in rules])
    return prepared.withColumn(RULES, F.filter(hits, lambda hit: hit.isNotNull())).withColumn(
        RULE, F.get(F.col(RULES), 0)
    )


def for_reuse(flagged: DataFrame, original_columns: list[str]) -> DataFrame:
    """`flagged` as the validator keeps it in memory: the original columns only on bad rows, null elsewhere.

    Only `quarantined` reads the values as read, and only on bad rows; dropping them from good rows halves
    what the cache holds (good rows keep their typed `__<name>` columns), and building it is the largest
    cost of a run.
    """
    bad = F.col(RULE).isNotNull()
    kept = set(original_columns)
    return flagged.select(
        *[F.when(bad, F.col(name)).alias(name) if name in kept else F.col(name) for name in flagged.columns]
    )


def counts(flagged: DataFrame, rules: tuple[Rule, ...]) -> dict[str, Any]:
    """Rows read, accepted, quarantined, and per rule (by first rule; rows breaking it at all): one action."""
    aggregates = [F.count(F.lit(1)).alias("read"), F.count_if(F.col(RULE).isNull()).alias("accepted")]
    for index, rule in enumerate(rules):
        aggregates.append(F.count_if(F.col(RULE) == rule.id).alias(f"first_{index}"))
        aggregates.append(F.count_if(F.array_contains(F.col(RULES), rule.id)).alias(f"any_{index}"))
    row = flagged.agg(*aggregates).first()
    assert row is not None
    by_rule = {rule.id: int(row[f"first_{i}"]) for i, rule in enumerate(rules)}
    read, accepted, quarantined = int(row["read"]), int(row["accepted"]), sum(by_rule.values())
    result = {
        "read": read,
        "accepted": accepted,
        "quarantined": quarantined,
        "by_rule": by_rule,
        "breaking_rule": {rule.id: int(row[f"any_{i}"]) for i, rule in enumerate(rules)},
    }
    check_conservation("", read, accepted, quarantined)
    return result


def check_conservation(table: str, read: int, accepted: int, quarantined: int) -> None:
    if read != accepted + quarantined:
        raise ConservationError(
            f"table {table}: {read} rows read but {accepted} accepted + {quarantined} quarantined"
        )


def quarantined(flagged: DataFrame, original_columns: list[str], run_date: date, run_id: str) -> DataFrame:
    """The bad rows, whole and unchanged as read, with `rule`, `rules`, `run_date` and `run_id`."""
    return flagged.where(F.col(RULE).isNotNull()).select(
        *[F.col(name) for name in original_columns],
        F.col(RULE).alias("rule"),
        F.col(RULES).alias("rules"),
        F.lit(run_date).alias("run_date"),
        F.lit(run_id).alias("run_id"),
    )


def accepted(flagged: DataFrame, table: str) -> DataFrame:
    """The good rows typed to the contract; transactions add `amount_usd` and `booking_date` (date)."""
    good = flagged.where(F.col(RULE).isNull())
    columns = [typed(field.name).alias(field.name) for field in ledger.SCHEMAS[table].fields]
    if table == "transactions":
        columns.append((typed("amount").cast("double") * F.col(USD_PER_UNIT)).alias("amount_usd"))
        columns.append(F.col(BOOKING_DAY).alias(ledger.PARTITION_COLUMN))
    return good.select(*columns)


def checked(flagged: DataFrame, table: str) -> DataFrame:
    """Every row read, typed to the contract, with the cross-table facts the GX suite of `table` checks."""
    columns = [typed(field.name).alias(field.name) for field in ledger.SCHEMAS[table].fields]
    if table == "transactions":
        columns += [
            F.col(BOOKING_DAY).alias(ledger.PARTITION_COLUMN),
            F.to_date(typed("booked_at")).alias("booked_date"),
            F.col(CUSTOMER_KNOWN).alias("customer_known"),
            F.col(USD_PER_UNIT).alias("usd_per_unit"),
        ]
    elif table == "labels":
        columns.append(F.col(CUSTOMER_KNOWN).alias("customer_known"))
    return flagged.select(*columns)
