"""The output catalogue: one path per dataset, partitions named key=value, owner-only modes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bantay.errors import ConfigError
from bantay.io import catalogue

OUT = Path("/srv/bantay/out")


def test_catalogue_paths_are_under_the_output_root_and_distinct():
    fields = {"table": "transactions", "version": "3"}  # every placeholder a pattern may hold
    paths = [dataset.path(OUT, **fields) for dataset in catalogue.DATASETS.values()]
    assert all(path.is_relative_to(OUT) for path in paths)
    assert len(set(paths)) == len(paths)


def test_catalogue_partition_names_the_key_and_the_iso_date():
    assert catalogue.partition(OUT, "features", date(2025, 7, 1)) == OUT / "features" / "as_of=2025-07-01"
    assert catalogue.partition(OUT, "quarantine", date(2025, 7, 1), table="labels") == (
        OUT / "quarantine" / "table=labels" / "run_date=2025-07-01"
    )
    day = catalogue.partition(OUT, "state_daily", "2025-03-04")
    assert day == OUT / "state" / "daily" / "booking_date=2025-03-04"


def test_catalogue_validated_tables_are_where_the_validator_writes_them():
    assert catalogue.path(OUT, catalogue.validated("transactions")) == OUT / "validated" / "transactions"
    assert catalogue.dataset("validated_transactions").key == "booking_date"
    assert catalogue.dataset("validated_labels").key is None
    assert catalogue.dataset("quarantine").folder(OUT) == OUT / "quarantine"


def test_catalogue_every_dataset_is_owner_only():
    assert {(d.dir_mode, d.file_mode) for d in catalogue.DATASETS.values()} == {(0o700, 0o600)}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: catalogue.path(OUT, "nope"), "no dataset 'nope'"),
        (lambda: catalogue.partition(OUT, "validated_labels", date(2025, 1, 1)), "not partitioned"),
        (lambda: catalogue.path(OUT, "quarantine"), "needs 'table'"),
    ],
)
def test_catalogue_misuse_raises_a_config_error(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
