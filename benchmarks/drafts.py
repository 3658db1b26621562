"""Drafting speed: a day's drafts built from inputs read once, timed, and checksummed.

    .venv/bin/python benchmarks/drafts.py --out OUT --as-of D --inputs FILE [--repeat N] [--workers W]
        [--forms]

The first call (FILE missing) reads the day's alerts and their evidence as `bantay draft` does
(`bantay.sar.evidence.load`, Spark), and the FX rates they convert with, and keeps them in FILE (a pickle,
owner-only: it holds the alerted customers' rows). Every call then builds the drafts `--repeat` times with
`draft_cases.build_drafts` (the pure part of `bantay draft`: grounds, totals, payees, clusters, narrative
data; no Spark) at a fixed generation time, in W processes (`draft_workers`; 0: one per CPU, 1: this
process), and with `--forms` renders and writes every case's files as the job does
(`draft_cases.write_cases`, into a temporary folder). It prints one JSON line: alerts, drafts built, failed,
cluster rows, cluster payer rows, the pickled size of the day's payee cluster index (what every worker task
carries besides its cases), the seconds of each build (and of each rendering), and the sha256 of the drafts
(keys sorted) and of the files written (names and bytes). The same FILE run by two checkouts, or with two
worker counts, compares their drafting time, and their drafts and files byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where benchmarks/profile.py would shadow the standard
# library's `profile` module that pyspark needs.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import hashlib
import json
import os
import pickle
import tempfile
import time
from datetime import UTC, date, datetime

import pandas as pd

from bantay import settings as settings_module
from bantay.jobs import draft_cases
from bantay.sar import build, evidence, goaml

GENERATED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _inputs(out: Path, as_of: date, path: Path) -> tuple[evidence.CaseInputs, pd.DataFrame]:
    if path.exists():
        if path.stat().st_uid != os.getuid() or path.stat().st_mode & 0o077:
            raise SystemExit(f"drafts: error: {path} is not this user's owner-only file; not read")
        with path.open("rb") as handle:
            loaded: tuple[evidence.CaseInputs, pd.DataFrame] = pickle.load(handle)  # our own, written below
        if not isinstance(loaded, tuple) or loaded[0].as_of != as_of:
            raise SystemExit(f"drafts: error: {path} holds no inputs of {as_of} in this file's layout")
        return loaded
    import bantay.spark

    settings = settings_module.load(output_root=out, demo=True)
    spark = bantay.spark.session(settings)
    inputs = (
        evidence.load(spark, settings, as_of, evidence.read_alerts(spark, settings, as_of)),
        draft_cases.rate_table(spark, settings, as_of),
    )
    partial = path.with_name(path.name + ".partial")  # renamed once whole: a crash leaves no half file
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        pickle.dump(inputs, handle)
    os.replace(partial, path)
    spark.stop()  # the builds below are timed without a JVM beside them
    return inputs


def _files_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output root that `bantay score` wrote")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument(
        "--inputs", type=Path, required=True, help="pickle of the day's inputs (made if missing)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="draft_workers (0: one per CPU)")
    parser.add_argument("--forms", action="store_true", help="also render and write every case's files")
    args = parser.parse_args()
    inputs, rates = _inputs(args.out, args.as_of, args.inputs)
    settings = settings_module.load(output_root=args.out, demo=True, draft_workers=args.workers)
    config = goaml.load_config(settings.goaml_config)
    seconds: list[float] = []
    forms_seconds: list[float] = []
    digest = files_digest = ""
    built = failed = 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        drafts, failures = draft_cases.build_drafts(inputs, settings, GENERATED_AT, config)
        seconds.append(round(time.perf_counter() - started, 3))
        text = json.dumps(drafts, sort_keys=True, default=str)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        built, failed = len(drafts), len(failures)
        if args.forms:
            draft_cases.attach_rates(drafts, rates, settings, config)
            with tempfile.TemporaryDirectory() as folder:
                day = Path(folder) / "day"
                started = time.perf_counter()
                failed += len(
                    draft_cases.write_cases(day, drafts, settings, inputs.as_of, GENERATED_AT, config, False)
                )
                forms_seconds.append(round(time.perf_counter() - started, 3))
                files_digest = _files_sha256(day)
    index_bytes = len(pickle.dumps(build.ClusterIndex.of(inputs.clusters, inputs.cluster_payers)))
    report = {
        "alerts": len(inputs.scores),
        "drafts": built,
        "failed": failed,
        "cluster_rows": len(inputs.clusters),
        "cluster_payer_rows": len(inputs.cluster_payers),
        "cluster_index_bytes": index_bytes,
        "seconds": seconds,
        "sha256": digest,
        **({"forms_seconds": forms_seconds, "files_sha256": files_digest} if args.forms else {}),
    }
    print(json.dumps(report))  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
