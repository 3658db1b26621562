"""The data behind a day's drafts: who else pays a payee cluster (the network features' rows)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sar_world import AS_OF, draft_settings, txn, world

from bantay.sar import evidence


def test_cluster_payers_are_the_customers_paying_it_abroad_person_to_person(spark, tmp_path: Path):
    w = world(tmp_path / "out")
    c3 = next(c for c in w.customers if c["customer_id"] == "c3")
    w.customers.append({**c3, "customer_id": "c4"})  # lives in GB, as c3
    w.transactions += [
        # c4 pays cluster K1's payees, but never person to person abroad: a card payment to P1 and a domestic
        # transfer to P3. The network features do not count them, and neither does the draft.
        txn("w1", "c4", datetime(2025, 2, 6, 12, 0), "15.00", "GBP", "P1", "Maria Santos", "PH",
            "Angeles City", channel="card", mcc="5999"),
        txn("w2", "c4", datetime(2025, 2, 7, 12, 0), "25.00", "GBP", "P3", "Rosa Cruz", "GB", "London"),
    ]
    out = w.write()
    settings = draft_settings(out)
    inputs = evidence.load(spark, settings, AS_OF, evidence.read_alerts(spark, settings, AS_OF))
    payers = inputs.cluster_payers
    # c1 and c2 (alerted) and c3 (not alerted) pay K1 abroad: the payers; c4 is not one.
    assert sorted(payers.loc[payers["cluster_id"] == "K1", "customer_id"]) == ["c1", "c2", "c3"]
    assert "c4" not in set(payers["customer_id"])
