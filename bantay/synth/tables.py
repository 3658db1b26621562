"""Turn one chunk's integer-coded events and customers into Arrow tables typed as the contract says."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bantay import ledger
from bantay.synth import reference as ref
from bantay.synth.activity import Activity
from bantay.synth.codes import CHANNELS, HANDLE_REF, REF_VOCAB
from bantay.synth.population import Chunk
from bantay.synth.world import DAY_US, World

TRANSACTIONS = ledger.arrow_schema("transactions")
CUSTOMERS = ledger.arrow_schema("customers")
FX_RATES = ledger.arrow_schema("fx_rates")
LABELS = ledger.arrow_schema("labels")
SCHEMAS = {"transactions": TRANSACTIONS, "customers": CUSTOMERS, "fx_rates": FX_RATES, "labels": LABELS}
TS = TRANSACTIONS.field("booked_at").type
AMOUNT = TRANSACTIONS.field("amount").type


def decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """decimal(18,2) straight from int64 cents (two's-complement 128-bit little-endian words)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(AMOUNT, len(cents), [None, pa.py_buffer(words.tobytes())])


def local_cents(world: World, ev: dict[str, np.ndarray], ccy: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Amount in the sending currency: USD converted at the booking day's rate, then rounded as drawn."""
    rate = world.usd_per_unit[ccy, day]
    local = ev["usd"] / rate
    php = world.usd_per_unit[world.ccy("PHP"), day]
    local = np.where(ev["land_php"] > 0, ev["land_php"] * php / rate, local)
    step = ev["round_to"]
    rounded = np.maximum(step, np.round(local / np.where(step > 0, step, 1.0)) * step)
    local = np.where(step > 0, rounded, local)
    local = np.where(ev["fixed_local"] > 0, ev["fixed_local"], local)
    return np.maximum(1, np.round(local * 100)).astype(np.int64)


def transactions(
    world: World,
    chunk: Chunk,
    act: Activity,
    ev: dict[str, np.ndarray],
    rng: np.random.Generator,
    parties: dict[str, pa.Array],
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """(table sorted by booked_at, booking day index per row, whether each row is an OCSE payment, each row's
    truth role: an index into `activity.ROLES`)."""
    order = np.lexsort((ev["cust"], ev["ts"]))
    ev = {k: v[order] for k, v in ev.items()}
    n = len(order)
    cust = ev["cust"]
    day = (ev["ts"] - world.start_us) // DAY_US
    ccy = chunk.ccy[cust]
    seq = pa.array(np.arange(n, dtype=np.int64) + chunk.index * 10**9)
    txn_id = pc.binary_join_element_wise("T", pc.utf8_lpad(pc.cast(seq, pa.string()), 13, "0"), "")

    cp = ev["cp"]
    variant = rng.choice(3, size=n, p=[0.8, 0.12, 0.08])
    phone_variant = rng.choice(3, size=n, p=[0.65, 0.25, 0.1])
    account = parties["counterparty_account"].take(pa.array(cp))
    account = pc.if_else(pa.array(ev["cash_pickup"]), pa.nulls(n, pa.string()), account)

    vocab = pa.array([None, *REF_VOCAB[1:], *act.local_refs], pa.string())
    ref_source = pa.concat_arrays([vocab, parties["handle"]])
    ref_idx = np.where(ev["ref"] >= 0, ev["ref"], np.where(ev["ref"] == HANDLE_REF, len(vocab) + cp, 0))

    online = ev["online"]
    home = chunk.home_ips.ravel()
    travel = np.concatenate(list(world.travel_ips.values()))
    ip_pool = pa.array(np.concatenate([home, world.vpn_ips, travel]).tolist(), pa.string())
    ip_idx = cust * 2 + rng.integers(0, 2, n)
    roaming = rng.random(n) < 0.015  # a session abroad now and then, for everyone
    ip_idx = np.where(roaming, len(home) + len(world.vpn_ips) + rng.integers(0, len(travel), n), ip_idx)
    ip_idx = np.where(ev["vpn"], len(home) + rng.integers(0, len(world.vpn_ips), n), ip_idx)
    ip = pc.if_else(pa.array(online), ip_pool.take(pa.array(ip_idx)), pa.nulls(n, pa.string()))
    dev_pool = pa.array(chunk.devices.ravel().tolist(), pa.string())
    dev_idx = cust * 5 + (rng.random(n) * chunk.n_devices[cust]).astype(np.int64)
    device = pc.if_else(pa.array(online), dev_pool.take(pa.array(dev_idx)), pa.nulls(n, pa.string()))

    ids = pa.array(chunk.ids, pa.string())
    table = pa.table(
        {
            "txn_id": txn_id,
            "booked_at": pa.array(ev["ts"], TS),
            "customer_id": ids.take(pa.array(cust)),
            "account_id": pa.array(chunk.accounts, pa.string()).take(pa.array(cust)),
            "direction": pa.array(["in", "out"], pa.string()).take(pa.array(ev["out"].astype(np.int64))),
            "channel": pa.array(CHANNELS, pa.string()).take(pa.array(ev["channel"].astype(np.int64))),
            "amount": decimal_from_cents(local_cents(world, ev, ccy, day)),
            "currency": pa.array(world.currencies, pa.string()).take(pa.array(ccy)),
            "counterparty_id": parties["counterparty_id"].take(pa.array(cp)),
            "counterparty_name": parties["names"].take(pa.array(cp * 3 + variant)),
            "counterparty_country": parties["counterparty_country"].take(pa.array(cp)),
            "counterparty_city": parties["counterparty_city"].take(pa.array(cp)),
            "counterparty_phone": parties["phones"].take(pa.array(cp * 3 + phone_variant)),
            "counterparty_account": account,
            "mcc": parties["mcc"].take(pa.array(cp)),
            "reference": ref_source.take(pa.array(ref_idx)),
            "ip_address": ip,
            "device_id": device,
        },
        schema=TRANSACTIONS,
    )
    return table, day, ev["ocse"], ev["role"]


def customers(world: World, chunk: Chunk) -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array(chunk.ids, pa.string()),
            "full_name": pa.array([f"{f} {s}" for f, s in zip(chunk.first_name, chunk.surname, strict=True)]),
            "birth_date": pa.array(chunk.birth.astype(np.int32), pa.date32()),
            "gender": pa.array(chunk.gender, pa.string()),
            "nationality": pa.array(chunk.nationality, pa.string()),
            "residence_country": pa.array([ref.RESIDENCES[r].code for r in chunk.residence], pa.string()),
            "timezone": pa.array([world.tz_names[z] for z in chunk.zone], pa.string()),
            "address_line": pa.array(chunk.address, pa.string()),
            "city": pa.array(chunk.city, pa.string()),
            "postcode": pa.array(chunk.postcode, pa.string()),
            "id_type": pa.array(chunk.id_type, pa.string()),
            "id_number": pa.array(chunk.id_number, pa.string()),
            "occupation": pa.array(chunk.occupation, pa.string()),
            "onboarded_at": pa.array(chunk.onboard_us, TS),
        },
        schema=CUSTOMERS,
    )


def fx_rates(world: World) -> pa.Table:
    days = np.arange(world.days)
    first = world.start.toordinal() - 719163  # days since 1970-01-01
    return pa.table(
        {
            "rate_date": pa.array(np.tile(first + days, len(world.currencies)).astype(np.int32), pa.date32()),
            "currency": pa.array(
                np.repeat(np.array(world.currencies, dtype=object), world.days).tolist(), pa.string()
            ),
            "usd_per_unit": pa.array(np.round(world.usd_per_unit[:, : world.days].ravel(), 8)),
        },
        schema=FX_RATES,
    )
