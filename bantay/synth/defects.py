"""Planted bad rows: about 0.1% of rows, every rule of docs/design.md ("Bad-row rules"), each row breaking
one rule.

The truth (table, rule, txn_id, key, booking_date) goes to the truth folder, never into the ledger. Bad
customer and label rows are extra rows, so no good row cascades into a second rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from bantay.synth.tables import CUSTOMERS, FX_RATES, LABELS, TRANSACTIONS

TXN_RULES = (
    "txn_id_null",
    "txn_id_duplicate",
    "booked_at_null",
    "booked_at_not_partition_date",
    "customer_unknown",
    "direction_invalid",
    "channel_invalid",
    "amount_not_positive",
    "currency_invalid",
    "counterparty_country_invalid",
    "fx_rate_missing",
    "mcc_invalid",
)
CUSTOMER_RULES = (
    "customer_id_null",
    "customer_id_duplicate",
    "birth_date_invalid",
    "nationality_invalid",
    "residence_country_invalid",
    "timezone_invalid",
    "gender_invalid",
)
FX_RULES = ("fx_rate_not_positive", "fx_currency_invalid", "fx_duplicate")
LABEL_RULES = ("label_invalid", "label_customer_unknown", "decided_at_null")
RATE = 0.001
# Valid ISO 4217 codes that get no rate in fx_rates (fx_rate_missing), and one that only has bad rates.
UNRATED = ("JPY", "CHF")
BAD_RATE_CURRENCY = "NZD"
TRUTH = pa.schema(
    [
        ("table", pa.string()),
        ("rule", pa.string()),
        ("txn_id", pa.string()),
        ("key", pa.string()),
        ("booking_date", pa.date32()),
    ]
)


def _rules(rng: np.random.Generator, rules: tuple[str, ...], rows: int, minimum_each: int = 1) -> list[str]:
    count = max(len(rules) * minimum_each, int(rng.binomial(rows, RATE)))
    return [rules[k % len(rules)] for k in range(count)]


def transactions(
    table: pa.Table,
    day: np.ndarray,
    ocse: np.ndarray,
    rng: np.random.Generator,
    start: date,
    days: int,
    chunk: int,
) -> tuple[pa.Table, np.ndarray, list[dict[str, Any]]]:
    """Corrupt a few rows of ordinary customers in place (and add duplicate copies); return the truth rows."""
    rules = _rules(rng, TXN_RULES, table.num_rows)
    card = np.asarray(table.column("mcc").is_valid())
    candidates = np.flatnonzero(~ocse)
    picked = rng.choice(candidates, size=min(len(rules), len(candidates)), replace=False)
    # mcc_invalid needs a card row; swap one in.
    rows = table.take(pa.array(picked)).to_pylist()
    new_days = day[picked].copy()
    truth = []
    extra_rows, extra_days = [], []
    unknown = 0
    for k, (rule, row) in enumerate(zip(rules, rows, strict=False)):
        booking = start + timedelta(days=int(new_days[k]))
        if rule == "mcc_invalid" and row["mcc"] is None:
            alt = rng.choice(np.flatnonzero(card & ~ocse))
            row = table.slice(int(alt), 1).to_pylist()[0]
            rows[k] = row
            picked[k] = alt
            new_days[k] = day[alt]
            booking = start + timedelta(days=int(new_days[k]))
        if rule == "txn_id_null":
            key = f"{row['customer_id']}|{row['booked_at'].isoformat()}"
            row["txn_id"] = None
        elif rule == "txn_id_duplicate":
            copy = dict(row)
            later = row["booked_at"] + timedelta(minutes=int(rng.integers(1, 3 * 24 * 60)))
            end = datetime.combine(start + timedelta(days=days), datetime.min.time(), UTC)
            if later >= end:
                later = row["booked_at"] + (end - row["booked_at"]) / 2
            copy["booked_at"] = later
            extra_rows.append(copy)
            extra_days.append((later.date() - start).days)
            truth.append(
                {
                    "table": "transactions",
                    "rule": rule,
                    "txn_id": row["txn_id"],
                    "key": row["txn_id"],
                    "booking_date": later.date(),
                }
            )
            continue
        elif rule == "booked_at_null":
            row["booked_at"] = None
        elif rule == "booked_at_not_partition_date":
            row["booked_at"] = row["booked_at"] + timedelta(days=int(rng.choice([-3, -2, -1, 1, 2])))
        elif rule == "customer_unknown":
            row["customer_id"] = f"C{90_000_000 + chunk * 10_000 + unknown:08d}"
            unknown += 1
        elif rule == "direction_invalid":
            row["direction"] = str(rng.choice(["debit", "credit", "transfer", "D"]))
        elif rule == "channel_invalid":
            row["channel"] = str(rng.choice(["atm", "sepa", "swift", "pos", "unknown"]))
        elif rule == "amount_not_positive":
            row["amount"] = -row["amount"] if rng.random() < 0.5 else row["amount"] * 0
        elif rule == "currency_invalid":
            row["currency"] = str(rng.choice(["EURO", "US$", "XYZ", "UKP", "STG"]))
        elif rule == "counterparty_country_invalid":
            row["counterparty_country"] = str(rng.choice(["UK", "PHL", "XX", "EU", "Philippines"]))
        elif rule == "fx_rate_missing":
            row["currency"] = str(rng.choice(UNRATED))
        elif rule == "mcc_invalid":
            row["mcc"] = str(rng.choice(["541", "54111", "5X11", "grocery"]))
        if rule != "txn_id_null":
            key = row["txn_id"]
        truth.append(
            {
                "table": "transactions",
                "rule": rule,
                "txn_id": row["txn_id"],
                "key": key,
                "booking_date": booking,
            }
        )
    keep = np.ones(table.num_rows, dtype=bool)
    keep[picked] = False
    patched = pa.Table.from_pylist(rows + extra_rows, schema=TRANSACTIONS)
    out = pa.concat_tables([table.filter(pa.array(keep)), patched])
    out_days = np.concatenate([day[keep], new_days, np.array(extra_days, dtype=np.int64)])
    return out, out_days, truth


def customers(
    table: pa.Table, rng: np.random.Generator, first_extra: int, future: date
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Extra customer rows (copies of real people with a new id and name) that each break one rule."""
    rules = _rules(rng, CUSTOMER_RULES, table.num_rows)
    source = table.take(pa.array(rng.integers(0, table.num_rows, len(rules)))).to_pylist()
    names = table.column("full_name").to_pylist()
    rows, truth = [], []
    for k, (rule, row) in enumerate(zip(rules, source, strict=True)):
        row["customer_id"] = f"C{first_extra + k:08d}"
        row["full_name"] = f"{names[int(rng.integers(len(names)))].split()[0]} {row['full_name'].split()[-1]}"
        key = row["customer_id"]
        if rule == "customer_id_null":
            row["customer_id"] = None
            key = f"null|{row['full_name']}|{row['birth_date']}"
        elif rule == "customer_id_duplicate":
            rows.append(dict(row))  # the first copy is good and kept
        elif rule == "birth_date_invalid":
            row["birth_date"] = (
                None if rng.random() < 0.5 else future + timedelta(days=int(rng.integers(30, 4000)))
            )
        elif rule == "nationality_invalid":
            row["nationality"] = str(rng.choice(["UK", "GBR", "XX", "Filipino"]))
        elif rule == "residence_country_invalid":
            row["residence_country"] = str(rng.choice(["UK", "USA", "XX", "EU"]))
        elif rule == "timezone_invalid":
            row["timezone"] = str(rng.choice(["Europe/Londres", "London", "UTC+01:00", "Pacific/Manilla"]))
        elif rule == "gender_invalid":
            row["gender"] = str(rng.choice(["U", "male", "0", "Female"]))
        rows.append(row)
        truth.append({"table": "customers", "rule": rule, "txn_id": None, "key": key, "booking_date": None})
    return pa.Table.from_pylist(rows, schema=CUSTOMERS), truth


def fx_rates(
    table: pa.Table, rng: np.random.Generator, start: date, days: int
) -> tuple[pa.Table, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    for k, rule in enumerate(_rules(rng, FX_RULES, table.num_rows, 2)):
        when = start + timedelta(days=int(rng.integers(0, days)))
        if rule == "fx_rate_not_positive":
            # A currency no transaction uses, so quarantining it removes nothing anyone needs; one date each.
            row = {
                "rate_date": start + timedelta(days=k % days),
                "currency": BAD_RATE_CURRENCY,
                "usd_per_unit": float(rng.choice([0.0, -0.61])),
            }
        elif rule == "fx_currency_invalid":
            row = {
                "rate_date": when,
                "currency": f"{rng.choice(['EURO', 'US$', 'ZZ', 'PESO'])}{k}"[:5],
                "usd_per_unit": 1.0,
            }
        else:  # an exact copy: whichever copy is kept, the rate is the same
            row = table.slice(int(rng.integers(0, table.num_rows)), 1).to_pylist()[0]
        rows.append(row)
        truth.append(
            {
                "table": "fx_rates",
                "rule": rule,
                "txn_id": None,
                "key": f"{row['currency']}|{row['rate_date']:%Y-%m-%d}",
                "booking_date": None,
            }
        )
    return pa.concat_tables([table, pa.Table.from_pylist(rows, schema=FX_RATES)]), truth


def labels(
    table: pa.Table, rng: np.random.Generator, first_unknown: int
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Extra label rows: for customers that already have a good label, or for unknown customers."""
    if table.num_rows == 0:
        return table, []
    rows, truth = [], []
    for k, rule in enumerate(_rules(rng, LABEL_RULES, table.num_rows, 1)):
        row = table.slice(int(rng.integers(0, table.num_rows)), 1).to_pylist()[0]
        if rule == "label_invalid":
            row["label"] = int(rng.choice([2, -1, 9]))
        elif rule == "label_customer_unknown":
            row["customer_id"] = f"C{first_unknown + k:08d}"
        else:
            row["decided_at"] = None
        rows.append(row)
        truth.append(
            {
                "table": "labels",
                "rule": rule,
                "txn_id": None,
                "key": f"{row['customer_id']}|{row['decided_at'].isoformat() if row['decided_at'] else ''}",
                "booking_date": None,
            }
        )
    return pa.concat_tables([table, pa.Table.from_pylist(rows, schema=LABELS)]), truth
