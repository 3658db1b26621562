"""Reading and writing the output root: partitions, the hidden-file rule, atomic swaps, owner-only files.

Every write goes through `atomic_dir` (or `replace_partition`, `replace_partitions`, `write_private`): output
is staged under a `_staging` folder beside its target and renamed into place, so a rerun replaces and a crash
leaves nothing that a later step would read. Names starting with `_` or `.` are hidden: Spark skips them, and
so does every listing here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bantay.errors import ConfigError
from bantay.io import catalogue
from bantay.io.catalogue import DIR_MODE, FILE_MODE, partition_path

if TYPE_CHECKING:  # no Spark at import: the DAG files list partitions with these helpers
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql import types as T

HIDDEN_PREFIXES = ("_", ".")
STAGING = "_staging"

__all__ = [
    "HIDDEN_PREFIXES",
    "STAGING",
    "atomic_dir",
    "has_parquet",
    "is_hidden",
    "make_private",
    "partition_dates",
    "partition_path",
    "partitions",
    "private_dir",
    "private_file",
    "read_optional",
    "remove_dir",
    "replace_partition",
    "replace_partitions",
    "visible_files",
    "write_json",
    "write_partition",
    "write_private",
]


# --- listing ---


def is_hidden(relative: Path) -> bool:
    """True when any part of `relative` starts with `_` or `.` (staging, trash, Spark's markers, dotfiles)."""
    return any(part.startswith(HIDDEN_PREFIXES) for part in Path(relative).parts)


def visible_files(folder: Path, suffixes: Iterable[str] = (".parquet",)) -> list[Path]:
    """Files under `folder` (recursively) with one of `suffixes`, hidden ones left out, sorted."""
    if not folder.is_dir():
        return []
    wanted = tuple(suffixes)
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in wanted and p.is_file() and not is_hidden(p.relative_to(folder))
    )


def has_parquet(folder: Path) -> bool:
    """True when `folder` holds at least one visible Parquet file."""
    return bool(visible_files(folder))


def partitions(base: Path, key: str) -> dict[str, Path]:
    """`key=value` folders directly under `base` by value as written, sorted; empty when `base` is absent."""
    if not base.is_dir():
        return {}
    prefix = f"{key}="
    found = {p.name[len(prefix) :]: p for p in base.iterdir() if p.is_dir() and p.name.startswith(prefix)}
    return dict(sorted(found.items()))


def partition_dates(base: Path, key: str) -> dict[date, Path]:
    """`partitions` whose value is an ISO date, by date (folders with other values are left out)."""
    dates: dict[date, Path] = {}
    for value, folder in partitions(base, key).items():
        with contextlib.suppress(ValueError):
            dates[date.fromisoformat(value)] = folder
    return dates


# --- reading ---


def read_optional(spark: SparkSession, path: Path, base_path: Path | None = None) -> DataFrame | None:
    """The Parquet dataset at `path`, or None when it is absent or holds no visible Parquet file."""
    if not has_parquet(path):
        return None
    reader = spark.read if base_path is None else spark.read.option("basePath", str(base_path))
    return reader.parquet(str(path))


# --- writing ---


def make_private(folder: Path) -> None:
    """Owner-only: `folder` and the folders under it 0700, its files 0600."""
    for current, subdirs, names in os.walk(folder):
        os.chmod(current, DIR_MODE)
        for name in subdirs:
            os.chmod(os.path.join(current, name), DIR_MODE)
        for name in names:
            os.chmod(os.path.join(current, name), FILE_MODE)


def private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) when absent and make it owner-only (0700); its files are left as
    they are (`make_private` walks them all)."""
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(folder, DIR_MODE)
    return folder


def private_file(path: Path) -> Path:
    """Create an empty owner-only (0600) file at `path` when none exists; an existing one is never truncated
    (a database that another process has just opened stays intact)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return path


@contextlib.contextmanager
def atomic_dir(target: Path, mode: int = DIR_MODE) -> Iterator[Path]:
    """Yield an empty staging folder beside `target`; on success swap it into place, on error remove it.

    The staging and trash folders start with `_`, so that Spark and every listing here never read them.
    Staging folders of this target left by a killed run are removed first. A body that writes nothing swaps
    in an empty folder; a staging folder removed while the body ran (another writer's sweep, which the
    output root's lock exists to prevent) stops the swap with an error instead: a marker file beside it
    (`_live.NAME.ID`), removed by the same sweeps, tells the two apart.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging_root = target.parent / STAGING
    staging_root.mkdir(mode=DIR_MODE, exist_ok=True)
    # Folders of an earlier write of this target that was killed (one writer per output root: none is live).
    mine = re.compile(rf"(_old\.|_live\.)?{re.escape(target.name)}\.[0-9a-f]+")
    for leftover in staging_root.iterdir():
        if not mine.fullmatch(leftover.name):
            continue  # another target's (`a` must not sweep `a.b`'s)
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    name = f"{target.name}.{uuid.uuid4().hex}"
    staging, live = staging_root / name, staging_root / f"_live.{name}"
    live.touch(mode=FILE_MODE)
    try:
        yield staging
        if not live.exists():
            raise OSError(f"{target}: its staging folder was removed while it was written (another writer?)")
        if not staging.exists():
            staging.mkdir(mode=mode)
        os.chmod(staging, mode)
        trash = staging_root / f"_old.{target.name}.{uuid.uuid4().hex}"
        if target.exists():
            os.rename(target, trash)
        os.rename(staging, target)
        shutil.rmtree(trash, ignore_errors=True)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        live.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            staging_root.rmdir()


def remove_dir(target: Path) -> None:
    """Remove the folder `target` atomically for readers: renamed aside first, then deleted."""
    if not target.exists():
        return
    staging_root = target.parent / STAGING
    staging_root.mkdir(exist_ok=True)
    trash = staging_root / f"_old.{target.name}.{uuid.uuid4().hex}"
    os.rename(target, trash)
    shutil.rmtree(trash, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging_root.rmdir()


def replace_partition(
    frame: DataFrame, base: Path, key: str, value: date | str, files: int | None = None
) -> Path:
    """Write `frame` as the single partition `base/key=value`, replacing any earlier one atomically."""
    target = partition_path(base, key, value)
    with atomic_dir(target) as staging:
        out = frame.coalesce(files) if files else frame
        out.write.mode("overwrite").parquet(str(staging))
        make_private(staging)
    return target


def write_partition(
    frame: DataFrame, output_root: Path, name: str, value: date | str, files: int | None = None
) -> Path:
    """`replace_partition` for the catalogue's dataset `name`: OUT/<its folder>/<its key>=value."""
    dataset = catalogue.dataset(name)
    if dataset.key is None:
        raise ConfigError(f"dataset {name} is not partitioned")
    return replace_partition(frame, dataset.path(output_root), dataset.key, value, files)


def replace_partitions(
    frame: DataFrame,
    base: Path,
    key: str,
    values: Iterable[date | str],
    empty: T.StructType | None = None,
) -> None:
    """Write `frame` partitioned by `key` in one Spark write, then swap each of `values` into `base`.

    Each swap is a rename, so a reader sees a day whole or not at all; a crash between swaps leaves whole
    days. A value without rows gets an empty partition of schema `empty` when given (the day then counts as
    done), else its old partition is removed.
    """
    base.mkdir(parents=True, exist_ok=True)
    batch = base / STAGING / f"_batch.{uuid.uuid4().hex}"
    try:
        frame.write.partitionBy(key).mode("overwrite").parquet(str(batch))
        spark = frame.sparkSession
        for value in values:
            produced = partition_path(batch, key, value)
            target = partition_path(base, key, value)
            if not produced.is_dir() and empty is None:
                remove_dir(target)
                continue
            with atomic_dir(target) as staging:
                if produced.is_dir():
                    os.rename(produced, staging)
                else:
                    spark.createDataFrame([], empty).coalesce(1).write.mode("overwrite").parquet(str(staging))
                make_private(staging)
    finally:
        shutil.rmtree(batch, ignore_errors=True)
        with contextlib.suppress(OSError):
            batch.parent.rmdir()


def write_private(path: Path, data: str | bytes) -> Path:
    """Write a file readable by its owner only (0600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def write_json(path: Path, payload: Any) -> Path:
    """Write JSON (sorted keys, ISO dates) with owner-only permissions."""
    return write_private(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
