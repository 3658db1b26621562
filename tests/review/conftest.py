"""A workbench app on a fresh SQLite store per test, and a signed-in client factory."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from review_support import PASSWORD, csrf_of, make_out

from bantay.review.app import create_app


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """One output root with the team and the day's cases (argon2 hashing is slow on purpose: once)."""
    template = tmp_path_factory.mktemp("review") / "out"
    return template, make_out(template)


@pytest.fixture()
def out(tmp_path: Path, made: tuple[Path, dict[str, str]]) -> Path:
    """A private copy of the made output root (each test changes its own store)."""
    copy = tmp_path / "out"
    shutil.copytree(made[0], copy)
    return copy


@pytest.fixture()
def case_ids(made: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return made[1]


@pytest.fixture()
def client_for(out: Path, case_ids: dict[str, str]) -> Callable[[str | None], TestClient]:
    app = create_app(out)

    def sign_in(username: str | None) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        if username is not None:
            login = client.get("/login")
            token = csrf_of(login.text)
            response = client.post("/login", data={"csrf": token, "username": username, "password": PASSWORD})
            assert response.status_code == 303, response.text
        return client

    return sign_in
