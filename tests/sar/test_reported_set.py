"""The reported set, without Spark: context grounds (new payees, payee switching, a shared payee that is not
a facilitator-like cluster) never report a payment; a stated denominator lists its rows.

Customer c8 (resident in the UK, not confirmed) paid abroad, all cross-border p2p:
- k0 (2024-11-10): USD 45.00 to P2 in the Philippines, daytime, outside every 90-day window: no ground
  selects it, but WHEN names it as an earlier payment to a reported payee (a supporting row).
- e1 (Feb 1): USD 533.36 to E1 in Spain, a new payee, daytime: only NEW_PAYEES and PAYEE_SWITCHING cite it.
- u1 (Feb 3): USD 410.92 to U1 in the US, reference "payment", a new payee, daytime; U1 is in cluster KS with
  U2 (2 records sharing a phone), which one other customer (c6) also pays: SHARED_CLUSTER and LINKED_PAYEES on
  a cluster that is not facilitator-like (fewer than 3 records, 2 sender countries, no confirmed payer).
- n1 (Feb 5): USD 40.00 to P1 in the Philippines at night, reference "gift", a new payee.
- f1 (Feb 8): USD 60.00 to F1 in the US, a new payee, daytime; F1 is in cluster KF with F2 and F3 (3 linked
  payee records), which c5 also pays: a facilitator-like cluster; SHARED_CLUSTER and LINKED_PAYEES report f1.
- n2 (Feb 12): USD 30.00 to P2 in the Philippines at night; n3 (Feb 15): USD 25.00 to P2 at night.
Every row but n3 went to a different payee from the one before (payee switches; k0 is the first).
Night: 3 of the 6 payments abroad (50%) holds; its denominator is the 6, so e1 and u1 are listed as supporting
rows counted in it, never reported.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sar_world import draft_of

from bantay.sar import narrative
from bantay.sar.evidence import TXN_COLUMNS

SUBSTANTIVE = {"CONFIRMED_CLUSTER", "REFERENCES", "NIGHT_PAYMENTS", "BURSTS", "LINKED_PAYEES",
               "SHARED_CLUSTER", "SOURCE_COUNTRY_PAYMENTS"}


def _txn(
    txn_id: str, day: int, hour: int, amount: str, payee: str, country: str, **flags: Any
) -> dict[str, Any]:
    when = datetime(2025, 2, day, hour, 0)
    row: dict[str, Any] = {name: None for name in TXN_COLUMNS}
    row.update(
        txn_id=txn_id, booked_at=pd.Timestamp(when, tz="UTC"), booking_date=when.date(),
        local_time=when.strftime("%Y-%m-%d %H:%M"), customer_id="c8", account_id="A-c8", direction="out",
        channel="bank_transfer", amount=Decimal(amount), currency="USD", amount_usd=float(amount),
        amount_reporting=float(amount), counterparty_id=payee, counterparty_name="Name",
        counterparty_country=country, is_p2p=True,
    )
    row.update(flags)
    return row


ROWS = [
    {**_txn("k0", 10, 12, "45.00", "P2", "PH"), "booked_at": pd.Timestamp("2024-11-10 12:00", tz="UTC"),
     "booking_date": date(2024, 11, 10), "local_time": "2024-11-10 12:00"},
    _txn("e1", 1, 12, "533.36", "E1", "ES", is_new_payee=True, is_payee_switch=True),
    _txn("u1", 3, 12, "410.92", "U1", "US", reference="payment", is_new_payee=True, is_payee_switch=True),
    _txn("n1", 5, 23, "40.00", "P1", "PH", reference="gift", is_keyword=True, is_night=True,
         is_new_payee=True, is_payee_switch=True),
    _txn("f1", 8, 12, "60.00", "F1", "US", is_new_payee=True, is_payee_switch=True),
    _txn("n2", 12, 23, "30.00", "P2", "PH", is_night=True, is_new_payee=True, is_payee_switch=True),
    _txn("n3", 15, 23, "25.00", "P2", "PH", is_night=True),
]
CLUSTERS = pd.DataFrame(
    [
        {"counterparty_id": payee, "cluster_id": cluster, "n_members": members, "n_sender_countries_90d": 2,
         "n_senders_90d": 2, "n_confirmed_payers_365d": 0, "is_hub": False}
        for payee, cluster, members in (
            ("U1", "KS", 2), ("U2", "KS", 2), ("F1", "KF", 3), ("F2", "KF", 3), ("F3", "KF", 3)
        )
    ]
)
PAYERS = pd.DataFrame(
    [("KS", "c8", 0), ("KS", "c6", 0), ("KF", "c8", 0), ("KF", "c5", 0)],
    columns=["cluster_id", "customer_id", "confirmed"],
)


def _draft(decision: dict[str, Any] | None = None) -> dict[str, Any]:
    customer = {"customer_id": "c8", "residence_country": "GB", "timezone": "Europe/London"}
    return draft_of(customer, ROWS, CLUSTERS, PAYERS, decision=decision)


def test_build_draft_reports_only_payments_a_substantive_ground_cites():
    draft = _draft()
    # e1 and u1 are cited only by context grounds: not reported, not in any total.
    assert [t["txn_id"] for t in draft["transactions"]] == ["n1", "f1", "n2", "n3"]
    assert all(set(t["grounds"]) & SUBSTANTIVE for t in draft["transactions"])
    assert draft["totals"]["reporting"]["amount"] == 155.0  # 40 + 60 + 30 + 25
    assert [p["counterparty_id"] for p in draft["payees"]] == ["P2", "F1", "P1"]
    # WHEN is the span of the listed rows (e1 on Feb 1 and u1 on Feb 3 are not listed).
    assert (draft["activity"]["from"], draft["activity"]["to"]) == ("2025-02-05", "2025-02-15")


def test_build_draft_states_context_grounds_over_reported_rows_only():
    by_code = {i["code"]: i for i in _draft()["indicators"]}
    # KS (two records, one other payer) is no facilitator cluster: only KF's payment is cited.
    assert by_code["SHARED_CLUSTER"]["txn_ids"] == by_code["LINKED_PAYEES"]["txn_ids"] == ["f1"]
    assert "KS" not in by_code["SHARED_CLUSTER"]["text"] + by_code["LINKED_PAYEES"]["text"]
    # New payees among the reported rows: P1 (n1), F1 (f1), P2 (n2).
    assert by_code["NEW_PAYEES"]["txn_ids"] == ["n1", "f1", "n2"]
    assert by_code["NEW_PAYEES"]["text"].startswith(
        "3 payments abroad between 2025-02-05 and 2025-02-12 went to 3 payees"
    )
    assert by_code["NEW_PAYEES"]["amount_reporting"] == 130.0
    # Switches among the 4 reported payments, the denominator listed.
    assert by_code["PAYEE_SWITCHING"]["txn_ids"] == ["n1", "f1", "n2"]
    assert by_code["PAYEE_SWITCHING"]["base_txn_ids"] == ["n1", "f1", "n2", "n3"]
    assert by_code["PAYEE_SWITCHING"]["text"].startswith("3 of the 4 payments abroad between 2025-02-05")


def test_build_draft_lists_the_rows_of_a_stated_denominator():
    draft = _draft()
    night = next(i for i in draft["indicators"] if i["code"] == "NIGHT_PAYMENTS")
    assert night["txn_ids"] == ["n1", "n2", "n3"]
    assert night["text"].startswith("3 of the 6 payments abroad between 2025-02-01 and 2025-02-15 (50%)")
    assert night["base_txn_ids"] == ["e1", "u1", "n1", "f1", "n2", "n3"]
    # The two unreported rows of the denominator are supporting rows, counted in the night share only.
    supporting = {t["txn_id"]: t for t in draft["supporting_transactions"]}
    assert set(supporting) == {"k0", "e1", "u1"}
    assert all(supporting[t]["grounds"] == [] for t in supporting)
    assert supporting["e1"]["counted_in"] == supporting["u1"]["counted_in"] == ["NIGHT_PAYMENTS"]
    text = narrative.narrative(draft)
    assert "Transactions: n1, n2, n3; the 6 payments counted: e1, u1, n1, f1, n2, n3" in text


def test_build_draft_names_earlier_payments_to_reported_payees():
    draft = _draft()
    # k0 paid P2 (reported through n2, n3) before the first reported payment: listed, never reported.
    assert draft["activity"]["earlier_txn_ids"] == ["k0"]
    assert next(t for t in draft["supporting_transactions"] if t["txn_id"] == "k0")["counted_in"] == []
    assert "k0" not in [t["txn_id"] for t in draft["transactions"]]
    when = (
        "WHEN: From 2025-02-05 to 2025-02-15 (the first and the last payment under review); the customer "
        "also paid the same payees or payee clusters 1 time before 2025-02-05 (k0)"
    )
    assert when in narrative.narrative(draft)


def test_a_days_drafts_prepared_together_equal_each_alone_and_a_faulty_customer_fails_alone(tmp_path):
    # The day's drafts prepare every customer's rows in one pass and index the clusters once. c8's draft is
    # the same whether the day's pass works (c9 fine) or fails (c9's rows hold a flag that is no boolean,
    # so every case prepares its own rows and only c9's case fails).
    from datetime import UTC

    from sar_world import AS_OF, GENERATED_AT

    from bantay import settings as settings_module
    from bantay.jobs import draft_cases
    from bantay.sar import evidence, goaml

    def day(night: Any) -> tuple[list[dict[str, Any]], list[Any]]:
        c9 = [{**_txn("z1", 20, 23, "35.00", "P7", "PH"), "customer_id": "c9", "is_night": night}]
        inputs = evidence.CaseInputs(
            as_of=AS_OF,
            scores=pd.DataFrame([
                {"customer_id": c, "score": s, "rank": r, "model_version": "1", "reasons": []}
                for c, s, r in (("c8", 0.8, 1), ("c9", 0.7, 2))
            ]),
            customers=pd.DataFrame([
                {"customer_id": c, "residence_country": "GB", "timezone": "Europe/London"}
                for c in ("c8", "c9")
            ]),
            transactions=pd.DataFrame([*ROWS, *c9], columns=list(TXN_COLUMNS)),
            clusters=CLUSTERS,
            cluster_payers=PAYERS,
        )
        settings = settings_module.load(output_root=tmp_path, demo=True)
        config = goaml.load_config(settings.goaml_config)
        return draft_cases.build_drafts(inputs, settings, GENERATED_AT.replace(tzinfo=UTC), config)

    together, none_failed = day(True)
    alone, failed = day("yes")
    assert none_failed == [] and [d["model"]["rank"] for d in together] == [1, 2]
    assert [f.case_id for f in failed] == [together[1]["case_id"]]
    assert failed[0].reason.startswith("TypeError")
    assert alone == together[:1]
    c8 = together[0]
    assert [t["txn_id"] for t in c8["transactions"]] == ["n1", "f1", "n2", "n3"]
    assert {c["cluster_id"]: c["other_customer_ids"] for c in c8["clusters"]} == {"KF": ["c5"]}
