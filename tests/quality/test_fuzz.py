"""A seeded fuzz of corrupted ledgers and usage errors, end to end through `bantay` (hostile free text in the
line-oriented forms is fuzzed in tests/sar/test_line_forms.py without Spark; here, once, through `bantay
validate` and `bantay draft` with every name shape and hostile text in every free-text field, checking every
FinCEN XML against the XSD and every NCA text for forged lines).

One small ledger gets one or more corruptions per booking day (stray, broken, mistyped, mis-delimited or
symlinked files; bad rows of every kind; RFC 4180 hazards in clean rows), and one `bantay validate` run
must finish with exit 0, read = accepted + quarantined, every clean row accepted unchanged, every bad row or
bad file quarantined. Corruptions that make a whole table unusable, and garbage arguments, must each give
exit 1 or 2 and one line, before Spark starts. The counts are logged (`--log-cli-level=INFO`) for the record.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import random
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession
from quality_ledger import ARROW, CUSTOMERS, LABELS, customer, ts, txn

from bantay import cli, ledger

logger = logging.getLogger(__name__)
SEED = 20251206
FIRST = date(2025, 3, 1)
DAYS = 14
AS_OF = FIRST + timedelta(days=DAYS)
COLUMNS = [f.name for f in ledger.TRANSACTIONS_SCHEMA.fields]
BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

Counts = dict[str, int]


def _fx() -> list[dict[str, Any]]:
    return [
        {"rate_date": FIRST + timedelta(days=i), "currency": ccy, "usd_per_unit": rate}
        for i in range(DAYS + 1)
        for ccy, rate in (("USD", 1.0), ("GBP", 1.25), ("PHP", 0.02))
    ]


def _hostile(rng: random.Random, length: int = 24) -> str:
    alphabet = "abcXYZ 019;,\"'<>&" + BREAKS + "\t\x00\x07\u202e\u200f\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(length))


def _clean(day: date, n: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        rows.append(
            txn(
                f"T{day:%m%d}-{i}",
                ts(day, rng.randrange(1, 22), rng.randrange(60)),
                f"clean-{day:%m%d}-{i}",
                customer_id=rng.choice(["C1", "C2", "C3"]),
                currency=rng.choice(["USD", "GBP", "PHP"]),
                amount=Decimal(f"{rng.randrange(1, 100_000)}.{rng.randrange(100):02d}"),
            )
        )
    return rows


def _text(row: dict[str, Any]) -> dict[str, Any]:
    """A row as a CSV or text-typed file stores it."""
    out = {}
    for key, value in row.items():
        if value is None:
            out[key] = None
        elif hasattr(value, "hour"):
            out[key] = value.strftime("%Y-%m-%d %H:%M:%S")
        else:
            out[key] = str(value)
    return out


def _write_csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, delimiter=delimiter)
        writer.writeheader()
        for row in rows:
            writer.writerow(_text(row))


class Ledger:
    """The fuzzed ledger and what the validator must make of it."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.clean: dict[str, dict[str, Any]] = {}  # txn_id -> row, each must be accepted unchanged
        self.bad_rows: set[str] = set()  # references of rows that must be quarantined
        self.bad_files: dict[str, str] = {}  # file name -> file rule
        self.tried = 0

    def day(self, day: date) -> Path:
        return self.root / "transactions" / f"booking_date={day.isoformat()}"

    def bad(self, day: date, marker: str, **overrides: Any) -> dict[str, Any]:
        reference = f"bad-{day:%m%d}-{marker}"
        self.bad_rows.add(reference)
        return txn(f"B{day:%m%d}-{marker}", ts(day, 12), reference, **overrides)


def _rows_file(lg: Ledger, day: date, name: str, rows: list[dict[str, Any]]) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW["transactions"]), lg.day(day) / name)


# Each corruption plants something in one day and says what the validator must do with it.
def _notes(lg: Ledger, day: date, i: int) -> None:
    name = f"notes-{i}.txt"
    (lg.day(day) / name).write_text("loaded by hand\n")
    lg.bad_files[name] = "file_not_data"


def _junk_parquet(lg: Ledger, day: date, i: int) -> None:
    name = f"junk-{i}.parquet"
    (lg.day(day) / name).write_bytes(bytes(lg.rng.randrange(256) for _ in range(lg.rng.randrange(0, 400))))
    lg.bad_files[name] = "file_unreadable"


def _truncated_parquet(lg: Ledger, day: date, i: int) -> None:
    name = f"truncated-{i}.parquet"
    path = lg.day(day) / name
    _rows_file(lg, day, name, [lg.bad(day, f"trunc{i}")])
    lg.bad_rows.discard(f"bad-{day:%m%d}-trunc{i}")  # never read: accounted for as a file
    data = path.read_bytes()
    path.write_bytes(data[: lg.rng.randrange(4, len(data) - 1)])
    lg.bad_files[name] = "file_unreadable"


def _semicolon(lg: Ledger, day: date, i: int) -> None:
    name = f"export-{i}.csv"
    _write_csv(lg.day(day) / name, [lg.bad(day, f"semi{i}")], delimiter=";")
    lg.bad_rows.discard(f"bad-{day:%m%d}-semi{i}")
    lg.bad_files[name] = "file_not_comma_delimited"


def _missing_column(lg: Ledger, day: date, i: int) -> None:
    name = f"partial-{i}.parquet"
    column = lg.rng.choice(ledger.REQUIRED_COLUMNS["transactions"])
    table = pa.Table.from_pylist([lg.bad(day, f"miss{i}")], schema=ARROW["transactions"]).drop_columns(
        [column]
    )
    lg.bad_rows.discard(f"bad-{day:%m%d}-miss{i}")
    pq.write_table(table, lg.day(day) / name)
    lg.bad_files[name] = "file_column_missing"


def _empty_csv(lg: Ledger, day: date, i: int) -> None:
    name = f"empty-{i}.csv"
    (lg.day(day) / name).write_bytes(b"")
    lg.bad_files[name] = "file_empty"


def _as_text(lg: Ledger, day: date, i: int) -> None:
    rows = _clean(day, 2, lg.rng)
    for row in rows:
        row["txn_id"] += f"-text{i}"
        row["reference"] += f"-text{i}"
        lg.clean[row["txn_id"]] = row
    fields = [
        pa.field(f.name, pa.string()) if f.name in ("amount", "booked_at") else f
        for f in ARROW["transactions"]
    ]
    texts = [{**row, "amount": str(row["amount"]), "booked_at": row["booked_at"].isoformat()} for row in rows]
    pq.write_table(
        pa.Table.from_pylist(texts, schema=pa.schema(fields)), lg.day(day) / f"as-text-{i}.parquet"
    )


def _rfc4180(lg: Ledger, day: date, i: int) -> None:
    rows = _clean(day, 2, lg.rng)
    for n, row in enumerate(rows):
        row["txn_id"] += f"-csv{i}"
        row["counterparty_name"] = f'Name "{n}"\nline two, with comma'
        row["reference"] = f'{row["reference"]}-csv{i} say ""x""\r\nend'
        lg.clean[row["txn_id"]] = row
    _write_csv(lg.day(day) / f"rfc-{i}.csv", rows)


def _symlink(lg: Ledger, day: date, i: int) -> None:
    folder = lg.day(day)
    if folder.is_symlink():
        return
    elsewhere = lg.root.parent / f"elsewhere-{day.isoformat()}"
    shutil.move(folder, elsewhere)
    folder.symlink_to(elsewhere, target_is_directory=True)


def _bad_rows(lg: Ledger, day: date, i: int) -> None:
    first_clean = next(t for t in lg.clean if t.startswith(f"T{day:%m%d}-"))
    kinds: list[dict[str, Any]] = [
        {"txn_id": None},
        {"txn_id": first_clean, "booked_at": ts(day, 23, 59)},  # a later copy of a clean row's id
        {"booked_at": None},
        {"booked_at": ts(day - timedelta(days=1), 23)},
        {"customer_id": "C404"},
        {"direction": _hostile(lg.rng, 6)},
        {"channel": "pigeon"},
        {"amount": Decimal("-5.00")},
        {"amount": Decimal("0")},
        {"currency": "ABC"},
        {"counterparty_country": "XX"},
        {"currency": "EUR"},
        {"channel": "card", "mcc": "54A1"},
    ]
    rows = []
    for n, overrides in enumerate(lg.rng.sample(kinds, k=lg.rng.randrange(2, 6))):
        row = lg.bad(day, f"rows{i}-{n}", **overrides)
        if overrides.get("txn_id", "") is None or "txn_id" in overrides:
            row["txn_id"] = overrides["txn_id"]
        row["counterparty_name"] = _hostile(lg.rng)
        rows.append(row)
        lg.tried += 1
    _rows_file(lg, day, f"bad-rows-{i}.parquet", rows)


def _huge_amount(lg: Ledger, day: date, i: int) -> None:
    row = _text(lg.bad(day, f"huge{i}"))
    row["amount"] = lg.rng.choice(["1e18", "-1e18", "99999999999999999999", "1E300"])
    path = lg.day(day) / f"huge-{i}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow(row)


CORRUPTIONS: list[Callable[[Ledger, date, int], None]] = [
    _notes,
    _junk_parquet,
    _truncated_parquet,
    _semicolon,
    _missing_column,
    _empty_csv,
    _as_text,
    _rfc4180,
    _symlink,
    _bad_rows,
    _huge_amount,
]


def build(root: Path, seed: int = SEED, corrupt: bool = True) -> Ledger:
    rng = random.Random(seed)
    lg = Ledger(root, rng)
    customers = [*CUSTOMERS[:3], customer("C4", "k99", full_name=_hostile(rng), address_line=_hostile(rng))]
    for name, rows in (("customers", customers), ("fx_rates", _fx()), ("labels", LABELS[:2])):
        (root / name).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=ARROW[name]), root / name / "part-0.parquet")
    for offset in range(DAYS):
        day = FIRST + timedelta(days=offset)
        lg.day(day).mkdir(parents=True)
        rows = _clean(day, rng.randrange(3, 8), rng)
        lg.clean.update({row["txn_id"]: row for row in rows})
        _rows_file(lg, day, "part-0.parquet", rows)
        # Every corruption on some day, then a random pick of more.
        picks = [CORRUPTIONS[offset % len(CORRUPTIONS)], *rng.sample(CORRUPTIONS, k=rng.randrange(1, 4))]
        for i, corruption in enumerate(picks if corrupt else []):
            corruption(lg, day, i)
            lg.tried += 1
    if corrupt:
        (root / "transactions" / "README").write_text("stray\n")
        lg.bad_files["README"] = "file_not_data"
    return lg


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _clear(code: int, err: str, counts: Counts) -> None:
    """Exit 0, or exit 1/2 with exactly one `bantay: error:` line and no traceback."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("bantay: error:")]
    if code == 0:
        assert not errors
        return
    assert code in (1, 2) and len(errors) == 1, err
    counts["clear_errors"] += 1


@pytest.mark.slow
def test_fuzzed_ledger_validates_with_every_row_and_file_accounted(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts: Counts = {"inputs": 0, "clear_errors": 0, "tracebacks": 0, "clean_rows_lost": 0}
    lg = build(tmp_path / "ledger")
    out = tmp_path / "out"
    argv = ["validate", "--ledger", str(lg.root), "--out", str(out), "--as-of", AS_OF.isoformat()]
    code, stdout, err = _main(argv, capsys)
    counts["inputs"] += lg.tried
    _clear(code, err, counts)
    assert code == 0, err
    summary = json.loads(stdout)
    for table, numbers in summary["tables"].items():
        assert numbers["read"] == numbers["accepted"] + numbers["quarantined"], table
    files = {Path(f["file"]).name: f for f in summary["tables"]["transactions"]["files_quarantined"]}
    assert {name: f["rule"] for name, f in files.items()} == lg.bad_files
    accepted = {row["txn_id"]: row for row in ledger.read_validated(spark, out, "transactions").collect()}
    lost = [tid for tid in lg.clean if tid not in accepted]
    counts["clean_rows_lost"] = len(lost)
    assert not lost
    for tid, row in lg.clean.items():
        kept = accepted[tid]
        # Spark's CSV parser (univocity) turns CRLF inside a quoted field into LF; all else stays as written.
        expected = [str(row[name]).replace("\r\n", "\n") for name in ("reference", "counterparty_name")]
        assert [kept["reference"], kept["counterparty_name"]] == expected
        assert kept["amount"] == row["amount"]
    assert not {row["reference"] for row in accepted.values()} & lg.bad_rows
    bad = spark.read.parquet(str(out / "quarantine" / "table=transactions" / f"run_date={AS_OF}"))
    assert {row["reference"] for row in bad.collect()} >= lg.bad_rows
    logger.info("fuzz ledger: %s", counts)


def _unusable_tables(rng: random.Random) -> list[tuple[str, Callable[[Path], None]]]:
    """Corruptions that leave a whole table unusable: each must stop the run with one line."""

    def files(root: Path, table: str) -> list[Path]:
        return [path for path in (root / table).rglob("*") if path.is_file()]

    def junk(table: str) -> Callable[[Path], None]:
        def apply(root: Path) -> None:
            for path in files(root, table):
                path.write_bytes(bytes(rng.randrange(256) for _ in range(64)))

        return apply

    def drop(table: str) -> Callable[[Path], None]:
        return lambda root: shutil.rmtree(root / table)

    def strip_column(table: str) -> Callable[[Path], None]:
        def apply(root: Path) -> None:
            column = rng.choice(ledger.REQUIRED_COLUMNS[table])
            for path in files(root, table):
                pq.write_table(pq.read_table(path).drop_columns([column]), path)

        return apply

    def semicolons(table: str) -> Callable[[Path], None]:
        def apply(root: Path) -> None:
            for path in files(root, table):
                rows = pq.read_table(path).to_pylist()
                buffer = io.StringIO()
                writer = csv.writer(buffer, delimiter=";")
                writer.writerow(list(rows[0]) if rows else ["a", "b"])
                writer.writerows([_text(row).values() for row in rows])
                path.unlink()
                path.with_suffix(".csv").write_text(buffer.getvalue())

        return apply

    cases = []
    for table in ("transactions", "customers", "fx_rates", "labels"):
        cases += [(f"{table}: junk", junk(table)), (f"{table}: missing column", strip_column(table))]
        cases.append((f"{table}: semicolons", semicolons(table)))
        if table != "labels":  # labels may be absent
            cases.append((f"{table}: absent", drop(table)))
    return cases


def test_unusable_tables_and_garbage_arguments_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # default paths land here, never in the checkout
    rng = random.Random(SEED)
    counts: Counts = {"inputs": 0, "clear_errors": 0, "tracebacks": 0}
    base = tmp_path / "base"
    build(base / "ledger", corrupt=False)
    for n, (name, corrupt) in enumerate(_unusable_tables(rng)):
        root = tmp_path / f"case-{n}"
        shutil.copytree(base / "ledger", root / "ledger", symlinks=True)
        corrupt(root / "ledger")
        argv = [
            "validate",
            "--ledger",
            str(root / "ledger"),
            "--out",
            str(root / "out"),
            "--as-of",
            str(AS_OF),
        ]
        code, _, err = _main(argv, capsys)
        counts["inputs"] += 1
        _clear(code, err, counts)
        assert code == 1 and name.split(":")[0] in err, (name, err)
        assert not (root / "out" / "validated").exists()
    words = [
        "--as-of",
        "2025-02-30",
        "--customers",
        "-1",
        "--ledger",
        "--out",
        "--nope",
        "",
        "\n",
        "x" * 300,
        "run",
    ]
    for _ in range(40):
        # An unknown option first: whatever follows, the call must fail on usage before any step runs.
        argv = [rng.choice(["validate", "features", "score", "draft", "train", "run", "promote", "generate"])]
        argv += ["--nope", *[rng.choice(words) for _ in range(rng.randrange(0, 5))]]
        code, _, err = _main(argv, capsys)
        counts["inputs"] += 1
        _clear(code, err, counts)
        assert code == 2, (argv, err)
    logger.info("fuzz tables and arguments: %s", counts)


# Name shapes that broke drafting before (one word, blank, whitespace only, missing) and hostile free text.
NAME_SHAPES: list[str | None] = [
    "Madonna",
    "",
    "   ",
    None,
    "李小龍",
    "محمد بن سلمان",
    "O'Brien & <Sons>",
    "x" * 300,
]
HEADINGS = ("UK SAR - REASON FOR SUSPICION", "SUBJECT (", "WHO:", "WHAT:", "WHEN:", "WHERE:", "WHY:", "HOW:")
FORGED = ("XXSNEXX", "SUBJECT (victim)", "Name: Someone", "WHY: forged", "SUSPECTED CRIMINAL PROPERTY: 0")


def _forging(rng: random.Random) -> str:
    """Random hostile text with a forged glossary code and form lines after line breaks of every kind."""
    parts = [_hostile(rng, rng.randrange(0, 12))]
    for forged in rng.sample(FORGED, k=rng.randrange(1, len(FORGED) + 1)):
        parts += [rng.choice(BREAKS), forged]
    return "".join(parts)


def _hostile_ledger(root: Path, rng: random.Random) -> tuple[list[str], int]:
    """Customers H0..Hn with every name shape and hostile KYC text, each paying three times to the
    Philippines with hostile payee names, cities, accounts, phones, references and devices."""
    names = [*NAME_SHAPES, *(_forging(rng) for _ in range(6))]
    customers, rows, tried = [], [], 0
    for n, name in enumerate(names):
        cid = f"H{n}"
        customers.append(
            customer(
                cid,
                f"kh{n}",
                full_name=name,
                address_line=_forging(rng),
                city=_forging(rng),
                postcode=_hostile(rng, 8),
                occupation=_forging(rng),
                id_number=_forging(rng),
            )
        )
        for i in range(3):
            day = FIRST + timedelta(days=rng.randrange(DAYS))
            rows.append(
                txn(
                    f"H{n}-{i}",
                    ts(day, rng.randrange(24), rng.randrange(60)),
                    _forging(rng),  # the reference
                    customer_id=cid,
                    account_id=f"A-{cid}",
                    currency=rng.choice(["USD", "GBP", "PHP"]),
                    amount=Decimal(f"{rng.randrange(5, 300)}.{rng.randrange(100):02d}"),
                    counterparty_id=f"P-{n}-{i % 2}",
                    counterparty_name=_forging(rng),
                    counterparty_city=_forging(rng),
                    counterparty_account=_forging(rng),
                    counterparty_phone=_forging(rng),
                    device_id=_forging(rng),
                    ip_address=rng.choice(["81.2.69.160", "10.0.0.1", _forging(rng)]),
                )
            )
        tried += 11  # the free-text fields of the customer and of each payment carry hostile text
    # AUSTRAC and FINTRAC report in AUD and CAD: the drafts need their rates too.
    fx = _fx() + [
        {"rate_date": FIRST + timedelta(days=i), "currency": ccy, "usd_per_unit": rate}
        for i in range(DAYS + 1)
        for ccy, rate in (("AUD", 0.625), ("CAD", 0.8))
    ]
    for name, table in (("customers", customers), ("fx_rates", fx)):
        (root / name).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(table, schema=ARROW[name]), root / name / "part-0.parquet")
    by_day: dict[date, list[dict[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["booked_at"].date(), []).append(row)
    for day, day_rows in by_day.items():
        folder = root / "transactions" / f"booking_date={day.isoformat()}"
        folder.mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pylist(day_rows, schema=ARROW["transactions"]), folder / "part-0.parquet"
        )
    return [f"H{n}" for n in range(len(names))], tried


def _alert_everyone(out: Path, customer_ids: list[str]) -> None:
    """A scores partition as `bantay score` writes it, every customer alerted, with reasons that cite the
    payments abroad (so every payment is behind a ground and reaches every form)."""
    reason = pa.struct(
        [
            ("code", pa.string()),
            ("feature", pa.string()),
            ("text", pa.string()),
            ("contribution", pa.float64()),
            ("value", pa.float64()),
        ]
    )
    reasons = [
        {
            "code": "R_MEDIAN",
            "feature": "median_p2p_usd_90d",
            "text": "median",
            "contribution": 0.5,
            "value": 40.0,
        },
        {
            "code": "R_KEYWORD",
            "feature": "share_p2p_keyword_90d",
            "text": "refs",
            "contribution": 0.3,
            "value": 0.5,
        },
    ]
    scores = [
        {
            "customer_id": cid,
            "score": 0.9 - n / 100,
            "rank": n + 1,
            "alert": True,
            "model_version": "1",
            "reasons": reasons,
        }
        for n, cid in enumerate(customer_ids)
    ]
    schema = pa.schema(
        [
            ("customer_id", pa.string()),
            ("score", pa.float64()),
            ("rank", pa.int32()),
            ("alert", pa.bool_()),
            ("model_version", pa.string()),
            ("reasons", pa.list_(reason)),
        ]
    )
    folder = out / "scores" / f"as_of={AS_OF.isoformat()}"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(scores, schema=schema), folder / "part-0.parquet")
    # The day's payee clusters as `bantay features` writes them when no payees link (drafting needs them).
    clusters = out / "clusters" / f"as_of={AS_OF.isoformat()}"
    clusters.mkdir(parents=True)
    empty = pa.schema([("counterparty_id", pa.string()), ("cluster_id", pa.string())])
    pq.write_table(pa.Table.from_pylist([], schema=empty), clusters / "part-0.parquet")


@pytest.mark.slow
def test_hostile_values_that_reach_drafting_give_valid_fincen_xml_and_no_forged_nca_line(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through `bantay validate` and `bantay draft`: every alerted customer's FinCEN XML meets the XSD and no
    line of the NCA text starts with injected text, whatever the names, addresses, payees and references."""
    from lxml import etree

    from bantay.sar import fincen

    rng = random.Random(SEED + 1)
    counts: Counts = {"inputs": 0, "clear_errors": 0, "tracebacks": 0, "cases": 0, "forged_lines": 0}
    customer_ids, counts["inputs"] = _hostile_ledger(tmp_path / "ledger", rng)
    out = tmp_path / "out"
    common = ["--ledger", str(tmp_path / "ledger"), "--out", str(out), "--as-of", AS_OF.isoformat()]
    code, stdout, err = _main(["validate", *common], capsys)
    _clear(code, err, counts)
    assert code == 0, err
    assert json.loads(stdout)["tables"]["customers"]["quarantined"] == 0  # hostile text is no rule broken
    _alert_everyone(out, customer_ids)
    code, _, err = _main(["draft", *common, "--demo"], capsys)
    _clear(code, err, counts)
    assert code == 0, err  # no case failed: a failure would list it in index.html with its reason
    day = out / "cases" / f"as_of={AS_OF.isoformat()}"
    folders = sorted(p for p in day.iterdir() if p.is_dir())
    assert len(folders) == len(customer_ids)
    for folder in folders:
        counts["cases"] += 1
        xml = etree.parse(str(folder / "fincen_sar.xml"))
        assert fincen.schema().validate(xml), (folder.name, fincen.schema().error_log.last_error)
        draft = json.loads((folder / "draft.json").read_text(encoding="utf-8"))
        text = (folder / "nca_sar.txt").read_text(encoding="utf-8")
        lines = text.splitlines()
        assert lines[0] == " ".join(draft["filing"]["nca"]["glossary_codes"])
        assert sum(text.count(marker) for marker in FORGED) >= 3, folder.name  # the hostile text got here
        forged = [line for line in lines[1:] if line.startswith(FORGED)]
        counts["forged_lines"] += len(forged)
        assert not forged, folder.name
        # Our own section lines appear once each, and the transaction table has one line per payment.
        for heading in HEADINGS:
            assert sum(line.startswith(heading) for line in lines) == 1, (folder.name, heading)
        table = text.split("\nTRANSACTIONS (")[1].split("\nSUSPECTED CRIMINAL PROPERTY")[0]
        assert len(table.strip().splitlines()) == 1 + len(draft["transactions"]) == 4, folder.name
        # str.splitlines() honours every separator a reader might: it agrees with a plain split on LF.
        assert len(lines) == text.count("\n")
    logger.info("fuzz drafting: %s", counts)
