"""One writer per output root: a lock file naming its holder, and the sweep of staging folders it makes safe.

`OUT/.bantay.lock` holds the holder's pid, host, boot and start time. It is created complete (written under
a private name, then hard-linked into place: `link` fails when the name exists, on local disks and NFS
alike), so no reader sees a half-written holder. A lock whose holder ran on this host but is gone (its pid is
dead, or the machine has rebooted since) is stale and is broken; one held from another host cannot be checked
from here, so the message names the file to remove by hand.

The lock is reentrant within a process (`bantay run` holds it while each step takes it again). Taking it fresh
means no other writer is alive, so `_staging` folders left by killed runs are removed then.

A folder written whole and swapped into place (the ledger `bantay generate` writes) cannot hold its own lock:
the swap would carry it away. `folder_lock` keeps it beside the folder, `.NAME.bantay.lock`, with the same
holder, staleness and one-line refusal, and sweeps nothing (the swap clears the folder's own leftovers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bantay.errors import OutputLockedError
from bantay.io.files import STAGING

logger = logging.getLogger(__name__)

LOCK_NAME = ".bantay.lock"
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_held: dict[Path, int] = {}  # output roots this process holds, with their nesting depth


@contextlib.contextmanager
def output_lock(output_root: Path) -> Iterator[Path]:
    """Hold the lock of `output_root` for the block; `OutputLockedError` at once if a live run holds it."""
    root = Path(output_root).resolve()
    if root in _held:
        _held[root] += 1
        try:
            yield root / LOCK_NAME
        finally:
            _held[root] -= 1
        return
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / LOCK_NAME
    mine = _acquire(path)
    _held[root] = 1
    try:
        removed = clear_staging(root)
        if removed:
            logger.info("removed %d staging folder(s) left by an earlier run", removed)
        yield path
    finally:
        del _held[root]
        with contextlib.suppress(OSError):
            if _read(path) == mine:
                path.unlink()


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[Path]:
    """Hold the lock of a folder that is replaced whole (`.NAME.bantay.lock` beside it) for the block;
    `OutputLockedError` at once if a live writer of that folder holds it."""
    target = Path(folder).resolve()
    path = target.parent / f".{target.name}{LOCK_NAME}"
    if path in _held:
        _held[path] += 1
        try:
            yield path
        finally:
            _held[path] -= 1
        return
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mine = _acquire(path, target)
    _held[path] = 1
    try:
        yield path
    finally:
        del _held[path]
        with contextlib.suppress(OSError):
            if _read(path) == mine:
                path.unlink()


def holder() -> dict[str, Any]:
    """This process as a lock holder."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "boot": _boot_id(),
        "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "token": uuid.uuid4().hex,
    }


def _acquire(path: Path, guarded: Path | None = None) -> dict[str, Any]:
    """Take the lock file `path` (guarding `guarded`, by default its folder) or say who holds it."""
    guarded = path.parent if guarded is None else guarded
    mine = holder()
    for _ in range(3):  # a stale lock broken by us (or by a rival at the same moment) is retried
        if _link_new(path, mine):
            return mine
        current = _read(path)
        if current is None:  # released between our attempt and the read
            continue
        if not _is_stale(current):
            raise OutputLockedError(
                f"{guarded}: in use by another bantay run (pid {current.get('pid')} on "
                f"{current.get('host')} since {current.get('since')}); wait for it, or remove {path} if no "
                "run is active"
            )
        _break(path, current)
    raise OutputLockedError(f"{guarded}: cannot take the lock {path}; another run is starting")


def _link_new(path: Path, content: dict[str, Any]) -> bool:
    """Create `path` holding `content`, atomically and only if it does not exist."""
    draft = path.with_name(f"{LOCK_NAME}.{content['token']}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    try:
        os.link(draft, path)
        return True
    except FileExistsError:
        return False
    finally:
        draft.unlink()


def _read(path: Path) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"pid": None, "host": None, "since": None, "unreadable": True}
    return content if isinstance(content, dict) else {"pid": None, "host": None, "unreadable": True}


def _is_stale(content: dict[str, Any]) -> bool:
    """The holder ran on this host and is gone (dead pid, or a reboot since); a foreign one is never stale."""
    if content.get("host") != socket.gethostname():
        return False
    boot = _boot_id()
    if boot and content.get("boot") and content["boot"] != boot:
        return True
    pid = content.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _break(path: Path, stale: dict[str, Any]) -> None:
    """Remove a stale lock; if a rival replaced it with a live one meanwhile, put that one back."""
    aside = path.with_name(f"{LOCK_NAME}.stale.{uuid.uuid4().hex}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return
    if _read(aside) != stale:
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
    else:
        logger.warning("broke a stale lock of pid %s on %s", stale.get("pid"), stale.get("host"))
    aside.unlink()


def _boot_id() -> str | None:
    try:
        return _BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def clear_staging(output_root: Path) -> int:
    """Remove every `_staging` folder under `output_root` (left by killed runs); returns how many.

    Call only while holding the lock: a live writer's staging folder would go too. MLflow's store is skipped.
    """
    removed = 0
    for current, subdirs, _ in os.walk(output_root):
        if Path(current) == Path(output_root):
            subdirs[:] = [name for name in subdirs if name != "mlflow"]
        for name in [name for name in subdirs if name == STAGING]:
            shutil.rmtree(os.path.join(current, name), ignore_errors=True)
            subdirs.remove(name)
            removed += 1
    return removed
