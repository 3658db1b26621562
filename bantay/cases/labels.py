"""Approved decisions as training labels, in the ledger contract's `labels` format.

Each approval writes one Parquet file OUT/case_labels/<case id>-<approval time>.parquet with the columns
`customer_id, label, decided_at, typology`: label 1 for a confirmed case, 0 for one cleared as a look-alike
(inconclusive decisions are not labels; a null label is a withdrawal, below); `decided_at` is the approval
time (UTC); `typology` the outcome in the ledger's words (`typology_of`: confirmed, or the look-alike cleared
as, e.g. `sextortion_victim`).
Training reads them next to the ledger's validated labels with `with_decided` (latest decision wins).

Reopening an approved case withdraws its label: `write_withdrawal` writes a file of the same layout with a
null `label` (typology `withdrawn`) at the reopening time. Every reader keeps each customer's latest decision
before its cut-off and then drops a withdrawn one, so as of a day before the reopening the label still
counts (it was the decision then) and as of a day after it no longer does, until a new approval.

A label file also records the case's `origin`: `alert` for a case opened from the day's alerts,
`below_line_sample` for a case sampled just under the alert line (casework: below-the-line cases stay
flagged). `origins` gives every label's origin, `ledger` for the ledger's own labels, so that the promotion
gate can also compare models on the labels not from alerts (`bantay.models.registry.promote`).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
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
ORIGIN = "origin"
ALERT, BELOW_LINE_SAMPLE, LEDGER = "alert", "below_line_sample", "ledger"  # a label's origins
UNCHOSEN = (LEDGER, BELOW_LINE_SAMPLE)  # label origins other than an alerted case
UNLABELLED_SAMPLE = "unlabelled_sample"  # training's unlabelled sample, as an evaluation row's origin


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
    output_root: Path,
    *,
    case_id: str,
    customer_id: str,
    label: int,
    decided_at: datetime,
    typology: str,
    origin: str = ALERT,
) -> Path:
    """Write one approved decision as a label file (0600 in a 0700 folder): the contract's `labels` columns
    and the case's `origin` (ALERT or BELOW_LINE_SAMPLE)."""
    if origin not in (ALERT, BELOW_LINE_SAMPLE):
        raise ValueError(f"unknown label origin {origin!r}")
    files.private_dir(labels_path(output_root))
    stamp = decided_at.astimezone(UTC)
    table = pa.Table.from_pylist(
        [
            {
                "customer_id": customer_id,
                "label": int(label),
                "decided_at": stamp,
                "typology": typology,
                ORIGIN: origin,
            }
        ],
        schema=ledger.arrow_schema("labels").append(pa.field(ORIGIN, pa.string())),
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return files.write_private(decision_path(output_root, case_id, stamp), buffer.getvalue())


def decision_path(output_root: Path, case_id: str, decided_at: datetime) -> Path:
    """The label file of case `case_id`'s decision approved at `decided_at` (`write_decision`)."""
    stamp = decided_at.astimezone(UTC) if decided_at.tzinfo else decided_at.replace(tzinfo=UTC)
    return labels_path(output_root) / f"{case_id}-{stamp.strftime(STAMP)}.parquet"


WITHDRAWN = "withdrawn"  # the typology of a withdrawal (a reopened case's label taken back)


def write_withdrawal(output_root: Path, *, case_id: str, customer_id: str, withdrawn_at: datetime) -> Path:
    """Withdraw a reopened case's label from `withdrawn_at` on: a label file with a null `label`."""
    folder = files.private_dir(labels_path(output_root))
    stamp = withdrawn_at.astimezone(UTC)
    table = pa.Table.from_pylist(
        [{"customer_id": customer_id, "label": None, "decided_at": stamp, "typology": WITHDRAWN,
          ORIGIN: ALERT}],
        schema=ledger.arrow_schema("labels").append(pa.field(ORIGIN, pa.string())),
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return files.write_private(folder / f"{case_id}-{stamp.strftime(STAMP)}.parquet", buffer.getvalue())


def times_by_case(output_root: Path) -> dict[str, list[tuple[datetime, Path]]]:
    """Every workbench label file by case id, with the decision time in its name; one listing."""
    found: dict[str, list[tuple[datetime, Path]]] = {}
    for path in files.visible_files(labels_path(output_root)):
        case_id = path.stem.rsplit("-", 1)[0]
        found.setdefault(case_id, []).append((_approved_at(path), path))
    return found


def has_label_near(
    index: dict[str, list[tuple[datetime, Path]]],
    case_id: str,
    at: datetime,
    slack: timedelta,
    withdrawal: bool,
) -> bool:
    """Whether case `case_id` has a label file (a withdrawal, or a decision) stamped at `at` or up to `slack`
    before it: a decision recorded by a version of Bantay that stamped its file a moment before its audit
    event. `index`: `times_by_case`."""
    stamp = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    for written, path in index.get(case_id, []):
        if stamp - slack <= written <= stamp:
            typology = pq.read_table(path, columns=["typology"]).column("typology").to_pylist()
            if (typology == [WITHDRAWN]) == withdrawal:
                return True
    return False


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


def origins(spark: SparkSession, labels: DataFrame | None, output_root: Path) -> DataFrame:
    """`customer_id, label, decided_at, origin` of every label: LEDGER for the ledger's `labels` (None when
    absent), the file's origin for the workbench's decisions (null in files written before origins were
    recorded)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    schema = "customer_id string, label int, decided_at timestamp, origin string"
    parts = [] if labels is None else [
        labels.select("customer_id", "label", "decided_at", F.lit(LEDGER).alias(ORIGIN))
    ]
    folder = labels_path(output_root)
    if files.has_parquet(folder):
        fields = [*ledger.SCHEMAS["labels"].fields, T.StructField(ORIGIN, T.StringType())]
        decided = spark.read.schema(T.StructType(fields)).parquet(str(folder))
        parts.append(decided.select("customer_id", "label", "decided_at", ORIGIN))
    if not parts:
        return spark.createDataFrame([], schema)
    both = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    return both.dropDuplicates(["customer_id", "label", "decided_at", ORIGIN])
