"""Approved decisions as training labels, in the ledger contract's `labels` format.

Each approval writes one Parquet file OUT/case_labels/<case id>-<approval time>.parquet with the columns
`customer_id, label, decided_at, typology`: label 1 for a confirmed case, 0 for one cleared as a look-alike
(inconclusive decisions are not labels); `decided_at` is the approval time (UTC); `typology` the outcome in
the ledger's words (`typology_of`: confirmed, or the look-alike cleared as, e.g. `sextortion_victim`).
Training reads them next to the ledger's validated labels with `with_decided` (latest decision wins).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, overload

import pyarrow as pa
import pyarrow.parquet as pq

from bantay import ledger
from bantay.cases.errors import CaseStoreError
from bantay.io import catalogue, files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STAMP = "%Y%m%dT%H%M%S%fZ"  # the approval time in a label file's name (UTC, microseconds)


def typology_of(outcome: str) -> str:
    """The label's typology for an outcome: `confirmed`, the look-alike's name (`cleared_sextortion_victim`
    -> `sextortion_victim`, as the ledger's labels name it), or `cleared` for one cleared as other."""
    if outcome == "cleared_other":
        return "cleared"
    return outcome.removeprefix("cleared_")


def labels_path(output_root: Path) -> Path:
    """The folder of the workbench's label files: the catalogue's `case_labels`."""
    return catalogue.path(output_root, "case_labels")


def write_decision(
    output_root: Path, *, case_id: str, customer_id: str, label: int, decided_at: datetime, typology: str
) -> Path:
    """Write one approved decision as a label file (0600 in a 0700 folder)."""
    folder = files.private_dir(labels_path(output_root))
    stamp = decided_at.astimezone(UTC)
    table = pa.Table.from_pylist(
        [
            {
                "customer_id": customer_id,
                "label": int(label),
                "decided_at": stamp,
                "typology": typology,
            }
        ],
        schema=ledger.arrow_schema("labels"),
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return files.write_private(folder / f"{case_id}-{stamp.strftime(STAMP)}.parquet", buffer.getvalue())


def decided_files(output_root: Path, before: date) -> list[Path]:
    """The label files of decisions approved before `before` (UTC midnight), by the approval time in their
    names; sorted. What a training as of `before` reads of the workbench (hidden staging files left out)."""
    cutoff = datetime.combine(before, time.min, tzinfo=UTC)
    return [path for path in files.visible_files(labels_path(output_root)) if _approved_at(path) < cutoff]


def _approved_at(path: Path) -> datetime:
    stamp = path.stem.rsplit("-", 1)[-1]  # <case id>-<approval time>, as write_decision names it
    try:
        return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise CaseStoreError(f"{path}: not a decision label (<case id>-<approval time>.parquet)") from None


def read_decided(spark: SparkSession, output_root: Path) -> DataFrame | None:
    """The workbench's labels as a Spark frame in the contract's schema, or None when there are none."""
    folder = labels_path(output_root)
    if not files.has_parquet(folder):
        return None
    return spark.read.schema(ledger.SCHEMAS["labels"]).parquet(str(folder))


@overload
def with_decided(spark: SparkSession, labels: DataFrame, output_root: Path) -> DataFrame: ...


@overload
def with_decided(spark: SparkSession, labels: None, output_root: Path) -> DataFrame | None: ...


def with_decided(spark: SparkSession, labels: DataFrame | None, output_root: Path) -> DataFrame | None:
    """The ledger's `labels` (None when absent) and the workbench's decisions together, one row per customer
    and decision time (exact repeats dropped); None when neither exists. `labelled_points` (training) and
    `realert_bars` (scoring) then keep each customer's latest decision before the cut-off."""
    decided = read_decided(spark, output_root)
    columns = [f.name for f in ledger.SCHEMAS["labels"].fields]
    if decided is None:
        return None if labels is None else labels.select(*columns)
    decided = decided.select(*columns)
    both = decided if labels is None else labels.select(*columns).unionByName(decided)
    return both.dropDuplicates(["customer_id", "decided_at", "label"])
