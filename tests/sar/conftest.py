"""Fixtures for the draft tests: one hand-made output root drafted once by the real job (real Spark)."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sar_world import AS_OF, GENERATED_AT, World, world

from bantay import settings as settings_module


def draft_settings(out: Path, **extra: Any) -> settings_module.Settings:
    return settings_module.load(
        output_root=out,
        ledger_root=out.parent / "ledger",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        spark_driver_memory="2g",
        **{"demo": True, **extra},
    )


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


def load_draft(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "draft.json").read_text(encoding="utf-8"))
