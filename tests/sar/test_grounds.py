"""The ground table: the features it states are catalogue columns; profile, travel, baseline never are."""

from __future__ import annotations

from datetime import date

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
