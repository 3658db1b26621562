"""One writer per output root; staging folders of killed runs are removed by the next run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bantay.errors import OutputLockedError
from bantay.io import files, lock


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _plant(out: Path, **holder: object) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / lock.LOCK_NAME
    path.write_text(json.dumps({"since": "2025-03-03T00:00:00Z", "boot": lock._boot_id(), **holder}))
    return path


def test_second_writer_gets_one_line_naming_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from bantay.io.lock import output_lock\n"
            f"with output_lock({str(tmp_path)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputLockedError) as caught, lock.output_lock(tmp_path):
            pass
        message = str(caught.value)
        assert "\n" not in message
        assert f"pid {holder.pid} on {socket.gethostname()}" in message
        assert str(tmp_path / lock.LOCK_NAME) in message
    finally:
        holder.kill()
        holder.wait()


def test_lock_file_is_private_and_removed_on_release(tmp_path: Path) -> None:
    with lock.output_lock(tmp_path) as path:
        content = json.loads(path.read_text())
        assert (content["pid"], content["host"]) == (os.getpid(), socket.gethostname())
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
        with lock.output_lock(tmp_path):  # reentrant: `bantay run` takes it again for each step
            pass
        assert path.exists()
    assert not path.exists()


def test_stale_lock_of_a_dead_process_is_broken(tmp_path: Path) -> None:
    _plant(tmp_path, pid=_dead_pid(), host=socket.gethostname())
    with lock.output_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_lock_from_before_a_reboot_is_broken(tmp_path: Path) -> None:
    _plant(tmp_path, pid=1, host=socket.gethostname(), boot="another-boot")
    if lock._boot_id() is None:
        pytest.skip("no boot id on this system")
    with lock.output_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_lock_from_another_host_is_kept(tmp_path: Path) -> None:
    path = _plant(tmp_path, pid=_dead_pid(), host="another-host")
    with pytest.raises(OutputLockedError, match="on another-host"), lock.output_lock(tmp_path):
        pass
    assert json.loads(path.read_text())["host"] == "another-host"


def test_taking_the_lock_removes_staging_folders_of_killed_runs(tmp_path: Path) -> None:
    killed = tmp_path / "cases" / "_staging" / "as_of=2025-03-03.0a1b"
    (killed / "CASE-1").mkdir(parents=True)
    (killed / "CASE-1" / "draft.json").write_text("{}")
    batch = tmp_path / "validated" / "transactions" / "_staging" / "_batch.ff"
    batch.mkdir(parents=True)
    kept = tmp_path / "cases" / "as_of=2025-03-02" / "CASE-2"
    kept.mkdir(parents=True)
    with lock.output_lock(tmp_path):
        assert not (tmp_path / "cases" / "_staging").exists()
        assert not batch.parent.exists()
        assert kept.is_dir()


def test_atomic_dir_removes_leftovers_of_the_same_target(tmp_path: Path) -> None:
    target = tmp_path / "cases" / "as_of=2025-03-03"
    leftover = tmp_path / "cases" / "_staging" / "as_of=2025-03-03.deadbeef"
    old = tmp_path / "cases" / "_staging" / "_old.as_of=2025-03-03.cafe"
    other = tmp_path / "cases" / "_staging" / "as_of=2025-03-04.beef"
    for folder in (leftover, old, other):
        folder.mkdir(parents=True)
    with files.atomic_dir(target) as staging:
        staging.mkdir()
        (staging / "index.html").write_text("ok")
    assert (target / "index.html").read_text() == "ok"
    assert not leftover.exists() and not old.exists()
    assert other.exists()  # another date's folder is left to the lock's sweep
