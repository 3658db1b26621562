"""A small hand-made output root for the draft tests: validated tables, scores, features and clusters.

as_of = 2025-03-01. Customers:
- c1 (GB, Europe/London): alerted, rank 1. Four payments abroad to PH in February 2025 plus one card payment
  to a token seller; an inbound salary, an airline ticket and the rent (none in the case); one payment older
  than 365 days (outside the window). Its model reasons include travel and two profile features, which are
  never grounds.
- c2 (US, America/New_York): alerted, rank 2. Two USD 100.00 payments to P3 in Zamboanga, a payee in the same
  cluster K1 as c1's payee P1.
- c3 (GB): not alerted; pays P1 once, so it is the "other customer" of cluster K1.
Cluster K1 (P1, P3) was also paid by one confirmed case (the clusters table's `n_confirmed_payers_365d`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bantay import ledger
from bantay import settings as settings_module
from bantay.features import reasons

AS_OF = date(2025, 3, 1)
GENERATED_AT = datetime(2025, 3, 1, 6, 0, 0)
RATES = {"USD": 1.0, "GBP": 1.25, "PHP": 0.0175, "AUD": 0.625, "CAD": 0.8}

# Validated transactions: the contract's columns plus the USD amount that `bantay validate` adds.
VALIDATED_TRANSACTIONS = ledger.arrow_schema("transactions").append(pa.field("amount_usd", pa.float64()))
REASON_TYPE = pa.list_(
    pa.struct(
        [
            ("code", pa.string()),
            ("feature", pa.string()),
            ("text", pa.string()),
            ("contribution", pa.float64()),
            ("value", pa.float64()),
        ]
    )
)


def txn(
    txn_id: str,
    customer: str,
    when: datetime,
    amount: str,
    currency: str,
    payee: str | None,
    name: str | None,
    country: str,
    city: str | None = None,
    *,
    direction: str = "out",
    channel: str = "remittance",
    mcc: str | None = None,
    reference: str | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    return {
        "txn_id": txn_id,
        "booked_at": when,
        "customer_id": customer,
        "account_id": f"A-{customer}",
        "direction": direction,
        "channel": channel,
        "amount": Decimal(amount),
        "currency": currency,
        "counterparty_id": payee,
        "counterparty_name": name,
        "counterparty_country": country,
        "counterparty_city": city,
        "counterparty_phone": None,
        "counterparty_account": None,
        "mcc": mcc,
        "reference": reference,
        "ip_address": ip,
        "device_id": f"D-{customer}" if ip else None,
        "amount_usd": float(Decimal(amount)) * RATES[currency],
    }


def base_transactions() -> list[dict[str, Any]]:
    return [
        # c1: 22:30 UTC in February is 22:30 in London: night (O5); "school fees" is a reference keyword (O7).
        txn(
            "t1",
            "c1",
            datetime(2025, 2, 3, 22, 30),
            "50.00",
            "GBP",
            "P1",
            "Maria Santos",
            "PH",
            "Angeles City",
            reference="school fees",
            ip="203.0.113.5",
        ),
        # t2 and t3 are 45 minutes apart: a burst (O12); both at night.
        txn(
            "t2",
            "c1",
            datetime(2025, 2, 10, 23, 0),
            "40.00",
            "GBP",
            "P2",
            "Ana Reyes",
            "PH",
            "Cebu City",
            reference="gift",
            ip="203.0.113.5",
        ),
        txn(
            "t3",
            "c1",
            datetime(2025, 2, 10, 23, 45),
            "25.00",
            "GBP",
            "P1",
            "Maria Santos",
            "PH",
            "Angeles City",
            reference="payment",
            ip="81.2.69.160",  # public; 203.0.113.5 is a documentation address, never in field 43
        ),
        # Daytime payment, not round (33.30), no keyword.
        txn(
            "t4",
            "c1",
            datetime(2025, 2, 20, 12, 0),
            "33.30",
            "GBP",
            "P2",
            "Ana Reyes",
            "PH",
            "Cebu City",
            reference="thanks",
        ),
        # Card payment to a token seller (O8), in GB: related spend, not p2p.
        txn(
            "t5",
            "c1",
            datetime(2025, 2, 21, 20, 0),
            "15.00",
            "GBP",
            "M1",
            "CamSite Tokens Ltd",
            "GB",
            "London",
            channel="card",
            mcc="5967",
        ),
        # An airline ticket and the rent: travel and ordinary spending, never in the case nor its totals.
        txn(
            "t8",
            "c1",
            datetime(2025, 2, 14, 9, 0),
            "420.00",
            "GBP",
            "AIR1",
            "Example Airways",
            "GB",
            "London",
            channel="card",
            mcc="4511",
        ),
        txn(
            "t9",
            "c1",
            datetime(2025, 2, 1, 8, 0),
            "950.00",
            "GBP",
            "L1",
            "Leeds Lettings Ltd",
            "GB",
            "Leeds",
            channel="bank_transfer",
        ),
        # Inbound salary: not in the case.
        txn(
            "t6",
            "c1",
            datetime(2025, 2, 1, 9, 0),
            "2500.00",
            "GBP",
            "E1",
            "Employer Ltd",
            "GB",
            "London",
            direction="in",
            channel="bank_transfer",
        ),
        # 367 days before as_of: outside the 365-day window (which starts on 2024-03-01).
        txn(
            "t7",
            "c1",
            datetime(2024, 2, 28, 10, 0),
            "80.00",
            "GBP",
            "P1",
            "Maria Santos",
            "PH",
            "Angeles City",
        ),
        # c2: two USD 100.00 payments to P3 (cluster K1) in Zamboanga.
        txn(
            "u1",
            "c2",
            datetime(2025, 1, 15, 15, 0),
            "100.00",
            "USD",
            "P3",
            "Rosa Cruz",
            "PH",
            "Zamboanga City",
            ip="192.0.2.44",
        ),
        txn(
            "u2",
            "c2",
            datetime(2025, 2, 15, 15, 0),
            "100.00",
            "USD",
            "P3",
            "Rosa Cruz",
            "PH",
            "Zamboanga City",
            ip="192.0.2.44",
        ),
        # c3 (not alerted) pays P1 once.
        txn(
            "v1",
            "c3",
            datetime(2025, 2, 5, 12, 0),
            "20.00",
            "GBP",
            "P1",
            "Maria Santos",
            "PH",
            "Angeles City",
        ),
    ]


def base_customers() -> list[dict[str, Any]]:
    onboarded = datetime(2020, 5, 1, 9, 0)
    return [
        {
            "customer_id": "c1",
            "full_name": "John Example",
            "birth_date": date(1968, 4, 2),
            "gender": "M",
            "nationality": "GB",
            "residence_country": "GB",
            "timezone": "Europe/London",
            "address_line": "1 Sample Road",
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "id_type": "passport",
            "id_number": "123456789",
            "occupation": "Engineer",
            "onboarded_at": onboarded,
        },
        {
            "customer_id": "c2",
            "full_name": "Sam Tester",
            "birth_date": date(1971, 9, 30),
            "gender": "M",
            "nationality": "US",
            "residence_country": "US",
            "timezone": "America/New_York",
            "address_line": "2 Example Ave",
            "city": "Albany",
            "postcode": "12207",
            "id_type": "driving_licence",
            "id_number": "D1234567",
            "occupation": None,
            "onboarded_at": onboarded,
        },
        {
            "customer_id": "c3",
            "full_name": "Other Person",
            "birth_date": date(1980, 1, 1),
            "gender": "F",
            "nationality": "GB",
            "residence_country": "GB",
            "timezone": "Europe/London",
            "address_line": None,
            "city": None,
            "postcode": None,
            "id_type": None,
            "id_number": None,
            "occupation": None,
            "onboarded_at": onboarded,
        },
    ]


def code(feature: str) -> str:
    """The reason code the scorer emits for a feature (its own code, or the derived fallback)."""
    return reasons.explain_feature(feature, {}, None, None)[0]


def base_scores() -> list[dict[str, Any]]:
    return [
        {
            "customer_id": "c1",
            "score": 0.9134,
            "rank": 1,
            "alert": True,
            "model_version": "7",
            "reasons": [
                {
                    "code": code("share_p2p_night_90d"),
                    "feature": "share_p2p_night_90d",
                    "text": "75% of payments abroad made between 21:00 and 03:00 local time",
                    "contribution": 1.2,
                    "value": 0.75,
                },
                {
                    "code": code("share_p2p_keyword_90d"),
                    "feature": "share_p2p_keyword_90d",
                    "text": "50% of payment references read like school fees or gifts",
                    "contribution": 0.8,
                    "value": 0.5,
                },
                {
                    "code": code("n_related_card_90d"),
                    "feature": "n_related_card_90d",
                    "text": "1 card payments in 90 days to adult platforms or token sellers",
                    "contribution": 0.6,
                    "value": 1.0,
                },
                {
                    "code": code("n_airline_90d"),
                    "feature": "n_airline_90d",
                    "text": "1 airline payments in 90 days",
                    "contribution": 0.5,
                    "value": 1.0,
                },
                {
                    "code": code("is_male"),
                    "feature": "is_male",
                    "text": "KYC gender recorded as male: yes",
                    "contribution": 0.4,
                    "value": 1.0,
                },
                {
                    "code": code("age_years"),
                    "feature": "age_years",
                    "text": "customer aged 56",
                    "contribution": 0.35,
                    "value": 56.0,
                },
                {
                    "code": code("share_p2p_burst_90d"),
                    "feature": "share_p2p_burst_90d",
                    "text": "50% of payments abroad within 2 hours of another",
                    "contribution": 0.3,
                    "value": 0.5,
                },
            ],
        },
        {
            "customer_id": "c2",
            "score": 0.55,
            "rank": 2,
            "alert": True,
            "model_version": "7",
            "reasons": [
                {
                    "code": code("median_p2p_usd_90d"),
                    "feature": "median_p2p_usd_90d",
                    "text": "median cross-border payment to individuals of USD 100 over 90 days",
                    "contribution": 0.4,
                    "value": 100.0,
                },
            ],
        },
        {"customer_id": "c3", "score": 0.05, "rank": 3, "alert": False, "model_version": "7", "reasons": []},
    ]


def base_clusters() -> list[dict[str, Any]]:
    return [
        {
            "counterparty_id": "P1",
            "cluster_id": "K1",
            "n_members": 2,
            "n_senders_90d": 3,
            "n_sender_countries_90d": 2,
            "n_confirmed_payers_365d": 1,
            "region": "Central Luzon",
        },
        {
            "counterparty_id": "P3",
            "cluster_id": "K1",
            "n_members": 2,
            "n_senders_90d": 3,
            "n_sender_countries_90d": 2,
            "n_confirmed_payers_365d": 1,
            "region": "Central Luzon",
        },
        {
            "counterparty_id": "P2",
            "cluster_id": "K2",
            "n_members": 1,
            "n_senders_90d": 1,
            "n_sender_countries_90d": 1,
            "n_confirmed_payers_365d": 0,
            "region": None,
        },
    ]


@dataclass
class World:
    out: Path
    transactions: list[dict[str, Any]]
    customers: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    clusters: list[dict[str, Any]]

    def write(self) -> Path:
        """Write every table under `out` as the validate / features / score steps would."""
        validated = self.out / "validated"
        txns = validated / "transactions"
        if txns.exists():
            import shutil

            shutil.rmtree(self.out)
        by_day: dict[date, list[dict[str, Any]]] = {}
        for row in self.transactions:
            by_day.setdefault(row["booked_at"].date(), []).append(row)
        for day, rows in by_day.items():
            _write(txns / f"booking_date={day.isoformat()}", rows, VALIDATED_TRANSACTIONS)
        _write(validated / "customers", self.customers, ledger.arrow_schema("customers"))
        days = [AS_OF - timedelta(days=n) for n in range(1, 400)]
        fx = [{"rate_date": d, "currency": c, "usd_per_unit": r} for d in days for c, r in RATES.items()]
        _write(validated / "fx_rates", fx, ledger.arrow_schema("fx_rates"))
        part = f"as_of={AS_OF.isoformat()}"
        _write(
            self.out / "scores" / part,
            self.scores,
            pa.schema(
                [
                    ("customer_id", pa.string()),
                    ("score", pa.float64()),
                    ("rank", pa.int32()),
                    ("alert", pa.bool_()),
                    ("model_version", pa.string()),
                    ("reasons", REASON_TYPE),
                ]
            ),
        )
        features = [
            {
                "customer_id": s["customer_id"],
                "as_of": AS_OF,
                "share_p2p_night_90d": 0.75,
                "median_p2p_usd_90d": 62.5,
            }
            for s in self.scores
        ]
        _write(
            self.out / "features" / part,
            features,
            pa.schema(
                [
                    ("customer_id", pa.string()),
                    ("as_of", pa.date32()),
                    ("share_p2p_night_90d", pa.float64()),
                    ("median_p2p_usd_90d", pa.float64()),
                ]
            ),
        )
        _write(
            self.out / "clusters" / part,
            self.clusters,
            pa.schema(
                [
                    ("counterparty_id", pa.string()),
                    ("cluster_id", pa.string()),
                    ("n_members", pa.int64()),
                    ("n_senders_90d", pa.int64()),
                    ("n_sender_countries_90d", pa.int64()),
                    ("n_confirmed_payers_365d", pa.int64()),
                    ("region", pa.string()),
                ]
            ),
        )
        return self.out


def _write(folder: Path, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")


def world(out: Path) -> World:
    return World(out, base_transactions(), base_customers(), base_scores(), base_clusters())


def draft_settings(out: Path, **extra: Any) -> settings_module.Settings:
    return settings_module.load(
        output_root=out,
        ledger_root=out.parent / "ledger",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        spark_driver_memory="2g",
        **{"demo": True, **extra},
    )


def load_draft(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "draft.json").read_text(encoding="utf-8"))


def draft_of(
    customer: dict[str, Any],
    rows: list[dict[str, Any]],
    clusters: Any,
    cluster_payers: Any,
    reasons: list[dict[str, Any]] | None = None,
    decision: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`build.build_draft` for hand-made rows of one customer (score 0.8, rank 1, model version 1, USD, the
    demo institution), as the draft job calls it: for the tests that need no Spark."""
    from datetime import UTC

    import pandas as pd

    from bantay.sar import build
    from bantay.sar.evidence import TXN_COLUMNS

    return build.build_draft(
        as_of=AS_OF,
        generated_at=GENERATED_AT.replace(tzinfo=UTC),
        score={"customer_id": customer["customer_id"], "score": 0.8, "rank": 1, "model_version": "1",
               "reasons": reasons or []},
        customer=customer,
        transactions=pd.DataFrame(rows, columns=list(TXN_COLUMNS)),
        clusters=clusters,
        cluster_payers=cluster_payers,
        case_ids={},
        institution={"name": "Demo Bank (synthetic)"},
        reporting_currency="USD",
        catalogue=build.feature_catalogue(),
        decision=decision,
    )
