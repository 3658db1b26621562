"""Drafts against the ledger's truth: do the filing files validate, and how much of what they report is the
simulated suspicious activity?

    .venv/bin/python benchmarks/drafts_truth.py --truth TRUTH --out OUT [--as-of D] [--goaml-xsd FILE]

TRUTH is the folder `bantay generate --truth` wrote (customers.parquet: each customer's kind;
transactions.parquet: each transaction's role). OUT is the output root `bantay draft` wrote to; the day is
--as-of, else the latest OUT/cases/as_of=*.

For every case folder (one per alerted customer) the five regulator files are read back from disk and checked
with the project's own checks: FinCEN XML against the FinCEN XSD (`bantay.sar.fincen.schema`), goAML against
the shipped strict test schema (`bantay.sar.goaml.test_schema`, and --goaml-xsd when given), the NCA text
against its draft (`bantay.sar.nca.problems`), FINTRAC JSON against its structure schema
(`bantay.sar.fintrac.validate`), AUSTRAC XML against its structure XSD (`bantay.sar.austrac.schema`). A goAML
or FINTRAC file the draft lists under `forms_omitted` (no outgoing payment) counts as omitted, not failed.

The reported amount of a case is the sum, in the reporting currency, of its listed outgoing transactions
(draft.json `transactions`, what `totals.reporting.amount` sums); its suspicious share is the part of that
sum whose transactions are `suspected_payment` in TRUTH/transactions.parquet. Supporting rows (draft.json
`supporting_transactions`) are never reported; their roles are counted apart.

Prints one JSON document: per case (case id, the customer's true kind, files, amounts by role, share) and
overall (cases that are true payers, file failures per form, pooled and per-case shares). No customer id,
name or row value is printed: cases are named by their case id.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where benchmarks/profile.py would shadow the standard
# library's `profile` module that pyspark (imported by bantay.sar) needs.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import json
import statistics
from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from lxml import etree

from bantay.sar import austrac, fincen, fintrac, goaml, nca

FORMS = ("fincen_sar.xml", "goaml_str.xml", "nca_sar.txt", "fintrac_str.json", "austrac_smr.xml")
SUSPECTED = "suspected_payment"
PAYER = "ocse_payer"
CENT = Decimal("0.01")


def _xsd_problem(path: Path, schemas: list[etree.XMLSchema]) -> str | None:
    """The first schema error's element path and line (never its message, which may quote a value)."""
    try:
        document = etree.parse(str(path))
    except etree.XMLSyntaxError as error:
        return f"not well-formed XML (line {error.lineno})"
    for schema in schemas:
        if not schema.validate(document):
            entry = schema.error_log[0]
            return f"schema error at {entry.path} (line {entry.line})"
    return None


def check_forms(folder: Path, draft: dict[str, Any], goaml_xsd: etree.XMLSchema | None) -> dict[str, str]:
    """Each form's status: `ok`, `omitted` (the draft says why), `missing`, or `invalid: <where>`."""
    omitted = {item["form"] for item in draft.get("forms_omitted", [])}
    status: dict[str, str] = {}
    for form in FORMS:
        path = folder / form
        if not path.is_file():
            status[form] = "omitted" if form in omitted else "missing"
            continue
        problem: str | None
        if form == "fincen_sar.xml":
            problem = _xsd_problem(path, [fincen.schema()])
        elif form == "goaml_str.xml":
            problem = _xsd_problem(path, [goaml.test_schema(), *([goaml_xsd] if goaml_xsd else [])])
        elif form == "austrac_smr.xml":
            problem = _xsd_problem(path, [austrac.schema()])
        elif form == "nca_sar.txt":
            found = nca.problems(path.read_text(encoding="utf-8"), draft)
            problem = "; ".join(found) if found else None
        else:
            try:
                fintrac.validate(json.loads(path.read_text(encoding="utf-8")), draft["case_id"])
                problem = None
            except fintrac.FintracStructureError as error:
                problem = str(error)
            except json.JSONDecodeError as error:
                problem = f"not JSON (line {error.lineno})"
        status[form] = "ok" if problem is None else f"invalid: {problem}"
    return status


def read_roles(truth: Path, txn_ids: set[str]) -> dict[str, str]:
    """Role of each of `txn_ids` from TRUTH/transactions.parquet (read with a filter: flat memory)."""
    table = ds.dataset(truth / "transactions.parquet", format="parquet").to_table(
        columns=["txn_id", "role"], filter=pc.field("txn_id").isin(sorted(txn_ids))
    )
    return dict(zip(table.column("txn_id").to_pylist(), table.column("role").to_pylist(), strict=True))


def read_kinds(truth: Path) -> dict[str, str]:
    table = pq.read_table(truth / "customers.parquet", columns=["customer_id", "kind"])
    return dict(zip(table.column("customer_id").to_pylist(), table.column("kind").to_pylist(), strict=True))


def reported(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The transactions a case reports: listed, outgoing, with a reporting-currency amount."""
    return [
        t for t in draft["transactions"] if t["direction"] == "out" and t.get("amount_reporting") is not None
    ]


def case_figures(draft: dict[str, Any], roles: dict[str, str], kinds: dict[str, str]) -> dict[str, Any]:
    """One case's reported amount by true role, its suspicious share, and its supporting rows by role."""
    by_role: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for txn in reported(draft):
        role = roles.get(txn["txn_id"], "not_in_truth")
        by_role[role] += Decimal(str(txn["amount_reporting"]))
        counts[role] += 1
    total = sum(by_role.values(), Decimal("0"))
    suspicious = by_role.get(SUSPECTED, Decimal("0"))
    kind = kinds.get(draft["subject"]["customer_id"], "not_in_truth")
    return {
        "case_id": draft["case_id"],
        "customer_kind": kind,
        "true_payer": kind == PAYER,
        "n_reported": sum(counts.values()),
        "amount_reported": str(total.quantize(CENT)),
        "amount_suspicious": str(suspicious.quantize(CENT)),
        "share_suspicious": _share(suspicious, total),
        "amount_by_role": {role: str(amount.quantize(CENT)) for role, amount in sorted(by_role.items())},
        "n_by_role": dict(sorted(counts.items())),
        "n_supporting_by_role": dict(
            sorted(
                Counter(
                    roles.get(t["txn_id"], "not_in_truth") for t in draft.get("supporting_transactions", [])
                ).items()
            )
        ),
    }


def _share(numerator: Decimal, denominator: Decimal) -> float | None:
    return round(float(numerator / denominator), 4) if denominator else None


def _pooled(cases: list[dict[str, Any]]) -> dict[str, Any]:
    reported_total = sum((Decimal(c["amount_reported"]) for c in cases), Decimal("0"))
    suspicious = sum((Decimal(c["amount_suspicious"]) for c in cases), Decimal("0"))
    shares = [c["share_suspicious"] for c in cases if c["share_suspicious"] is not None]
    return {
        "n_cases": len(cases),
        "amount_reported": str(reported_total.quantize(CENT)),
        "amount_suspicious": str(suspicious.quantize(CENT)),
        "share_suspicious_pooled": _share(suspicious, reported_total),
        "share_suspicious_median_case": round(statistics.median(shares), 4) if shares else None,
        "share_suspicious_min_case": min(shares) if shares else None,
        "n_cases_under_half_suspicious": sum(1 for s in shares if s < 0.5),
        "n_cases_nothing_reported": sum(1 for c in cases if c["share_suspicious"] is None),
    }


def measure(truth: Path, day_folder: Path, goaml_xsd: Path | None = None) -> dict[str, Any]:
    """The whole report for one day's case folders (see the module docstring)."""
    extra_xsd = etree.XMLSchema(etree.parse(str(goaml_xsd))) if goaml_xsd else None
    folders = sorted(p for p in day_folder.iterdir() if p.is_dir() and p.name.startswith("C-"))
    drafts = [json.loads((p / "draft.json").read_text(encoding="utf-8")) for p in folders]
    ids = {t["txn_id"] for d in drafts for t in [*d["transactions"], *d.get("supporting_transactions", [])]}
    roles = read_roles(truth, ids)
    kinds = read_kinds(truth)
    cases = []
    for folder, draft in zip(folders, drafts, strict=True):
        figures = case_figures(draft, roles, kinds)
        figures["files"] = check_forms(folder, draft, extra_xsd)
        cases.append(figures)
    files = {
        form: dict(sorted(Counter(c["files"][form].split(":")[0] for c in cases).items())) for form in FORMS
    }
    failures = sum(n for per_form in files.values() for status, n in per_form.items() if status != "ok")
    omitted = sum(per_form.get("omitted", 0) for per_form in files.values())
    by_role: Counter[str] = Counter()
    for case in cases:
        for role, amount in case["amount_by_role"].items():
            by_role[role] += Decimal(amount)
    payers = [c for c in cases if c["true_payer"]]
    currencies = sorted({d["reporting_currency"] for d in drafts})
    return {
        "day": day_folder.name.removeprefix("as_of="),
        "reporting_currency": currencies[0] if len(currencies) == 1 else currencies,
        "n_cases": len(cases),
        "n_true_payer_cases": len(payers),
        "share_true_payer_cases": round(len(payers) / len(cases), 4) if cases else None,
        "cases_by_kind": dict(sorted(Counter(c["customer_kind"] for c in cases).items())),
        "files": files,
        "file_failures": failures - omitted,
        "files_omitted": omitted,
        "amount_by_role": {role: str(a.quantize(CENT)) for role, a in sorted(by_role.items())},
        "all_cases": _pooled(cases),
        "true_payer_cases": _pooled(payers),
        "n_supporting_by_role": dict(
            sorted(sum((Counter(c["n_supporting_by_role"]) for c in cases), Counter()).items())
        ),
        "cases": cases,
    }


def _error(message: str) -> None:
    print(f"drafts_truth: error: {message}", file=sys.stderr)  # noqa: T201 - one clear line, then exit 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--truth", type=Path, required=True, help="the folder `bantay generate --truth` wrote"
    )
    parser.add_argument("--out", type=Path, required=True, help="the output root `bantay draft` wrote to")
    parser.add_argument("--as-of", help="the drafts' day (default: the latest OUT/cases/as_of=*)")
    parser.add_argument(
        "--goaml-xsd", type=Path, help="a goAML schema to apply after the shipped test schema"
    )
    args = parser.parse_args(argv)
    cases_root = args.out / "cases"
    days = sorted(p for p in cases_root.glob("as_of=*") if p.is_dir()) if cases_root.is_dir() else []
    day = cases_root / f"as_of={args.as_of}" if args.as_of else (days[-1] if days else None)
    if day is None or not day.is_dir():
        _error(f"no drafts under {cases_root} (run `bantay draft` first)")
        return 1
    if not (args.truth / "transactions.parquet").is_file():
        _error(f"{args.truth}/transactions.parquet is missing (regenerate with `bantay generate --truth`)")
        return 1
    print(json.dumps(measure(args.truth, day, args.goaml_xsd), indent=2))  # noqa: T201 - the benchmark's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
