"""Helpers for the production set-up tests: PostgreSQL databases, free ports, background services.

A PostgreSQL test needs a server on 127.0.0.1:5432 that accepts user `postgres` without a password (trust
auth, as in CI); it skips, saying so, only when nothing answers there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def postgres_answers(timeout: float = 2.0) -> bool:
    """True when something accepts a TCP connection on 127.0.0.1:5432 within `timeout` seconds."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _admin_connection():
    import psycopg2

    last: Exception | None = None
    for maintenance_db in ("postgres", "test"):
        try:
            connection = psycopg2.connect(
                host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=maintenance_db, connect_timeout=5
            )
        except psycopg2.OperationalError as error:
            last = error
            continue
        connection.autocommit = True
        return connection
    raise AssertionError(f"PostgreSQL on {PG_HOST}:{PG_PORT} answers but refuses user {PG_USER}: {last}")


def fresh_database() -> Iterator[str]:
    """Name of a fresh, empty database, dropped (with any connection left open to it) after the test."""
    if not postgres_answers():
        pytest.skip(f"no PostgreSQL server answers on {PG_HOST}:{PG_PORT} (checked with a 2 s connect)")
    name = f"bantay_test_{uuid.uuid4().hex[:12]}"
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


def query(database: str, sql: str, *args: object) -> list[tuple]:
    """Run one query on `database` and return its rows."""
    import psycopg2

    connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database)
    with contextlib.closing(connection), connection.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall()) if cursor.description else []


class Services:
    """Background processes started by one test, each in its own process group, all stopped at teardown."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=REPO
        )
        log.close()
        self.started.append((name, process))
        return process

    def log(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def assert_running(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)}")

    def stop(self) -> None:
        # Each service was started as the leader of its own process group: stop the group (its workers too).
        for _, process in reversed(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for _, process in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def running_services(tmp_path: Path) -> Iterator[Services]:
    running = Services(tmp_path / "logs")
    try:
        yield running
    finally:
        running.stop()


def wait_for(
    what: str,
    check: Callable[[], object],
    timeout: float,
    services: Services | None = None,
    every: float = 2.0,
) -> object:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if services is not None:
            services.assert_running()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
