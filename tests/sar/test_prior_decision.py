"""Earlier decisions in drafts: the latest label or workbench decision decided before the as-of date is
stated, with the reported payments booked after it.

Alerted customers as of 2025-03-01 (AS_OF):
- d1: confirmed in the validated labels on 2025-01-10, then cleared in the workbench (case C-OLD-1) on
  2025-02-10 at 09:00: the later decision wins.
- d2: confirmed in the workbench (case C-OLD-2) on 2025-03-01 at 08:00: decided on D itself, not before it.
- d3: cleared in the validated labels on 2024-12-01; a later confirmation on 2025-03-05 is after D.
- d4: never decided. c9 (not alerted) has a label: never read for the alerted customers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sar_world import AS_OF, draft_settings
from test_reported_set import _draft

from bantay import ledger
from bantay.cases import labels
from bantay.sar import evidence, narrative


def _labels(out: Path) -> None:
    def label(customer: str, value: int, when: datetime) -> dict[str, object]:
        return {"customer_id": customer, "label": value, "decided_at": when, "typology": "x"}

    rows = [
        label("d1", 1, datetime(2025, 1, 10, tzinfo=UTC)),
        label("d3", 0, datetime(2024, 12, 1, tzinfo=UTC)),
        label("d3", 1, datetime(2025, 3, 5, tzinfo=UTC)),
        label("c9", 1, datetime(2025, 1, 1, tzinfo=UTC)),
    ]
    folder = ledger.validated_path(out, "labels")
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=ledger.arrow_schema("labels"))
    pq.write_table(table, folder / "part-0.parquet")
    labels.write_decision(out, case_id="C-OLD-1", customer_id="d1", label=0,
                          decided_at=datetime(2025, 2, 10, 9, 0, tzinfo=UTC), typology="cleared")
    labels.write_decision(out, case_id="C-OLD-2", customer_id="d2", label=1,
                          decided_at=datetime(2025, 3, 1, 8, 0, tzinfo=UTC), typology="confirmed")


def test_decisions_keeps_the_latest_decided_before_as_of(spark, tmp_path: Path):
    out = tmp_path / "out"
    _labels(out)
    ids = ["d1", "d2", "d3", "d4"]
    got = evidence.decisions(spark, draft_settings(out), AS_OF, ids).sort_values("customer_id")
    assert got["customer_id"].tolist() == ["d1", "d3"]
    assert got["label"].tolist() == [0, 0]
    assert [t.isoformat() for t in got["decided_at"]] == [
        "2025-02-10T09:00:00+00:00",
        "2024-12-01T00:00:00+00:00",
    ]
    assert got["case_id"].tolist() == ["C-OLD-1", None]


def test_narrative_states_a_confirmation_and_the_payments_after_it():
    # test_reported_set's customer: reported n1 (Feb 5), f1 (Feb 8), n2 (Feb 12), n3 (Feb 15).
    draft = _draft(decision={"label": 1, "decided_at": datetime(2025, 2, 9, 10, 0, tzinfo=UTC),
                             "case_id": "C-20250209-aaaaaaaaaa"})
    assert draft["prior_decision"] == {
        "outcome": "confirmed", "decided_on": "2025-02-09", "case_id": "C-20250209-aaaaaaaaaa",
        "n_transactions_after": 2, "txn_ids_after": ["n2", "n3"],
    }
    assert (
        "The customer was confirmed on 2025-02-09 in case C-20250209-aaaaaaaaaa; 2 of the 4 payments under "
        "review are from after that decision (n2, n3)." in narrative.narrative(draft)
    )


def test_narrative_states_a_clearance_from_the_labels():
    draft = _draft(decision={"label": 0, "decided_at": datetime(2025, 1, 5, tzinfo=UTC), "case_id": None})
    assert draft["prior_decision"]["outcome"] == "cleared"
    assert (
        "The customer was cleared on 2025-01-05 in the institution's earlier decision; all of the payments "
        "under review are from after that decision." in narrative.narrative(draft)
    )
    assert _draft()["prior_decision"] is None
    assert "The customer was" not in narrative.narrative(_draft())
