"""A tiny hand-built ledger with one planted bad row of every rule kind, written as Parquet or CSV.

Every row carries a test-only marker so that a test can say exactly which rows must be quarantined and why:
`reference` for transactions, `id_number` for customers, `typology` for labels, (currency, rate_date, rate)
for FX. BAD_* map each planted row's marker to the rules it breaks, first rule first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bantay import ledger

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)
AS_OF = D3  # the first run validates D1 and D2; the next run (D3 + 1) adds D3


def ts(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


ARROW = {name: ledger.arrow_schema(name) for name in ledger.TABLES}


def customer(cid: str | None, marker: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "customer_id": cid,
        "full_name": "Test Person",
        "birth_date": date(1980, 5, 17),
        "gender": "M",
        "nationality": "GB",
        "residence_country": "GB",
        "timezone": "Europe/London",
        "address_line": None,
        "city": "Leeds",
        "postcode": None,
        "id_type": "passport",
        "id_number": marker,
        "occupation": None,
        "onboarded_at": ts(date(2020, 1, 2), 9),
    }
    row.update(overrides)
    return row


CUSTOMERS = [
    customer("C1", "k01"),
    customer("C2", "k02", nationality="US", residence_country="US", timezone="America/New_York", gender=None),
    customer("C3", "k03", nationality="PH", residence_country="PH", timezone="Asia/Manila", gender="F"),
    customer("C9", "k04"),
    customer(None, "k05"),  # customer_id_null
    customer("C9", "k06", full_name="Second Copy"),  # customer_id_duplicate: C9's first copy is k04
    customer("C10", "k07", birth_date=date(2031, 1, 1)),  # birth_date_invalid: in the future
    customer("C11", "k08", birth_date=None),  # birth_date_invalid: missing
    customer("C12", "k09", nationality="XX"),  # nationality_invalid
    customer("C13", "k10", residence_country="ZZ"),  # residence_country_invalid
    customer("C14", "k11", timezone="Mars/Olympus_Mons"),  # timezone_invalid
    customer("C15", "k12", gender="Q"),  # gender_invalid
    customer("C16", "k13", nationality="XX", gender="Q"),  # two rules: quarantined once, under the first
    customer("C17", "k14", onboarded_at=None),  # onboarded_at_invalid: missing
]
BAD_CUSTOMERS = {
    "k05": ["customer_id_null"],
    "k06": ["customer_id_duplicate"],
    "k07": ["birth_date_invalid"],
    "k08": ["birth_date_invalid"],
    "k09": ["nationality_invalid"],
    "k10": ["residence_country_invalid"],
    "k11": ["timezone_invalid"],
    "k12": ["gender_invalid"],
    "k13": ["nationality_invalid", "gender_invalid"],
    "k14": ["onboarded_at_invalid"],
}

FX_RATES = [
    *[
        {"rate_date": day, "currency": ccy, "usd_per_unit": rate}
        for day in (D1, D2, D3)
        for ccy, rate in (("USD", 1.0), ("GBP", 1.25), ("PHP", 0.02))
    ],
    {"rate_date": D1, "currency": "EUR", "usd_per_unit": -1.0},  # fx_rate_not_positive (so EUR has no rate)
    {"rate_date": D1, "currency": "ABC", "usd_per_unit": 2.0},  # fx_currency_invalid
    {"rate_date": D2, "currency": "GBP", "usd_per_unit": 1.5},  # fx_duplicate: the first GBP rate of D2 stays
    {"rate_date": None, "currency": "PHP", "usd_per_unit": 0.03},  # fx_rate_date_null
]
BAD_FX = {
    ("EUR", "2025-03-01", -1.0): ["fx_rate_not_positive"],
    ("ABC", "2025-03-01", 2.0): ["fx_currency_invalid"],
    ("GBP", "2025-03-02", 1.5): ["fx_duplicate"],
    ("PHP", None, 0.03): ["fx_rate_date_null"],
}

LABELS = [
    {"customer_id": "C1", "label": 1, "decided_at": ts(date(2025, 2, 1), 12), "typology": "y01"},
    {"customer_id": "C2", "label": 0, "decided_at": ts(date(2025, 2, 3), 12), "typology": "y02"},
    {
        "customer_id": "C2",
        "label": 2,
        "decided_at": ts(date(2025, 2, 4), 12),
        "typology": "y03",
    },  # label_invalid
    {"customer_id": "C404", "label": 1, "decided_at": ts(date(2025, 2, 4), 12), "typology": "y04"},  # unknown
    {"customer_id": "C1", "label": 0, "decided_at": None, "typology": "y05"},  # decided_at_null
]
BAD_LABELS = {"y03": ["label_invalid"], "y04": ["label_customer_unknown"], "y05": ["decided_at_null"]}


def txn(tid: str | None, at: datetime | None, marker: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "txn_id": tid,
        "booked_at": at,
        "customer_id": "C1",
        "account_id": "A1",
        "direction": "out",
        "channel": "remittance",
        "amount": Decimal("25.00"),
        "currency": "GBP",
        "counterparty_id": "P1",
        "counterparty_name": "Payee One",
        "counterparty_country": "PH",
        "counterparty_city": None,
        "counterparty_phone": None,
        "counterparty_account": None,
        "mcc": None,
        "reference": marker,
        "ip_address": None,
        "device_id": None,
    }
    row.update(overrides)
    return row


# booking day -> rows in that partition folder
TRANSACTIONS = {
    D1: [
        txn("T1", ts(D1, 8), "r01"),
        txn("T2", ts(D1, 10), "r02", customer_id="C2", currency="USD", amount=Decimal("40.00")),
        txn("T2", ts(D1, 12), "r03", customer_id="C2", currency="USD", amount=Decimal("41.00")),  # later copy
        txn(None, ts(D1, 9), "r04"),  # txn_id_null
        txn("T4", None, "r05"),  # booked_at_null
        txn("T5", ts(D1, 11), "r06", customer_id="C404"),  # customer_unknown
        txn("T6", ts(D1, 11), "r07", direction="sideways"),  # direction_invalid
        txn("T7", ts(D1, 11), "r08", channel="pigeon"),  # channel_invalid
        txn("T8", ts(D1, 11), "r09", amount=Decimal("-5.00")),  # amount_not_positive
        txn("T9", ts(D1, 11), "r10", amount=Decimal("0.00")),  # amount_not_positive (zero)
        txn("T10", ts(D1, 11), "r11", currency="ABC"),  # currency_invalid (+ no rate)
        txn("T11", ts(D1, 11), "r12", counterparty_country="XX"),  # counterparty_country_invalid
        txn("T12", ts(D1, 11), "r13", currency="EUR"),  # fx_rate_missing
        txn("T13", ts(D1, 11), "r14", channel="card", mcc="54A1"),  # mcc_invalid
        txn(
            "T14",
            ts(D1, 13),
            "r15",
            channel="card",
            mcc="5411",
            customer_id="C3",
            currency="PHP",
            amount=Decimal("1000.00"),
        ),
        txn("T15", ts(D1, 14), "r16", direction="sideways", channel="pigeon"),  # two rules: the first wins
    ],
    D2: [
        txn("T20", ts(D2, 0, 5), "r20", direction="in"),
        txn("T21", ts(D1, 23, 55), "r21"),  # booked_at_not_partition_date
        txn("T22", ts(D2, 23, 59), "r22", customer_id="C9"),  # C9's first copy was accepted
    ],
    D3: [
        txn("T30", ts(D3, 7), "r30"),
        txn("T1", ts(D3, 9), "r31"),  # txn_id_duplicate of T1, validated on D1 by the first run
    ],
}
BAD_TRANSACTIONS_FIRST_RUN = {
    "r03": ["txn_id_duplicate"],
    "r04": ["txn_id_null"],
    "r05": ["booked_at_null"],
    "r06": ["customer_unknown"],
    "r07": ["direction_invalid"],
    "r08": ["channel_invalid"],
    "r09": ["amount_not_positive"],
    "r10": ["amount_not_positive"],
    "r11": ["currency_invalid", "fx_rate_missing"],
    "r12": ["counterparty_country_invalid"],
    "r13": ["fx_rate_missing"],
    "r14": ["mcc_invalid"],
    "r16": ["direction_invalid", "channel_invalid"],
    "r21": ["booked_at_not_partition_date"],
}
BAD_TRANSACTIONS_NEXT_RUN = {"r31": ["txn_id_duplicate"]}
ACCEPTED_FIRST_RUN = {"r01", "r02", "r15", "r20", "r22"}


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path.with_suffix(".parquet"))
    else:
        pacsv.write_csv(table, path.with_suffix(".csv"))


def write_ledger(
    root: Path, fmt: str = "parquet", days: tuple[date, ...] = (D1, D2, D3), skip: tuple[str, ...] = ()
) -> Path:
    """Write the ledger above to `root` in `fmt` ("parquet" or "csv"); leave out the tables in `skip`."""
    rows = {"customers": CUSTOMERS, "fx_rates": FX_RATES, "labels": LABELS}
    for name, table_rows in rows.items():
        if name not in skip:
            _write(pa.Table.from_pylist(table_rows, schema=ARROW[name]), root / name / "part-0", fmt)
    if "transactions" not in skip:
        for day in days:
            table = pa.Table.from_pylist(TRANSACTIONS[day], schema=ARROW["transactions"])
            _write(table, root / "transactions" / f"booking_date={day.isoformat()}" / "part-0", fmt)
    return root
