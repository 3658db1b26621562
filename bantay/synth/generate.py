"""`bantay generate`: a synthetic ledger in the contract's layout, with its ground truth kept apart.

Customers are drawn in chunks (each with its own seeded generator), so memory stays flat as the book grows
and the same seed gives the same ledger. Shared counterparties (facilitator clusters and their innocent
twins) come from one `World` built first, so that customers in different chunks can pay the same payee.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from bantay.errors import ConfigError
from bantay.synth import defects, population, tables, world
from bantay.synth import profile as profiles
from bantay.synth.activity import ROLES, Activity
from bantay.synth.population import KIND, KIND_NAMES
from bantay.synth.writer import FORMATS, LedgerWriter, TableFile

logger = logging.getLogger(__name__)

CHUNK = 5_000
DAY = timedelta(days=1)
TRUTH_CUSTOMERS = pa.schema(
    [
        ("customer_id", pa.string()),
        ("kind", pa.string()),
        ("first_ocse_at", tables.TS),
        ("ocse_payments", pa.int32()),
    ]
)
# TRUTH/transactions.parquet: the role of every transaction as drawn (before planted defects), by txn_id.
# `suspected_payment` rows are the payers' simulated OCSE payments; `payer_related_spend` and `payer_travel`
# are the payers' other typology rows (O8, O11); `lookalike` rows are drawn by an innocent look-alike's
# behaviour; `ordinary` is everything else (everyone's retail traffic, tourists' trips).
TRUTH_TRANSACTIONS = pa.schema(
    [
        ("txn_id", pa.string()),
        ("customer_id", pa.string()),
        ("role", pa.string()),
    ]
)
# How a look-alike's case is closed (label 0 typology). How often each kind is investigated, how long the
# decision takes and how many decisions are wrong are the world's label regime (data/worlds/default.yaml).
CLEARED_AS = {"sextortion_victim": "sextortion_victim", "romance_victim": "romance_scam_victim"}
# The outcome a perfect investigator reaches for each kind, in the labels' words (`bantay.cases.labels`):
# what TRUTH/oracle.parquet says, and what `bantay backtest` decides from it. Kinds not named: `cleared`.
ORACLE_TYPOLOGY = {
    "ocse_payer": "ocse_payer",
    "online_buyer": "online_buyer",
    "online_dater": "dating",
    "ofw": "family_remittance",
    "diaspora": "family_remittance",
    "mixed_family": "family_remittance",
    "child_sponsor": "sponsor",
    "church_donor": "donor",
    "freelancer_payer": "freelancer_va",
    "small_business_va": "freelancer_va",
    "webcam_customer": "webcam_customer",
    "sextortion_victim": "sextortion_victim",
    "romance_victim": "romance_scam_victim",
}


def run(
    out: Path,
    customers: int,
    days: int,
    seed: int,
    end_date: date | None,
    truth: Path | None,
    fmt: str = "parquet",
    world_profile: profiles.Profile | None = None,
) -> dict[str, Any]:
    """Write a ledger of `customers` customers over `days` days ending `end_date` (default yesterday, UTC),
    in `world_profile` (default: the default world; `--truth` then also holds the profile as world.yaml).

    `truth` (never inside the ledger) gets customers.parquet (each customer's kind), oracle.parquet (each
    customer's true outcome), bad_rows.parquet (the planted defects) and transactions.parquet (each drawn
    transaction's role, TRUTH_TRANSACTIONS)."""
    from bantay import ledger

    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if customers < 1 or days < 1:
        raise ConfigError("--customers and --days must be positive")
    clock = time.perf_counter()
    end = end_date or (datetime.now(UTC).date() - DAY)
    start = end - timedelta(days=days - 1)
    shared = world.build(seed, start, days, customers, world_profile)
    parties = shared.parties.to_arrow()
    counts = {"transactions": 0, "customers": 0, "fx_rates": 0, "labels": 0}
    kinds = dict.fromkeys(KIND_NAMES, 0)
    truth_rows: list[dict[str, Any]] = []
    label_parts: list[pa.Table] = []
    truth_customers: list[pa.Table] = []
    booking_dates = [(start + k * DAY).isoformat() for k in range(days)]
    n_chunks = -(-customers // CHUNK)
    # The truth folder is staged first so that the per-transaction truth streams out chunk by chunk (flat
    # memory); it is swapped into place after the ledger, as before.
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(ledger.atomic_dir(Path(truth))) if truth is not None else None
        roles_file = stack.enter_context(_truth_roles(folder))
        with ledger.atomic_dir(Path(out)) as staging:
            writer = LedgerWriter(staging, fmt)
            for index in tqdm(range(n_chunks), desc="generate", unit="chunk", leave=False):
                first = index * CHUNK
                size = min(CHUNK, customers - first)
                rng = np.random.default_rng([seed, 1, index])
                chunk = population.build(shared, rng, index, first, size)
                act = Activity(shared, chunk, rng)
                events = act.run()
                both = {k: pa.concat_arrays([parties[k], v]) for k, v in act.local.to_arrow().items()}
                txns, day, ocse, role = tables.transactions(shared, chunk, act, events, rng, both)
                if roles_file is not None:
                    roles_file.write(_truth_transactions(txns, role))
                txns, day, bad = defects.transactions(txns, day, ocse, rng, start, days, index)
                order = np.argsort(day, kind="stable")
                txns, day = txns.take(pa.array(order)), day[order]
                edges = np.searchsorted(day, np.arange(days + 1))
                writer.transactions(txns, booking_dates, list(pairwise(edges)))
                good = tables.customers(shared, chunk)
                extra, bad_customers = defects.customers(good, rng, customers + index * 1_000, end + 30 * DAY)
                writer.table("customers", pa.concat_tables([good, extra]))
                labels = _labels(chunk, act, rng, end)
                label_parts.append(labels)
                truth_customers.append(_truth_customers(chunk, act))
                truth_rows += bad + bad_customers
                counts["transactions"] += txns.num_rows
                counts["customers"] += good.num_rows + extra.num_rows
                for k, v in zip(*np.unique(chunk.kind, return_counts=True), strict=True):
                    kinds[KIND_NAMES[k]] += int(v)
            fx, bad_fx = defects.fx_rates(
                tables.fx_rates(shared), np.random.default_rng([seed, 2]), start, days
            )
            writer.table("fx_rates", fx)
            labels = pa.concat_tables(label_parts)
            labels, bad_labels = defects.labels(labels, np.random.default_rng([seed, 3]), 95_000_000)
            writer.table("labels", labels)
            writer.close()
            counts["fx_rates"], counts["labels"] = fx.num_rows, labels.num_rows
            truth_rows += bad_fx + bad_labels
        if folder is not None:
            truth_table = pa.concat_tables(truth_customers)
            _write(folder / "customers.parquet", truth_table)
            _write(folder / "oracle.parquet", oracle(truth_table))
            _write(folder / "bad_rows.parquet", pa.Table.from_pylist(truth_rows, schema=defects.TRUTH))
            if world_profile is not None:
                from bantay.io.files import write_private

                write_private(folder / "world.yaml", world_profile.to_yaml())
    seconds = round(time.perf_counter() - clock, 2)
    summary = {
        "ledger": str(out),
        "format": fmt,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seed": seed,
        **({"world": world_profile.model_dump(mode="json")} if world_profile is not None else {}),
        "rows": counts,
        "customers_by_kind": kinds,
        "bad_rows": len(truth_rows),
        "labels": {
            "positive": int(np.sum(np.asarray(labels.column("label")) == 1)),
            "negative": int(np.sum(np.asarray(labels.column("label")) == 0)),
        },
        "seconds": seconds,
    }
    logger.info(
        "generated %d transactions for %d customers over %d days in %.1f s",
        counts["transactions"],
        customers,
        days,
        seconds,
    )
    return summary


def _write(path: Path, table: pa.Table) -> None:
    from bantay.synth.writer import _private

    with _private(path) as handle:
        pq.write_table(table, handle, compression="zstd")


@contextlib.contextmanager
def _truth_roles(folder: Path | None) -> Iterator[TableFile | None]:
    """TRUTH/transactions.parquet, open for the whole run (None without a truth folder)."""
    if folder is None:
        yield None
        return
    folder.mkdir(mode=0o700)
    roles = TableFile(folder / "transactions.parquet", TRUTH_TRANSACTIONS, "parquet")
    try:
        yield roles
    finally:
        roles.close()


def _truth_transactions(txns: pa.Table, role: np.ndarray) -> pa.Table:
    """`txn_id, customer_id, role` of one chunk's rows as drawn (planted defects come later)."""
    return pa.table(
        {
            "txn_id": txns.column("txn_id"),
            "customer_id": txns.column("customer_id"),
            "role": pa.array(ROLES, pa.string()).take(pa.array(role.astype(np.int64))),
        },
        schema=TRUTH_TRANSACTIONS,
    )


def _truth_customers(chunk: population.Chunk, act: Activity) -> pa.Table:
    n = len(chunk)
    first = np.full(n, -1, dtype=np.int64)
    count = np.zeros(n, dtype=np.int32)
    for i, ts in act.ocse_first_us.items():
        first[i], count[i] = ts, act.ocse_count[i]
    return pa.table(
        {
            "customer_id": pa.array(chunk.ids, pa.string()),
            "kind": pa.array([KIND_NAMES[k] for k in chunk.kind], pa.string()),
            "first_ocse_at": pa.array(first, tables.TS, mask=first < 0),
            "ocse_payments": pa.array(count, pa.int32()),
        },
        schema=TRUTH_CUSTOMERS,
    )


def oracle(truth_customers: pa.Table) -> pa.Table:
    """The true outcome of every customer, `customer_id, label, typology, first_suspicious_at` (the first
    OCSE payment; null for everyone else): what a backtest's investigators decide (`bantay backtest`)."""
    kinds = truth_customers.column("kind").to_pylist()
    return pa.table(
        {
            "customer_id": truth_customers.column("customer_id"),
            "label": pa.array([int(k == "ocse_payer") for k in kinds], pa.int32()),
            "typology": pa.array([ORACLE_TYPOLOGY.get(k, "cleared") for k in kinds], pa.string()),
            "first_suspicious_at": truth_customers.column("first_ocse_at"),
        }
    )


def _labels(chunk: population.Chunk, act: Activity, rng: np.random.Generator, end: date) -> pa.Table:
    """Partial, time-stamped case outcomes by the world's label regime (default: confirmed payers 30-150 days
    after their first OCSE payment, cleared look-alikes 20-120 days after their first payment abroad, a few
    cleared ordinary customers; 4% wrong)."""
    end_us = int(datetime.combine(end + DAY, datetime.min.time(), UTC).timestamp() * 1_000_000)
    start_us = end_us - act.w.days * world.DAY_US
    knobs = act.w.profile
    ids = chunk.ids
    rows = []
    for i in range(len(chunk)):
        kind = KIND_NAMES[chunk.kind[i]]
        if rng.random() >= knobs.investigated.get(kind, 0.0):
            continue
        if kind == "ocse_payer":
            if i not in act.ocse_first_us:
                continue
            decided = act.ocse_first_us[i] + int(
                rng.uniform(*knobs.decision_delay_days.confirmed) * world.DAY_US
            )
            label, typology = 1, "ocse_payer"
        else:
            since = act.abroad_first_us.get(i, start_us + int(rng.uniform(0, act.w.days) * world.DAY_US))
            decided = since + int(rng.uniform(*knobs.decision_delay_days.cleared) * world.DAY_US)
            label, typology = 0, CLEARED_AS.get(kind, "cleared")
        if decided >= end_us:
            continue
        if rng.random() < knobs.label_noise:  # some confirmed cases are wrong, some cleared were offenders
            label, typology = (0, "cleared") if label == 1 else (1, "ocse_payer")
        rows.append({"customer_id": ids[i], "label": label, "decided_at": decided, "typology": typology})
    return pa.table(
        {
            "customer_id": pa.array([r["customer_id"] for r in rows], pa.string()),
            "label": pa.array([r["label"] for r in rows], pa.int32()),
            "decided_at": pa.array([r["decided_at"] for r in rows], tables.TS),
            "typology": pa.array([r["typology"] for r in rows], pa.string()),
        },
        schema=tables.LABELS,
    )


KIND_IDS = KIND
