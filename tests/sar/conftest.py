"""Fixtures for the draft tests: one hand-made output root drafted once by the real job (real Spark)."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from sar_world import AS_OF, GENERATED_AT, World, draft_settings, world


@pytest.fixture(scope="session")
def sar_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    made = world(tmp_path_factory.mktemp("sar") / "out")
    made.write()
    return made


@pytest.fixture(scope="session")
def drafted(spark, sar_world: World) -> Path:
    """OUT/cases/as_of=2025-03-01 written once by `draft_cases.run` with a fixed generation time.

    The rerun test redrafts the same folder last (with c2 no longer alerted); c1's case stays.
    """
    from bantay.jobs import draft_cases

    return draft_cases.run(
        draft_settings(sar_world.out), AS_OF, generated_at=GENERATED_AT.replace(tzinfo=UTC)
    )
