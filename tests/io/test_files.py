"""The output root's I/O helpers: listings skip hidden names, swaps are atomic (also under a kill), files are
owner-only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from bantay.errors import ConfigError
from bantay.io import files


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> text of every visible file under `root`."""
    return {p.relative_to(root).as_posix(): p.read_text() for p in files.visible_files(root, (".txt",))}


def test_visible_files_skip_underscore_and_dot_names(tmp_path):
    for relative in ("a.parquet", "day=1/b.parquet", "_staging/c.parquet", "day=2/.d.parquet", "_SUCCESS",
                     ".hidden/e.parquet", "f.csv"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in files.visible_files(tmp_path)] == [
        "a.parquet",
        "day=1/b.parquet",
    ]
    assert files.has_parquet(tmp_path / "day=1")
    assert not files.has_parquet(tmp_path / "day=2")  # only a dot file
    assert not files.has_parquet(tmp_path / "absent")
    assert files.is_hidden(Path("x/_staging/y")) and not files.is_hidden(Path("x/y"))


def test_partitions_list_key_folders_and_dates_skip_other_values(tmp_path):
    for name in ("as_of=2025-03-02", "as_of=2025-03-01", "as_of=oops", "run_date=2025-03-01", "_staging"):
        (tmp_path / name).mkdir()
    (tmp_path / "as_of=2025-03-03").write_text("a file, not a partition")
    assert list(files.partitions(tmp_path, "as_of")) == ["2025-03-01", "2025-03-02", "oops"]
    assert files.partition_dates(tmp_path, "as_of") == {
        date(2025, 3, 1): tmp_path / "as_of=2025-03-01",
        date(2025, 3, 2): tmp_path / "as_of=2025-03-02",
    }
    assert files.partitions(tmp_path / "absent", "as_of") == {}


def test_atomic_dir_swaps_in_whole_and_keeps_the_old_on_error(tmp_path):
    target = tmp_path / "as_of=2025-03-01"
    with files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "part.txt").write_text("first")
    assert _tree(tmp_path) == {"as_of=2025-03-01/part.txt": "first"}
    assert _mode(target) == 0o700
    with pytest.raises(RuntimeError), files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "part.txt").write_text("half")
        raise RuntimeError("the writer failed")
    assert _tree(tmp_path) == {"as_of=2025-03-01/part.txt": "first"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["as_of=2025-03-01"]  # staging removed


def test_a_staging_folder_swept_while_written_stops_the_swap(tmp_path):
    """Another writer's sweep (`lock.clear_staging`, or a write of the same target) removing the staging
    folder mid-write must not swap in an empty folder as if the body had written nothing."""
    from bantay.io import lock

    target = tmp_path / "as_of=2025-03-01"
    with files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "part.txt").write_text("first")
    with pytest.raises(OSError, match="removed while it was written"), files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "part.txt").write_text("second")
        assert lock.clear_staging(tmp_path) == 1
    assert _tree(tmp_path) == {"as_of=2025-03-01/part.txt": "first"}
    with pytest.raises(OSError, match="removed while it was written"), files.atomic_dir(target) as staging:
        staging.mkdir()
        with files.atomic_dir(target) as other:  # a second writer of the same target sweeps the first's
            other.mkdir()
            (other / "part.txt").write_text("other")
    assert _tree(tmp_path) == {"as_of=2025-03-01/part.txt": "other"}
    with files.atomic_dir(target):
        pass  # a body that writes nothing still swaps in an empty folder
    assert _tree(tmp_path) == {} and target.is_dir()


def test_make_private_and_write_private_are_owner_only(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("x")
    os.chmod(tmp_path / "a" / "b" / "f.txt", 0o644)
    files.make_private(tmp_path / "a")
    assert [_mode(tmp_path / p) for p in ("a", "a/b", "a/b/f.txt")] == [0o700, 0o700, 0o600]
    path = files.write_json(tmp_path / "out" / "summary.json", {"day": date(2025, 3, 1), "n": 2})
    assert _mode(path) == 0o600
    assert path.read_text() == '{\n  "day": "2025-03-01",\n  "n": 2\n}\n'
    files.write_private(path, "replaced")
    assert path.read_text() == "replaced"
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]


def test_private_dir_and_private_file_are_owner_only_and_never_truncate(tmp_path):
    (tmp_path / "store").mkdir(mode=0o755)
    os.chmod(tmp_path / "store", 0o755)  # an existing folder is made owner-only too
    folder = files.private_dir(tmp_path / "store")
    nested = files.private_dir(tmp_path / "new" / "store")
    assert [_mode(folder), _mode(nested)] == [0o700, 0o700]
    db = files.private_file(folder / "cases.sqlite")
    assert _mode(db) == 0o600 and db.read_bytes() == b""
    db.write_bytes(b"SQLite format 3")
    files.private_file(db)  # a second opener finds the file as it is
    assert db.read_bytes() == b"SQLite format 3"


def test_remove_dir_leaves_nothing_visible(tmp_path):
    (tmp_path / "day=1").mkdir()
    (tmp_path / "day=1" / "f.txt").write_text("x")
    files.remove_dir(tmp_path / "day=1")
    files.remove_dir(tmp_path / "day=2")  # absent: nothing to do
    assert list(tmp_path.iterdir()) == []


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from bantay.io import files
target, how = Path(sys.argv[1]), sys.argv[2]
if how == "dir":
    with files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "part.txt").write_text("half of the new")
        (target.parent / "ready").touch()
        time.sleep(600)
else:  # stall between writing the temporary file and renaming it over the target
    import os
    def stall(*args):
        (target.parent / "ready").touch()
        time.sleep(600)
    os.replace = stall
    files.write_private(target, "new")
"""


@pytest.mark.parametrize("how", ["dir", "file"])
def test_a_writer_killed_mid_write_leaves_the_previous_output_and_nothing_visible(tmp_path, how):
    root = tmp_path / "cases"
    target = root / ("as_of=2025-03-01" if how == "dir" else "summary.txt")
    if how == "dir":
        with files.atomic_dir(target) as staging:
            staging.mkdir()
            (staging / "part.txt").write_text("previous")
    else:
        files.write_private(target, "previous")
    before = _tree(root)
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(target), how])
    try:
        deadline = time.monotonic() + 120
        while not (root / "ready").exists():
            assert writer.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline, "the writer never reached the middle of its write"
            time.sleep(0.1)
        (root / "ready").unlink()
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
    finally:
        if writer.poll() is None:
            writer.kill()
    # The previous output is intact and the half-written one is hidden (`_staging`, `.name.tmp`).
    assert _tree(root) == before
    assert [p.name for p in root.iterdir() if not files.is_hidden(p.relative_to(root))] == [target.name]


def test_replace_partitions_swaps_each_day_and_handles_days_without_rows(spark, tmp_path):
    base = tmp_path / "daily"
    schema = "customer_id string, n long, booking_date date"
    first = spark.createDataFrame(
        [("c1", 1, date(2025, 3, 1)), ("c1", 2, date(2025, 3, 2)), ("c2", 3, date(2025, 3, 3))], schema
    )
    days = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    files.replace_partitions(first, base, "booking_date", days)
    # Day 03-02 is redone with new rows, 03-03 is redone without any: without `empty` its partition goes.
    second = spark.createDataFrame([("c9", 9, date(2025, 3, 2))], schema)
    files.replace_partitions(second, base, "booking_date", [date(2025, 3, 2), date(2025, 3, 3)])
    rows = sorted(tuple(r) for r in spark.read.parquet(str(base)).collect())
    assert rows == [("c1", 1, date(2025, 3, 1)), ("c9", 9, date(2025, 3, 2))]
    assert sorted(files.partitions(base, "booking_date")) == ["2025-03-01", "2025-03-02"]
    assert not (base / "_staging").exists()
    assert {_mode(p) for p in files.visible_files(base)} == {0o600}
    # With `empty`, a day without rows gets an empty partition (it counts as done).
    empty = second.drop("booking_date").schema
    files.replace_partitions(second, base, "booking_date", [date(2025, 3, 3)], empty=empty)
    assert files.has_parquet(base / "booking_date=2025-03-03")
    assert spark.read.parquet(str(base / "booking_date=2025-03-03")).count() == 0


def test_write_partition_and_read_optional_use_the_catalogue(spark, tmp_path):
    frame = spark.createDataFrame([("c1", 0.5)], "customer_id string, score double")
    path = files.write_partition(frame, tmp_path, "scores", date(2025, 3, 1))
    assert path == tmp_path / "scores" / "as_of=2025-03-01"
    assert files.read_optional(spark, path).collect()[0]["score"] == 0.5
    assert files.read_optional(spark, tmp_path / "scores" / "as_of=2025-03-02") is None
    with pytest.raises(ConfigError, match="not partitioned"):
        files.write_partition(frame, tmp_path, "validated_labels", date(2025, 3, 1))
