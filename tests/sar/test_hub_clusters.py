"""Hubs in drafts, without Spark: a cluster the clusters table marks `is_hub` never makes a cluster ground.

Customer c9 (not confirmed) paid, in February 2025:
- h1: USD 300.00 to EX1, a crypto exchange (hub cluster KH: records EX1, EX2, EX3; 370 senders in the year,
  4 of them confirmed cases). An ordinary purchase: no ground but the cluster ones could ever select it.
- h2: USD 40.00 to EX1 with a reference that reads like a gift: REFERENCES selects it, so KH is listed.
- f1, f2: USD 60.00 and USD 70.00 to F1 and F2 of cluster KF (records F1, F2, F3; 3 senders, 1 confirmed):
  a small facilitator cluster, which still makes every cluster ground.
Other customers: c5 (confirmed) pays F3, so KF is "paid by another customer"; c6 and c7 pay the exchange.
The model cites all three cluster grounds, so each holds as soon as one row is behind it: only the hub rule
keeps h1 out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sar_world import code, draft_of

from bantay.sar.evidence import TXN_COLUMNS

CITED = ("n_pay_confirmed_cluster_365d", "max_other_senders_cluster_90d", "max_members_cluster_365d")


def _txn(txn_id: str, day: int, amount: str, payee: str, **overrides: Any) -> dict[str, Any]:
    when = datetime(2025, 2, day, 11, 0)
    row: dict[str, Any] = {name: None for name in TXN_COLUMNS}
    row.update(
        txn_id=txn_id, booked_at=pd.Timestamp(when, tz="UTC"), booking_date=when.date(),
        local_time=when.strftime("%Y-%m-%d %H:%M"), customer_id="c9", account_id="A-c9", direction="out",
        channel="bank_transfer", amount=Decimal(amount), currency="USD", amount_usd=float(amount),
        amount_reporting=float(amount), counterparty_id=payee, counterparty_name="Name",
        counterparty_country="PH", counterparty_city="Quezon City", is_p2p=True, is_night=False,
        is_round=False, is_keyword=False, is_related_spend=False,
    )
    row.update(overrides)
    return row


ROWS = [
    _txn("h1", 3, "300.00", "EX1", channel="crypto", counterparty_country="US", counterparty_city="Miami"),
    _txn("f1", 10, "60.00", "F1"),
    _txn("h2", 12, "40.00", "EX1", channel="crypto", counterparty_country="US", counterparty_city="Miami",
         reference="gift", is_keyword=True),
    _txn("f2", 20, "70.00", "F2"),
]


def _clusters(hub: bool) -> pd.DataFrame:
    # The clusters table's columns the drafts read (as `bantay features` writes OUT/clusters/as_of=D/).
    facts = {
        "KH": {"n_members": 3, "n_senders_90d": 300, "n_sender_countries_90d": 4, "n_senders_365d": 370,
               "n_confirmed_payers_365d": 4, "share_cash_pickup_365d": 0.0, "region": "US", "is_hub": hub},
        "KF": {"n_members": 3, "n_senders_90d": 3, "n_sender_countries_90d": 2, "n_senders_365d": 3,
               "n_confirmed_payers_365d": 1, "share_cash_pickup_365d": 0.5, "region": "PH-NCR",
               "is_hub": False},
    }
    members = {"EX1": "KH", "EX2": "KH", "EX3": "KH", "F1": "KF", "F2": "KF", "F3": "KF"}
    return pd.DataFrame([{"counterparty_id": p, "cluster_id": k, **facts[k]} for p, k in members.items()])


CUSTOMER = {"customer_id": "c9", "residence_country": "AU", "timezone": "Australia/Sydney"}
PAYERS = pd.DataFrame(
    [("KH", "c9"), ("KH", "c6"), ("KH", "c7"), ("KF", "c9"), ("KF", "c5")],
    columns=["cluster_id", "customer_id"],
)


def _draft(hub: bool) -> dict[str, Any]:
    reasons = [
        {"code": code(f), "feature": f, "text": f, "contribution": 0.3, "value": 1.0} for f in CITED
    ]
    return draft_of(CUSTOMER, ROWS, _clusters(hub), PAYERS, reasons)


def _evidence(draft: dict[str, Any]) -> dict[str, list[str]]:
    return {i["code"]: i["txn_ids"] for i in draft["indicators"]}


def test_build_draft_states_no_cluster_ground_from_a_hub():
    draft = _draft(hub=True)
    evidence = _evidence(draft)
    # The facilitator cluster KF still makes all three cluster grounds; the exchange makes none.
    assert evidence["CONFIRMED_CLUSTER"] == ["f1", "f2"]
    assert evidence["SHARED_CLUSTER"] == ["f1", "f2"]
    assert evidence["LINKED_PAYEES"] == ["f1", "f2"]
    assert evidence["REFERENCES"] == ["h2"]
    # The ordinary exchange purchase h1 is not reported: 40 + 60 + 70.
    assert [t["txn_id"] for t in draft["transactions"]] == ["f1", "h2", "f2"]
    assert draft["totals"]["reporting"]["amount"] == 170.0
    # The hub stays visible as a fact, without its other payers; KF lists its confirmed case's payer c5.
    listed = {c["cluster_id"]: c for c in draft["clusters"]}
    assert listed["KH"]["is_hub"] is True and listed["KH"]["other_customer_ids"] == []
    assert listed["KH"]["n_other_customers"] == 0
    assert listed["KH"]["facts"][0].startswith("a hub, not a facilitator cluster: paid by 370 senders")
    assert not any("confirmed" in fact for fact in listed["KH"]["facts"])
    assert listed["KF"]["is_hub"] is False and listed["KF"]["other_customer_ids"] == ["c5"]
    assert draft["flags"]["linked_to_other_customers"] is True


def test_build_draft_states_cluster_grounds_from_the_same_cluster_when_it_is_no_hub():
    # The same world with KH not a hub: the exchange purchase h1 is evidence of all three cluster grounds.
    evidence = _evidence(_draft(hub=False))
    assert evidence["CONFIRMED_CLUSTER"] == ["h1", "f1", "h2", "f2"]
    assert evidence["SHARED_CLUSTER"] == ["h1", "f1", "h2", "f2"]
    assert evidence["LINKED_PAYEES"] == ["h1", "f1", "h2", "f2"]


def test_build_draft_never_counts_the_customers_own_confirmation():
    # c9 is itself a confirmed case: its own payee O1 (cluster KO, paid by c9 alone) counts c9's label, and
    # KF counts c9 and c5. Only c5 is another confirmed case, so only KF's payments make CONFIRMED_CLUSTER.
    rows = [*ROWS, _txn("o1", 25, "90.00", "O1")]
    clusters = pd.concat(
        [
            _clusters(hub=True).assign(
                n_confirmed_payers_365d=lambda f: f["cluster_id"].map({"KH": 4, "KF": 2})
            ),
            pd.DataFrame([{"counterparty_id": "O1", "cluster_id": "KO", "n_members": 1, "n_senders_90d": 1,
                           "n_sender_countries_90d": 1, "n_senders_365d": 1, "n_confirmed_payers_365d": 1,
                           "share_cash_pickup_365d": 0.0, "region": "PH-NCR", "is_hub": False}]),
        ],
        ignore_index=True,
    )
    payers = pd.concat([PAYERS, pd.DataFrame([("KO", "c9")], columns=["cluster_id", "customer_id"])])
    payers["confirmed"] = payers["customer_id"].isin(["c9", "c5"]).astype("int64")
    reasons = [{"code": code(f), "feature": f, "text": f, "contribution": 0.3, "value": 1.0} for f in CITED]
    draft = draft_of(CUSTOMER, rows, clusters, payers, reasons)
    confirmed = next(i for i in draft["indicators"] if i["code"] == "CONFIRMED_CLUSTER")
    assert confirmed["txn_ids"] == ["f1", "f2"]
    assert "which 1 other confirmed case of the institution also paid" in confirmed["text"]
    facts = {c["cluster_id"]: c["facts"] for c in draft["clusters"]}
    assert "1 other confirmed case paid this cluster in the last year" in facts["KF"]
    assert not any("confirmed" in fact for fact in facts["KO"])
