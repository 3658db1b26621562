"""Streaming writers for the ledger layout: one file per booking day, appended chunk by chunk (flat memory).

Files hold personal data, so they are created owner-only (0600) inside owner-only folders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")


def _private(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "wb")


def as_csv(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 UTC ("2025-03-01T21:14:05Z"); everything else as pyarrow writes it."""
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


class TableFile:
    """One output file that takes tables of the same schema, one row group (or CSV block) at a time."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self.fmt = fmt
        self.handle = _private(path)
        if fmt == "parquet":
            self.writer: pq.ParquetWriter | pcsv.CSVWriter = pq.ParquetWriter(
                self.handle, schema, compression="zstd", coerce_timestamps="us"
            )
        else:
            self.writer = pcsv.CSVWriter(self.handle, as_csv(schema.empty_table()).schema)

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self.writer.write_table(table if self.fmt == "parquet" else as_csv(table))

    def close(self) -> None:
        self.writer.close()
        self.handle.close()


class LedgerWriter:
    """Writes transactions/booking_date=D/part-00000.<ext> (one open file per day) and the other tables."""

    def __init__(self, root: Path, fmt: str) -> None:
        self.root, self.fmt = root, fmt
        self.ext = "parquet" if fmt == "parquet" else "csv"
        self.days: dict[str, TableFile] = {}
        self.tables: dict[str, TableFile] = {}

    def transactions(self, table: pa.Table, booking_dates: list[str], bounds: list[tuple[int, int]]) -> None:
        """`table` is sorted by booking day; bounds[k] is the row range of booking_dates[k]."""
        from bantay.synth.tables import TRANSACTIONS

        for booking, (lo, hi) in zip(booking_dates, bounds, strict=True):
            if hi <= lo:
                continue
            if booking not in self.days:
                path = self.root / "transactions" / f"booking_date={booking}" / f"part-00000.{self.ext}"
                self.days[booking] = TableFile(path, TRANSACTIONS, self.fmt)
            self.days[booking].write(table.slice(lo, hi - lo))

    def table(self, name: str, table: pa.Table) -> None:
        from bantay.synth.tables import SCHEMAS

        if name not in self.tables:
            self.tables[name] = TableFile(
                self.root / name / f"part-00000.{self.ext}", SCHEMAS[name], self.fmt
            )
        self.tables[name].write(table)

    def close(self) -> None:
        for handle in [*self.days.values(), *self.tables.values()]:
            handle.close()
        self.days, self.tables = {}, {}
