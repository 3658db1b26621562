"""Tracking: provenance tags (ledger fingerprint, code version, feature-list hash); nothing personal."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from model_worlds import CUTOFF

import bantay
from bantay.models import tracking, train


def _write(path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_ledger_fingerprint_covers_the_validated_files_before_the_as_of_date(tmp_path):
    validated = tmp_path / "validated"
    _write(validated / "transactions" / "booking_date=2025-05-31" / "part-0.parquet", 10)  # the day before
    _write(validated / "customers" / "part-0.parquet", 7)                                 # unpartitioned
    expected = hashlib.sha256(
        b"customers/part-0.parquet:7\ntransactions/booking_date=2025-05-31/part-0.parquet:10\n"
    ).hexdigest()
    assert tracking.ledger_fingerprint(tmp_path, CUTOFF) == expected
    # Left out: partitions on or after the as-of date, hidden and underscore files and folders.
    _write(validated / "transactions" / "booking_date=2025-06-01" / "part-0.parquet", 3)
    _write(validated / "transactions" / "_staging" / "run" / "part-0.parquet", 3)
    _write(validated / "transactions" / "booking_date=2025-05-31" / ".part-0.parquet.crc", 3)
    _write(validated / "transactions" / "_SUCCESS", 0)
    assert tracking.ledger_fingerprint(tmp_path, CUTOFF) == expected
    # A file that changes size changes the fingerprint; an earlier as-of date leaves the day out.
    _write(validated / "customers" / "part-0.parquet", 8)
    assert tracking.ledger_fingerprint(tmp_path, CUTOFF) != expected
    earlier = hashlib.sha256(b"customers/part-0.parquet:8\n").hexdigest()
    assert tracking.ledger_fingerprint(tmp_path, date(2025, 5, 31)) == earlier


def test_feature_list_hash_depends_on_order_and_constraints():
    expected = hashlib.sha256(b"a:1,b:0").hexdigest()
    assert tracking.feature_list_hash(["a", "b"], [1, 0]) == expected
    assert tracking.feature_list_hash(["b", "a"], [0, 1]) != expected
    assert tracking.feature_list_hash(["a", "b"], [0, 0]) != expected


def test_code_version_is_the_package_version_and_a_hash_of_the_model_code():
    version = tracking.code_version()
    assert re.fullmatch(re.escape(bantay.__version__) + r"\+[0-9a-f]{12}", version)
    assert tracking.code_version() == version


def test_run_leaves_no_personal_data_in_the_mlflow_store(spark, world):
    result = train.run(world["settings"], CUTOFF, promote=True, recipe=world["recipe"],
                       store=world["features"])
    assert result["promotion"]["promoted"] is True
    store = [world["tmp"] / "mlruns.sqlite", *sorted(world["settings"].artifact_root.rglob("*"))]
    blobs = [p.read_bytes() for p in store if p.is_file()]
    assert len(blobs) > 10
    for customer in world["population"]:
        assert not any(customer.encode() in blob for blob in blobs), "a customer id reached MLflow"
    assert not any(b"zq-" in blob for blob in blobs)
