"""One small synthetic ledger per test session, reused by every synth test (generation is the slow part)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bantay.synth import generate

END = date(2025, 6, 30)


@pytest.fixture(scope="session")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """4,000 customers x 60 days: enough OCSE payers (about 36) for the typology's statistics."""
    base = tmp_path_factory.mktemp("synth")
    root, truth = base / "ledger", base / "truth"
    summary = generate.run(root, customers=4_000, days=60, seed=11, end_date=END, truth=truth, fmt="parquet")
    return {"root": root, "truth": truth, "summary": summary}
