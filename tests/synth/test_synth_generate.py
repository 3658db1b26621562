"""The synthetic ledger: contract layout and types, typology statistics, look-alikes, planted bad rows,
seeds."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pycountry
import pytest
from pyspark.sql import types as T

from bantay import ledger as contract
from bantay.synth import generate, population, world
from bantay.synth.activity import ROLES, Activity
from bantay.synth.defects import CUSTOMER_RULES, FX_RULES, LABEL_RULES, TXN_RULES

NIGHT = {21, 22, 23, 0, 1, 2}
P2P_CHANNELS = ("remittance", "bank_transfer", "wallet")
ARROW = {
    T.StringType(): pa.string(),
    T.TimestampType(): pa.timestamp("us", tz="UTC"),
    T.DecimalType(18, 2): pa.decimal128(18, 2),
    T.DateType(): pa.date32(),
    T.DoubleType(): pa.float64(),
    T.IntegerType(): pa.int32(),
}


def _read(root: Path, table: str) -> pd.DataFrame:
    if table == "transactions":
        data = ds.dataset(root / "transactions", format="parquet", partitioning="hive")
        return data.to_table().to_pandas()
    return pq.read_table(root / table).to_pandas()


@pytest.fixture(scope="module")
def frames(ledger: dict[str, Any]) -> dict[str, pd.DataFrame]:
    root, truth = ledger["root"], ledger["truth"]
    out = {t: _read(root, t) for t in contract.TABLES}
    out["truth"] = pq.read_table(truth / "customers.parquet").to_pandas()
    out["bad"] = pq.read_table(truth / "bad_rows.parquet").to_pandas()
    return out


@pytest.fixture(scope="module")
def payments(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Good outbound rows with kind, USD amount and the sender's local hour."""
    bad = set(frames["bad"]["txn_id"].dropna())
    txns = frames["transactions"]
    txns = txns[~txns["txn_id"].isin(bad) & txns["txn_id"].notna() & (txns["direction"] == "out")]
    customers = frames["customers"].drop_duplicates("customer_id")
    rows = txns.merge(frames["truth"][["customer_id", "kind"]], on="customer_id", how="inner").merge(
        customers[["customer_id", "timezone", "residence_country", "full_name"]],
        on="customer_id",
        how="inner",
    )
    fx = frames["fx_rates"].drop_duplicates(["currency", "rate_date"])
    rows["rate_date"] = pd.to_datetime(rows["booked_at"].dt.date)
    fx = fx.assign(rate_date=pd.to_datetime(fx["rate_date"]))
    rows = rows.merge(fx, on=["currency", "rate_date"], how="inner")
    rows["usd"] = rows["amount"].astype(float) * rows["usd_per_unit"]
    rows["hour"] = -1
    for zone, idx in rows.groupby("timezone").groups.items():
        rows.loc[idx, "hour"] = rows.loc[idx, "booked_at"].dt.tz_convert(zone).dt.hour
    rows["abroad_p2p"] = (
        rows["channel"].isin(P2P_CHANNELS)
        & (rows["counterparty_country"] != rows["residence_country"])
        & rows["mcc"].isna()
    )
    return rows


def test_run_writes_the_contract_schema_exactly(ledger: dict[str, Any]) -> None:
    root = ledger["root"]
    for table, spark_schema in contract.SCHEMAS.items():
        expected = pa.schema([(f.name, ARROW[f.dataType]) for f in spark_schema.fields])
        files = sorted((root / table).rglob("*.parquet"))
        assert files, table
        for path in files[:3]:
            assert pq.read_schema(path) == expected, (table, path)
    days = sorted(p.name for p in (root / "transactions").iterdir())
    assert len(days) == 60 and days[0] == "booking_date=2025-05-02" and days[-1] == "booking_date=2025-06-30"
    assert sorted(p.name for p in root.iterdir()) == ["customers", "fx_rates", "labels", "transactions"]


def test_run_keeps_the_truth_outside_the_ledger(
    ledger: dict[str, Any], frames: dict[str, pd.DataFrame]
) -> None:
    names = {p.name for p in ledger["root"].rglob("*")}
    assert "bad_rows.parquet" not in names and "customers.parquet" not in names
    assert "kind" not in frames["customers"].columns and "kind" not in frames["transactions"].columns
    assert "role" not in frames["transactions"].columns
    assert (ledger["root"] / "customers").stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in ledger["root"].rglob("*.parquet"))


def test_run_plants_every_rule_once_per_row_and_the_truth_finds_them(frames: dict[str, pd.DataFrame]) -> None:
    """Recompute each rule independently; the planted rows are exactly those the truth lists."""
    bad, txns, customers = frames["bad"], frames["transactions"], frames["customers"]
    assert set(bad["rule"]) == set(TXN_RULES + CUSTOMER_RULES + FX_RULES + LABEL_RULES)
    known = set(customers["customer_id"].dropna())
    currencies = {c.alpha_3 for c in pycountry.currencies}
    countries = {c.alpha_2 for c in pycountry.countries}
    fx = frames["fx_rates"]
    rated = set(zip(fx["currency"], fx["rate_date"].astype(str), strict=True))
    partition = txns["booking_date"].astype(str)
    broken = {
        "txn_id_null": txns["txn_id"].isna(),
        "booked_at_null": txns["booked_at"].isna(),
        "booked_at_not_partition_date": txns["booked_at"].notna()
        & (txns["booked_at"].dt.strftime("%Y-%m-%d") != partition),
        "customer_unknown": ~txns["customer_id"].isin(known),
        "direction_invalid": ~txns["direction"].isin(["in", "out"]),
        "channel_invalid": ~txns["channel"].isin(
            ["remittance", "bank_transfer", "card", "wallet", "crypto", "cash"]
        ),
        "amount_not_positive": txns["amount"].astype(float) <= 0,
        "currency_invalid": ~txns["currency"].isin(currencies),
        "counterparty_country_invalid": ~txns["counterparty_country"].isin(countries),
        "fx_rate_missing": txns["currency"].isin(currencies)
        & ~pd.Series(
            [(c, d) in rated for c, d in zip(txns["currency"], partition, strict=True)], index=txns.index
        ),
        "mcc_invalid": txns["mcc"].notna() & ~txns["mcc"].fillna("").str.fullmatch(r"\d{4}"),
    }
    matrix = pd.DataFrame(broken)
    assert matrix.sum(axis=1).max() == 1  # one rule per planted row
    for rule, mask in broken.items():
        planted = bad[bad["rule"] == rule]
        assert mask.sum() == len(planted) >= 1, rule
        if rule != "txn_id_null":
            assert set(txns.loc[mask, "txn_id"]) == set(planted["txn_id"]), rule
    dup = txns[txns["txn_id"].notna()].groupby("txn_id").size()
    assert set(dup[dup > 1].index) == set(bad.loc[bad["rule"] == "txn_id_duplicate", "txn_id"])
    # Customers: the planted rows are extra people nobody's transactions refer to.
    bad_customers = bad[bad["table"] == "customers"]
    assert not set(bad_customers["key"]) & set(txns["customer_id"])
    assert customers["customer_id"].isna().sum() == (bad_customers["rule"] == "customer_id_null").sum()
    assert (
        customers["customer_id"].dropna().duplicated().sum()
        == (bad_customers["rule"] == "customer_id_duplicate").sum()
    )
    assert 0.0005 < (bad["table"] == "transactions").sum() / len(txns) < 0.002


def test_run_leaves_good_rows_valid(frames: dict[str, pd.DataFrame]) -> None:
    bad = set(frames["bad"]["txn_id"].dropna())
    good = frames["transactions"][
        ~frames["transactions"]["txn_id"].isin(bad) & frames["transactions"]["txn_id"].notna()
    ]
    assert good["txn_id"].is_unique
    assert (good["amount"].astype(float) > 0).all()
    assert (good["booked_at"].dt.strftime("%Y-%m-%d") == good["booking_date"].astype(str)).all()
    phones = good["counterparty_phone"].dropna()
    assert phones.str.startswith("+").mean() > 0.6
    assert phones.str.match(r"^0\d{3} \d{3} \d{4}$").any()  # "0917 123 4567"
    assert phones.str.match(r"^\+63-9\d\d-\d{7}$").any()  # "+63-917-1234567"
    fx = frames["fx_rates"].drop_duplicates()
    fx = fx[fx["currency"].isin(["USD", "GBP", "EUR", "AUD", "CAD", "SEK", "PHP", "THB"])]
    assert len(fx) == 8 * 60 and (fx["usd_per_unit"] > 0).all()
    customers = frames["customers"].dropna(subset=["customer_id"])
    assert set(customers["residence_country"]) >= {"GB", "US", "AU", "CA", "IE", "SE", "DE", "NL"}


def test_run_ocse_payments_follow_the_typology(payments: pd.DataFrame) -> None:
    ocse = payments[(payments["kind"] == "ocse_payer") & payments["abroad_p2p"]]
    assert ocse["customer_id"].nunique() >= 25
    usd = ocse["usd"]
    # O1: median about USD 45, 5th-95th percentile about 12-200.
    assert 30 < usd.median() < 65
    assert 7 < usd.quantile(0.05) < 20 and 120 < usd.quantile(0.95) < 330
    # O5: 40-60% at night for non-Australian payers, against about 10% for ordinary card spending.
    non_au = ocse[ocse["residence_country"] != "AU"]
    assert 0.35 < non_au["hour"].isin(NIGHT).mean() < 0.65
    retail = payments[(payments["kind"] == "retail") & (payments["channel"] == "card")]
    assert 0.05 < retail["hour"].isin(NIGHT).mean() < 0.15
    # O1 destinations: the Philippines about 75%.
    assert 0.55 < (ocse["counterparty_country"] == "PH").mean() < 0.92
    # O4 and F5: several payees each; some payees are paid by more than one payer.
    per_payer = ocse.groupby("customer_id")["counterparty_id"].nunique()
    assert per_payer.median() >= 2
    senders = ocse.groupby("counterparty_id")["customer_id"].nunique()
    assert (senders >= 2).sum() >= 2
    # O2: heavy-tailed counts: the busiest payer makes several times the median.
    counts = ocse.groupby("customer_id").size()
    assert counts.max() >= 4 * counts.median()
    # F4: regions as real city names.
    cities = set(ocse.loc[ocse["counterparty_country"] == "PH", "counterparty_city"])
    assert cities & {
        "Manila",
        "Quezon City",
        "Angeles",
        "San Fernando",
        "Cebu City",
        "Lapu-Lapu",
        "Zamboanga City",
    }


def test_run_innocent_lookalikes_carry_their_signatures(
    payments: pd.DataFrame, frames: dict[str, pd.DataFrame]
) -> None:
    kinds = set(frames["truth"]["kind"])
    assert kinds >= {
        "ofw",
        "diaspora",
        "mixed_family",
        "child_sponsor",
        "freelancer_payer",
        "small_business_va",
        "romance_victim",
        "webcam_customer",
        "sextortion_victim",
        "online_buyer",
        "gamer_tipper",
        "church_donor",
        "online_dater",
    }
    p2p = payments[payments["abroad_p2p"]]
    ofw = p2p[p2p["kind"] == "ofw"]
    assert 150 < ofw["usd"].median() < 450 and (ofw["counterparty_country"] == "PH").mean() > 0.95
    surname = ofw["full_name"].str.split().str[-1]
    assert (ofw["counterparty_name"].str.contains(surname.iloc[0], case=False)).any()
    buyers = p2p[p2p["kind"] == "online_buyer"]
    assert 15 < buyers["usd"].median() < 50
    assert buyers.groupby("customer_id")["counterparty_id"].nunique().median() >= 3
    # Popular shops: one payee, many unrelated senders (the innocent twin of a facilitator cluster).
    assert buyers.groupby("counterparty_id")["customer_id"].nunique().max() >= 3
    sponsors = payments[
        (payments["kind"] == "child_sponsor") & (payments["reference"].fillna("").str.startswith("SPONSOR"))
    ]
    assert (sponsors["counterparty_country"] == sponsors["residence_country"]).all()
    assert (sponsors.groupby("customer_id")["amount"].nunique() == 1).all()
    sextortion = p2p[p2p["kind"] == "sextortion_victim"]
    assert (
        sextortion.groupby("customer_id")["booked_at"].agg(lambda s: s.max() - s.min()) <= timedelta(days=12)
    ).all()
    # Innocents write the same words, use VPNs and pay at night too.
    innocent = p2p[~p2p["kind"].isin(["ocse_payer"])]
    assert innocent["reference"].isin(["school fees", "gift", "medical", "payment"]).any()
    assert innocent["hour"].isin(NIGHT).mean() > 0.05


def test_run_has_no_value_only_offenders_use(payments: pd.DataFrame) -> None:
    ocse = payments[payments["kind"] == "ocse_payer"]
    others = payments[payments["kind"] != "ocse_payer"]
    for column in ("channel", "mcc", "reference", "counterparty_country", "counterparty_city"):
        only = set(ocse[column].dropna()) - set(others[column].dropna())
        assert not only, (column, only)
    prefix = lambda s: set(s.dropna().str.rsplit(".", n=1).str[0])  # noqa: E731
    assert prefix(ocse["ip_address"]) & prefix(others["ip_address"])


def test_run_truth_gives_every_drawn_transaction_its_role(
    ledger: dict[str, Any], frames: dict[str, pd.DataFrame]
) -> None:
    roles = pq.read_table(ledger["truth"] / "transactions.parquet").to_pandas()
    truth, bad, txns = frames["truth"], frames["bad"], frames["transactions"]
    assert roles["txn_id"].is_unique
    assert set(roles["role"]) == set(ROLES)
    # Every id in the ledger is a drawn row; the drawn rows missing from it are those whose id was blanked.
    in_ledger = set(txns["txn_id"].dropna())
    assert in_ledger <= set(roles["txn_id"])
    assert len(roles) - len(in_ledger) == (bad["rule"] == "txn_id_null").sum()
    kind = roles.merge(truth[["customer_id", "kind"]], on="customer_id", how="left")["kind"]
    # OCSE payments: exactly the payers' counted ones, never a planted bad row.
    suspected = roles[roles["role"] == "suspected_payment"]
    assert (kind[suspected.index] == "ocse_payer").all()
    counted = truth.set_index("customer_id")["ocse_payments"]
    per_payer = suspected.groupby("customer_id").size()
    assert per_payer.to_dict() == counted[counted > 0].to_dict()
    assert not set(suspected["txn_id"]) & set(bad["txn_id"].dropna())
    # The payers' other typology rows belong to payers; look-alike rows to look-alikes only.
    for role in ("payer_related_spend", "payer_travel"):
        assert (kind[roles.index[roles["role"] == role]] == "ocse_payer").all(), role
    lookalike = set(kind[roles.index[roles["role"] == "lookalike"]])
    assert lookalike and not lookalike & {"ocse_payer", "retail"}


def test_run_labels_are_partial_and_time_stamped(
    frames: dict[str, pd.DataFrame], ledger: dict[str, Any]
) -> None:
    labels = frames["labels"]
    good = labels[labels["label"].isin([0, 1]) & labels["decided_at"].notna()]
    truth = frames["truth"].set_index("customer_id")
    assert good["customer_id"].nunique() < 0.2 * len(truth)
    positives = good[good["label"] == 1].join(truth, on="customer_id", how="inner")
    payers = positives[positives["kind"] == "ocse_payer"]
    assert len(payers) >= 2  # a 60-day window: few payers are decided 30-150 days after their first payment
    delay = (payers["decided_at"] - payers["first_ocse_at"]).dt.days
    assert delay.between(29, 151).all()
    assert (good["decided_at"] < pd.Timestamp("2025-07-01", tz="UTC")).all()
    assert set(good.loc[good["label"] == 0, "typology"]) <= {
        "cleared",
        "sextortion_victim",
        "romance_scam_victim",
    }
    assert ledger["summary"]["labels"]["negative"] > ledger["summary"]["labels"]["positive"]


def test_run_same_seed_same_ledger_and_another_seed_differs(tmp_path: Path) -> None:
    def build(name: str, seed: int) -> pa.Table:
        generate.run(
            tmp_path / name,
            customers=300,
            days=14,
            seed=seed,
            end_date=date(2025, 1, 31),
            truth=None,
            fmt="parquet",
        )
        return ds.dataset(tmp_path / name / "transactions", partitioning="hive").to_table().sort_by("txn_id")

    first, again, other = build("a", 5), build("b", 5), build("c", 6)
    assert first.equals(again)
    assert pq.read_table(tmp_path / "a" / "customers").equals(pq.read_table(tmp_path / "b" / "customers"))
    assert not first.equals(other)


def test_run_csv_has_the_same_folders_and_a_header(tmp_path: Path) -> None:
    summary = generate.run(
        tmp_path / "csv", customers=200, days=10, seed=3, end_date=date(2025, 3, 10), truth=None, fmt="csv"
    )
    parquet = generate.run(
        tmp_path / "pq", customers=200, days=10, seed=3, end_date=date(2025, 3, 10), truth=None, fmt="parquet"
    )
    files = sorted((tmp_path / "csv" / "transactions").rglob("*.csv"))
    assert len(files) == 10
    read = pcsv.read_csv(files[0], convert_options=pcsv.ConvertOptions(column_types={"mcc": pa.string()}))
    assert read.column_names == [f.name for f in contract.TRANSACTIONS_SCHEMA.fields]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
        str(
            pcsv.read_csv(
                files[0], convert_options=pcsv.ConvertOptions(column_types={"booked_at": pa.string()})
            ).column("booked_at")[0]
        ),
    )
    total = sum(pcsv.read_csv(f).num_rows for f in files)
    assert total == summary["rows"]["transactions"] == parquet["rows"]["transactions"]
    for table in ("customers", "fx_rates", "labels"):
        assert list((tmp_path / "csv" / table).glob("*.csv")), table


def test_run_is_readable_by_spark_with_contract_types(spark: Any, ledger: dict[str, Any]) -> None:
    frame = contract.read_raw(spark, ledger["root"], "transactions")
    assert frame is not None
    types = dict(frame.dtypes)
    assert types["booked_at"] == "timestamp" and types["amount"] == "decimal(18,2)"
    assert frame.count() == ledger["summary"]["rows"]["transactions"]


def test_a_payer_whose_payments_all_fall_outside_the_window_has_none():
    # Payments before onboarding or after the window are dropped; when all of a payer's are, the payer
    # stays in the book without payments (seed 13 at 20,000 customers once crashed here).
    shared = world.build(3, date(2025, 1, 1), 30, 400)
    rng = np.random.default_rng(3)
    chunk = population.build(shared, rng, 0, 0, 400)
    payer = int(np.flatnonzero(chunk.kind == population.KIND["ocse_payer"])[0])
    chunk.onboard_us[payer] = shared.start_us + (shared.days + 1) * world.DAY_US  # after the window closes
    act = Activity(shared, chunk, rng)
    act.ocse_payer(payer)
    assert payer not in act.ocse_first_us and payer not in act.ocse_count
