"""The feature catalogue: its generated documentation is up to date."""

from __future__ import annotations

from pathlib import Path

from bantay.features import catalogue


def test_catalogue_docs_are_up_to_date():
    docs = Path(__file__).resolve().parents[2] / "docs" / "features.md"
    hint = "run: python -m bantay.features.catalogue"
    assert docs.read_text(encoding="utf-8") == catalogue.markdown(), hint
