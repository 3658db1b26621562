"""File-level intake of a ledger table: list its files, judge each one, read the usable ones with Spark.

A file that cannot be read as part of its table is quarantined as a file (its path, a rule, its row count
where the file tells it) and the rest of the table flows on: a stray `notes.txt`, a Parquet file with a broken
footer or pages, a CSV file without the table's header (a semicolon- or tab-delimited export), a file missing
a required column, a file outside any `booking_date=` folder, a Parquet file Spark cannot read although
pyarrow can (a codec Spark has no class for, such as Brotli; nanosecond timestamps, as pandas writes them;
a TIME column; two columns whose names differ only in case). Only when no file of the table is usable is the
table unusable as a whole.

Usable files are read in groups of one layout (format, and column names and types) and unioned by name; a
column the groups store with different types is read as text: one file storing `amount` as text among files
storing decimals is read, and its values are judged row by row like any other. CSV is read as RFC
4180 says: quoted fields may hold line breaks and doubled quotes, and a record is a row, not a line.
Partition folders that are symbolic links are followed.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from bantay import ledger
from bantay.errors import TableUnusableError

PARTITION = ledger.PARTITION_COLUMN
FORMATS = {".parquet": "parquet", ".csv": "csv"}

# File rules: why a whole file was set aside.
NOT_DATA = "file_not_data"  # neither *.parquet nor *.csv
OUTSIDE_PARTITION = "file_outside_partition"  # a transactions file not directly in a booking_date= folder
UNREADABLE = "file_unreadable"  # a Parquet footer or page that does not decode, a CSV that is not text
DELIMITER = "file_not_comma_delimited"  # a CSV whose header splits on ';', tab or '|', not on commas
COLUMN_MISSING = "file_column_missing"  # a required column absent from the file
EMPTY = "file_empty"  # a CSV without even a header line
UNSUPPORTED = "file_unsupported"  # a Parquet file pyarrow reads but Spark cannot (codec, column type, names)

# Parquet codecs Spark 4 reads out of the box (Brotli and LZO need codec classes it does not ship).
SPARK_CODECS = frozenset({"UNCOMPRESSED", "SNAPPY", "GZIP", "LZ4", "LZ4_RAW", "ZSTD"})


@dataclass(frozen=True)
class FileFault:
    """A file of a ledger table that was not read: its path, the rule, and its rows when the file says."""

    path: Path
    rule: str
    rows: int | None
    detail: str = ""
    present: tuple[str, ...] = ()  # the file's columns, when one is missing

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "rule": self.rule, "rows": self.rows, "detail": self.detail}


@dataclass(frozen=True)
class Layout:
    """How one usable file stores its table: format and (column name, type) in file order."""

    fmt: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Intake:
    """A table's files: the usable ones by layout, and the faults."""

    table: str
    usable: dict[Path, Layout]
    faults: list[FileFault]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.parts)


def list_files(root: Path, table: str, partitions: set[str] | None = None) -> list[Path]:
    """Every file under `root/table` (symbolic links followed, `_` and `.` names skipped), sorted.

    For transactions, `partitions` limits the walk to those `booking_date=` values (None: every folder).
    """
    folder = root / table
    if not folder.is_dir():
        return []
    found: list[Path] = []
    for current, subdirs, names in os.walk(folder, followlinks=True):
        here = Path(current)
        relative = here.relative_to(folder)
        subdirs[:] = sorted(d for d in subdirs if not d.startswith(("_", ".")))
        if table == "transactions" and partitions is not None and relative == Path("."):
            subdirs[:] = [d for d in subdirs if d.removeprefix(f"{PARTITION}=") in partitions]
        found.extend(here / name for name in names if not name.startswith(("_", ".")))
    return sorted(found)


def partition_value(root: Path, table: str, path: Path) -> str | None:
    """The `booking_date=` value of a transactions file lying directly in its partition folder, else None."""
    relative = path.relative_to(root / table)
    if len(relative.parts) == 2 and relative.parts[0].startswith(f"{PARTITION}="):
        return relative.parts[0].removeprefix(f"{PARTITION}=")
    return None


def inspect(root: Path, table: str, files: list[Path], pages: bool = True) -> Intake:
    """Judge every file of `table`: usable (with its layout) or a fault with its rule.

    `pages`: decode every Parquet page (else only the footer is read, for a quick look at files not read).
    """
    required = ledger.REQUIRED_COLUMNS[table]
    usable: dict[Path, Layout] = {}
    faults: list[FileFault] = []
    for path in files:
        fmt = FORMATS.get(path.suffix.lower())
        if fmt is None:
            faults.append(FileFault(path, NOT_DATA, None, f"suffix {path.suffix or '(none)'}"))
            continue
        if table == "transactions" and partition_value(root, table, path) is None:
            faults.append(FileFault(path, OUTSIDE_PARTITION, _rows(path, fmt)))
            continue
        layout, fault = _parquet_layout(path, pages) if fmt == "parquet" else _csv_layout(path)
        if fault is not None:
            faults.append(fault)
            continue
        assert layout is not None
        names = {name for name, _ in layout.columns}
        missing = [name for name in required if name not in names]
        if missing:
            present = tuple(name for name, _ in layout.columns)
            faults.append(FileFault(path, COLUMN_MISSING, _rows(path, fmt), ", ".join(missing), present))
            continue
        usable[path] = layout
    return Intake(table, usable, faults)


def unusable(table: str, faults: list[FileFault]) -> TableUnusableError:
    """The one-line error for a table none of whose files can be read: table, column, rule, files, example."""
    first = faults[0]
    if all(f.rule == COLUMN_MISSING and f.detail == first.detail for f in faults):
        example = f"{first.path}: columns present: {', '.join(first.present)}"
        return TableUnusableError(table, first.detail, "column_missing", len(faults), example)
    detail = f": {first.detail}" if first.detail else ""
    return TableUnusableError(
        table, "(all)", "table_unreadable", len(faults), f"{first.path} ({first.rule}{detail})"
    )


def _parquet_layout(path: Path, pages: bool) -> tuple[Layout | None, FileFault | None]:
    try:
        handle = pq.ParquetFile(path)
        schema = handle.schema_arrow
        # Decode every page once (streamed): a broken page would otherwise fail the Spark job of the day.
        for _ in handle.iter_batches(batch_size=65_536) if pages else ():
            pass
    except (pa.ArrowException, OSError) as error:
        return None, FileFault(path, UNREADABLE, _rows(path, "parquet"), type(error).__name__)
    refused = spark_refuses(handle)
    if refused:
        return None, FileFault(path, UNSUPPORTED, int(handle.metadata.num_rows), refused)
    columns = tuple((field.name, str(field.type)) for field in schema if field.name != PARTITION)
    return Layout("parquet", columns), None


def spark_refuses(handle: pq.ParquetFile) -> str:
    """Why Spark cannot read a Parquet file that pyarrow reads ('' when it can), from the footer alone:
    Spark fails on these when it lists or reads the file, which would stop the whole day."""
    meta = handle.metadata
    for group in range(meta.num_row_groups):
        for index in range(meta.num_columns):
            chunk = meta.row_group(group).column(index)
            if chunk.compression not in SPARK_CODECS:
                return (
                    f"column {chunk.path_in_schema} compressed with {chunk.compression}, which Spark cannot "
                    "decompress: rewrite the file with snappy, zstd or gzip"
                )
    for index in range(len(handle.schema)):
        column = handle.schema.column(index)
        logical = json.loads(column.logical_type.to_json())
        kind = str(logical.get("Type", ""))
        if kind == "Timestamp" and logical.get("timeUnit") == "nanoseconds":
            return (
                f"column {column.path} holds nanosecond timestamps, which Spark does not read: write "
                "microseconds (pandas: to_parquet(..., coerce_timestamps='us'))"
            )
        if kind == "Time":
            return f"column {column.path} has type TIME, which Spark does not read: write a timestamp or text"
    seen: dict[str, str] = {}
    for name in handle.schema_arrow.names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            return f"columns {other} and {name} differ only in case, which Spark cannot tell apart"
    return ""


def _csv_header(path: Path) -> list[str] | None:
    with open(path, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), None)


def _csv_layout(path: Path) -> tuple[Layout | None, FileFault | None]:
    try:
        header = _csv_header(path)
    except (UnicodeDecodeError, csv.Error) as error:
        return None, FileFault(path, UNREADABLE, None, type(error).__name__)
    if not header:
        return None, FileFault(path, EMPTY, 0)
    if len(header) == 1:
        for delimiter in (";", "\t", "|"):
            if delimiter in header[0]:
                return None, FileFault(path, DELIMITER, _rows(path, "csv"), f"header splits on {delimiter!r}")
    names = tuple((name, "string") for name in header if name != PARTITION)
    return Layout("csv", names), None


def _rows(path: Path, fmt: str) -> int | None:
    """Rows in a file when it says: a Parquet footer's count, a CSV's records after the header."""
    try:
        if fmt == "parquet":
            return int(pq.read_metadata(path).num_rows)
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    except (pa.ArrowException, OSError, csv.Error):
        return None


def read(spark: SparkSession, root: Path, intake: Intake, with_position: bool = False) -> DataFrame:
    """The usable files of `intake` as one frame: each layout read on its own, cast to the table's types,
    unioned by name (a column a group lacks is null). Transactions keep `booking_date` as a string.

    `with_position` adds the source file and the row's position (see `quarantine.with_position`), per group,
    straight from the reader.
    """
    from bantay.quality import quarantine

    assert intake.usable, "no usable file"
    base = str(root / intake.table)
    groups: dict[Layout, list[str]] = {}
    for path, layout in intake.usable.items():
        groups.setdefault(layout, []).append(str(path))
    frames = [_read_group(spark, base, layout, paths) for layout, paths in groups.items()]
    if with_position:
        frames = [quarantine.with_position(frame) for frame in frames]
    types = _spark_types(frames)
    aligned = [_cast(frame, types) for frame in frames]
    combined = aligned[0]
    for frame in aligned[1:]:
        combined = combined.unionByName(frame, allowMissingColumns=True)
    return combined


def _read_group(spark: SparkSession, base: str, layout: Layout, paths: list[str]) -> DataFrame:
    # Partition values stay strings: a malformed folder name must be quarantined, not crash type inference.
    # The switch is session-wide, so it is restored at once (file listing happens when the frame is made).
    key = "spark.sql.sources.partitionColumnTypeInference.enabled"
    previous = spark.conf.get(key, "true")
    spark.conf.set(key, "false")
    try:
        reader = spark.read.option("basePath", base)
        if layout.fmt == "csv":
            return reader.options(**ledger.CSV_OPTIONS).csv(paths)
        return reader.parquet(*paths)
    finally:
        spark.conf.set(key, previous or "true")


def _spark_types(frames: list[DataFrame]) -> dict[str, T.DataType]:
    """Per column, the Spark type every group reads it as; text where the groups disagree (nothing is lost:
    the rules type every column from its text, and quarantined rows keep the value as written)."""
    types: dict[str, T.DataType] = {}
    for frame in frames:
        for field in frame.schema.fields:
            known = types.setdefault(field.name, field.dataType)
            if known != field.dataType:
                types[field.name] = T.StringType()
    return types


def _cast(frame: DataFrame, types: dict[str, T.DataType]) -> DataFrame:
    """`frame` with each column the groups disagree on as text."""
    columns = []
    for field in frame.schema.fields:
        wanted = types[field.name]
        if field.dataType == wanted:
            columns.append(F.col(field.name))
        else:
            columns.append(F.col(field.name).cast(wanted).alias(field.name))
    return frame.select(*columns)
