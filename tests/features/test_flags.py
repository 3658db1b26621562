"""Per-transaction flags: the rows each row-level feature counts, worked out by hand on one customer."""

from __future__ import annotations

from datetime import date

from _sender_rows import customer, customers, fx_rates, transactions, txn

from bantay.features import flags

AS_OF = date(2025, 4, 10)

# c1 lives in London: GMT until 2025-03-30, BST (UTC+1) after.
FIRST = txn("c1", "2025-03-01T10:00:00", 20.0, amount="20.00", payee="A")  # first payment to A: new payee
# One hour later to another payee: a burst with FIRST, a payee switch, a new payee, round GBP 25, a gift.
SECOND = txn("c1", "2025-03-01T11:00:00", 25.0, amount="25.00", payee="B", reference="gift")
# In Angeles City (Central Luzon, an F4 focus region):
# 30 days 12.5 hours after A was first paid: 30 calendar days, so still a new payee (the features count
# calendar days, not hours); 22:30 UTC is 23:30 BST: night; back to A after B: a switch.
LATE = txn("c1", "2025-03-31T22:30:00", 31.37, amount="31.37", payee="A", city="Angeles City")
# 32 calendar days after A was first paid: no longer new; same payee as the payment before: no switch.
AGAIN = txn("c1", "2025-04-02T12:00:00", 31.37, amount="31.37", payee="A")
# A card payment to a token seller (O8): not p2p, related spend; 21:30 BST is night.
CARD = txn("c1", "2025-04-03T20:30:00", 15.0, channel="card", mcc="5967", payee="m1", country="US")
# A domestic transfer: no flag at all.
RENT = txn("c1", "2025-04-04T12:00:00", 700.0, channel="bank_transfer", payee="landlord", country="GB")
# Booked on the as-of day: outside the look-back, no row.
TODAY = txn("c1", "2025-04-10T09:00:00", 50.0, payee="C")


def test_transaction_flags_mark_the_rows_each_feature_counts(spark):
    rows = [FIRST, SECOND, LATE, AGAIN, CARD, RENT, TODAY]
    out = flags.transaction_flags(
        transactions(spark, rows), customers(spark, [customer("c1")]), fx_rates(spark, []), AS_OF
    )
    collected = out.collect()
    got = {r["txn_id"]: {k for k in flags.FLAG_COLUMNS if r[k]} for r in collected}
    regions = {r["txn_id"]: r["payee_region"] for r in collected}
    assert regions[LATE[0]] == "PH-Central Luzon" and regions[FIRST[0]] == "PH-other"
    assert regions[CARD[0]] is None and regions[RENT[0]] is None
    assert got == {
        FIRST[0]: {"is_p2p", "is_new_payee", "is_burst", "is_round"},
        SECOND[0]: {"is_p2p", "is_new_payee", "is_burst", "is_payee_switch", "is_round", "is_keyword"},
        LATE[0]: {"is_p2p", "is_new_payee", "is_payee_switch", "is_night", "is_ph_focus_region"},
        AGAIN[0]: {"is_p2p"},
        CARD[0]: {"is_related_spend", "is_night"},
        RENT[0]: set(),
    }
