"""The ground table: the features it states are catalogue columns; profile, travel, baseline never are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd

from bantay.features.catalogue import FEATURES
from bantay.sar import grounds


def test_grounds_state_only_activity_features_of_the_catalogue():
    typology = {spec.name: spec.typology_id for spec in FEATURES}
    stated = {feature for ground in grounds.GROUNDS for feature in ground.features}
    assert stated <= set(typology)
    # A characteristic of the person (O10), travel (O11) or the baseline activity is never a ground.
    never = {name for name, kind in typology.items() if kind in {"O10", "O11", "BASE"}}
    assert never and not stated & never
    assert grounds.ground_of("is_male") is None and grounds.ground_of("n_airline_90d") is None
    assert grounds.ground_of("share_p2p_night_90d").code == "NIGHT_PAYMENTS"
    assert len({g.code for g in grounds.GROUNDS}) == len(grounds.GROUNDS)


def _card(txn_id: str, day: int, amount: str, mcc: str, name: str) -> dict[str, object]:
    return {"txn_id": txn_id, "booking_date": date(2025, 2, day), "amount_reporting": float(amount),
            "mcc": mcc, "counterparty_name": name, "is_related_spend": True}


def test_related_spend_names_the_kinds_of_merchant_and_never_cites_everyday_digital_goods():
    # Every row counts as related spend in the features (their MCCs are in RELATED_MCCS); the draft names
    # only the kinds of the typology (O8): a game store, an audiobook shop under a software-store code and a
    # voucher seller under quasi-cash are ordinary purchases, never cited as context.
    rows = pd.DataFrame([
        _card("k1", 3, "19.99", "5816", "Nintendo eShop"),
        _card("k2", 4, "14.95", "5734", "Audible"),
        _card("k3", 5, "25.00", "5967", "CamSite Tokens Ltd"),
        _card("k4", 6, "30.00", "7273", "Match.com"),
        _card("k5", 7, "12.99", "4816", "ExpressVPN"),
        _card("k6", 8, "40.00", "6051", "CoinDrop Vouchers"),
        _card("k7", 9, "15.00", "5967", "CamSite Tokens Ltd"),
    ])
    ctx = grounds.Context(txns=rows, as_of=date(2025, 3, 1), currency="USD", timezone=None, cluster_of={},
                          cluster_facts={}, other_payers={})
    ground = next(g for g in grounds.GROUNDS if g.code == "RELATED_SPEND")
    finding = ground.find(ctx, 90)
    assert finding.holds and ground.supporting
    assert rows.loc[finding.rows, "txn_id"].tolist() == ["k3", "k4", "k5", "k7"]
    assert finding.text == (
        '4 card payments between 2025-02-05 and 2025-02-09 to related merchants: '
        '2 payments to adult-content sites or their token sellers ("CamSite Tokens Ltd"); '
        '1 payment to dating services ("Match.com"); 1 payment to VPN or anonymiser services ("ExpressVPN"); '
        '82.99 USD in total'
    )
    assert grounds.related_kind("5734", "ScreenRecord Pro") == "software"
    assert grounds.related_kind("5818", "Apple.com/bill") is None


def test_a_ground_over_one_payment_reads_in_the_singular():
    rows = pd.DataFrame([{"txn_id": "n1", "booking_date": date(2025, 2, 5), "amount_reporting": 40.0,
                          "is_p2p": True, "is_night": True, "is_keyword": True, "reference": "school fees"}])
    ctx = grounds.Context(txns=rows, as_of=date(2025, 3, 1), currency="USD", timezone="Europe/London",
                          cluster_of={}, cluster_facts={}, other_payers={})
    by_code = {g.code: g for g in grounds.GROUNDS}
    assert by_code["NIGHT_PAYMENTS"].find(ctx, 90).text == (
        "the 1 payment abroad on 2025-02-05 (100%) was made between 21:00 and 03:00 in the customer's local "
        "time (Europe/London), 40.00 USD in total")
    assert by_code["REFERENCES"].find(ctx, 90).text.startswith(
        '1 payment abroad on 2025-02-05 carries references that read like school fees')


def test_a_narrative_over_one_day_and_one_ip_address_reads_in_the_singular():
    from datetime import UTC, datetime

    from sar_world import draft_of

    from bantay.sar import narrative
    from bantay.sar.evidence import TXN_COLUMNS

    def row(txn_id: str, hour: int, amount: str) -> dict[str, object]:
        when = datetime(2025, 2, 5, hour, 0)
        base: dict[str, object] = dict.fromkeys(TXN_COLUMNS)
        base.update(txn_id=txn_id, booked_at=pd.Timestamp(when, tz=UTC), booking_date=when.date(),
                    local_time=when.strftime("%Y-%m-%d %H:%M"), customer_id="c7", account_id="A-c7",
                    direction="out", channel="remittance", amount=Decimal(amount), currency="USD",
                    amount_usd=float(amount), amount_reporting=float(amount), counterparty_id="P1",
                    counterparty_name="Ana Cruz", counterparty_country="PH", counterparty_city="Cebu City",
                    ip_address="203.0.113.9", is_p2p=True, is_night=True, is_round=False, is_keyword=False,
                    is_related_spend=False)
        return base

    customer = {"customer_id": "c7", "residence_country": "GB", "timezone": "Europe/London"}
    empty = pd.DataFrame({"counterparty_id": [], "cluster_id": []})
    payers = pd.DataFrame({"cluster_id": [], "customer_id": [], "confirmed": []})
    reasons = [{"code": "O5", "feature": "share_p2p_night_90d", "text": "night", "contribution": 0.5,
                "value": 1.0}]
    draft = draft_of(customer, [row("a1", 22, "40.00"), row("a2", 23, "45.00")], empty, payers, reasons)
    text = narrative.narrative(draft)
    assert "WHEN: On 2025-02-05 (the day of every payment under review);" in text
    assert "The payments were made from the IP address 203.0.113.9." in text
