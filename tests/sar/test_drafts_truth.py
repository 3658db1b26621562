"""benchmarks/drafts_truth.py on the hand-made draft world (real draft job, real Spark) with a hand-made truth
folder: every form re-validated from disk, and the reported amounts split by each transaction's true role."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lxml import etree
from sar_world import AS_OF, GENERATED_AT, World, draft_settings, world

from bantay.sar import build
from bantay.synth.generate import TRUTH_CUSTOMERS, TRUTH_TRANSACTIONS

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "drafts_truth.py"
C1 = build.case_id("c1", AS_OF)
C2 = build.case_id("c2", AS_OF)
# c1 is a payer: three of its four reported payments are the simulated OCSE payments, t4 its own ordinary
# transfer; t5 (token seller, supporting only) is its related spending. c2 is an innocent online buyer.
ROLES = {
    "t1": "suspected_payment",
    "t2": "suspected_payment",
    "t3": "suspected_payment",
    "t4": "ordinary",
    "t5": "payer_related_spend",
    "t6": "ordinary",
    "t7": "suspected_payment",
    "t8": "payer_travel",
    "t9": "ordinary",
    "u1": "lookalike",
    "u2": "lookalike",
    "v1": "ordinary",
}
KINDS = {"c1": "ocse_payer", "c2": "online_buyer", "c3": "retail"}


def _truth(folder: Path, made: World) -> Path:
    folder.mkdir()
    customers = {t["txn_id"]: t["customer_id"] for t in made.transactions}
    pq.write_table(
        pa.Table.from_pylist(
            [{"txn_id": i, "customer_id": customers[i], "role": r} for i, r in ROLES.items()],
            schema=TRUTH_TRANSACTIONS,
        ),
        folder / "transactions.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"customer_id": c, "kind": k, "first_ocse_at": None, "ocse_payments": 0}
                for c, k in KINDS.items()
            ],
            schema=TRUTH_CUSTOMERS,
        ),
        folder / "customers.parquet",
    )
    return folder


@pytest.fixture(scope="module")
def drafted_with_truth(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from bantay.jobs import draft_cases

    base = tmp_path_factory.mktemp("drafts_truth")
    made = world(base / "out")
    made.write()
    draft_cases.run(draft_settings(made.out), AS_OF, generated_at=GENERATED_AT.replace(tzinfo=UTC))
    return _truth(base / "truth", made), made.out


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False
    )


def test_drafts_truth_splits_the_reported_amount_by_true_role(drafted_with_truth: tuple[Path, Path]) -> None:
    truth, out = drafted_with_truth
    done = _run("--truth", truth, "--out", out)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["day"] == "2025-03-01" and report["reporting_currency"] == "USD"
    assert (report["n_cases"], report["n_true_payer_cases"], report["share_true_payer_cases"]) == (2, 1, 0.5)
    assert report["cases_by_kind"] == {"ocse_payer": 1, "online_buyer": 1}
    assert report["files"] == {
        form: {"ok": 2}
        for form in ("fincen_sar.xml", "goaml_str.xml", "nca_sar.txt", "fintrac_str.json", "austrac_smr.xml")
    }
    assert (report["file_failures"], report["files_omitted"]) == (0, 0)
    cases = {c["case_id"]: c for c in report["cases"]}
    c1, c2 = cases[C1], cases[C2]
    # c1 reports t1-t4 in USD at GBP 1.25: 62.50 + 50.00 + 31.25 + 41.63 = 185.38, of which t1-t3 = 143.75
    # are suspected payments: 143.75 / 185.38 = 0.77543... The travel (t8), the rent (t9) and the payment
    # outside the window (t7) are not listed; t5 is supporting only.
    assert (c1["amount_reported"], c1["amount_suspicious"], c1["share_suspicious"]) == (
        "185.38",
        "143.75",
        0.7754,
    )
    assert c1["amount_by_role"] == {"ordinary": "41.63", "suspected_payment": "143.75"}
    assert c1["n_by_role"] == {"ordinary": 1, "suspected_payment": 3}
    assert c1["n_supporting_by_role"] == {"payer_related_spend": 1}
    assert c1["customer_kind"] == "ocse_payer" and c1["true_payer"]
    # c2's two USD 100.00 payments are an online buyer's: nothing suspicious.
    assert (c2["amount_reported"], c2["amount_suspicious"], c2["share_suspicious"]) == ("200.00", "0.00", 0.0)
    assert not c2["true_payer"]
    # Pooled: 143.75 / 385.38 = 0.37301...; the payers' cases alone: c1's share.
    assert report["all_cases"]["share_suspicious_pooled"] == 0.373
    assert report["all_cases"]["n_cases_under_half_suspicious"] == 1
    assert report["true_payer_cases"]["share_suspicious_pooled"] == 0.7754
    assert report["amount_by_role"] == {
        "lookalike": "200.00",
        "ordinary": "41.63",
        "suspected_payment": "143.75",
    }
    assert "c1" not in done.stdout and "Maria" not in done.stdout  # case ids only, no customer data


def test_drafts_truth_counts_every_broken_or_missing_file(
    drafted_with_truth: tuple[Path, Path], tmp_path: Path
) -> None:
    truth, out = drafted_with_truth
    copy = tmp_path / "out"
    shutil.copytree(out / "cases", copy / "cases")
    day = copy / "cases" / "as_of=2025-03-01"
    # c1: FinCEN cut short (not well-formed), AUSTRAC with an element its schema does not allow, the NCA
    # total changed; c2: goAML file gone although its draft does not omit it.
    fincen = day / C1 / "fincen_sar.xml"
    fincen.write_bytes(fincen.read_bytes()[:-40])
    austrac = day / C1 / "austrac_smr.xml"
    document = etree.parse(str(austrac))
    etree.SubElement(document.getroot(), "unexpected")
    document.write(str(austrac))
    nca = day / C1 / "nca_sar.txt"
    nca.write_text(nca.read_text(encoding="utf-8").replace(" in total.", " in all."), encoding="utf-8")
    (day / C2 / "goaml_str.xml").unlink()
    done = _run("--truth", truth, "--out", copy, "--as-of", "2025-03-01")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files"] == {
        "fincen_sar.xml": {"invalid": 1, "ok": 1},
        "goaml_str.xml": {"missing": 1, "ok": 1},
        "nca_sar.txt": {"invalid": 1, "ok": 1},
        "fintrac_str.json": {"ok": 2},
        "austrac_smr.xml": {"invalid": 1, "ok": 1},
    }
    assert report["file_failures"] == 4
    files = {c["case_id"]: c["files"] for c in report["cases"]}
    assert files[C1]["fincen_sar.xml"].startswith("invalid: not well-formed XML")
    assert files[C1]["austrac_smr.xml"].startswith("invalid: schema error at /")
    assert files[C1]["nca_sar.txt"] == "invalid: total of the suspected criminal property"


def test_drafts_truth_without_drafts_is_one_clear_error(tmp_path: Path) -> None:
    done = _run("--truth", tmp_path, "--out", tmp_path / "nothing")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"drafts_truth: error: no drafts under {tmp_path / 'nothing' / 'cases'} (run `bantay draft` first)"
    ]
