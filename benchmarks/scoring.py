"""Scoring speed on the driver: a large book scored by a large model, timed, and checksummed.

    .venv/bin/python benchmarks/scoring.py --work W [--customers 377928] [--rounds 638] [--reason-share 0.05]

At 100M transactions the book has about 378,000 customers and the model trained on it 3,190 trees (638
rounds of 5 parallel trees); scoring them spent most of its time in XGBoost on the driver (plain
predictions and TreeSHAP for the riskiest 5%). This benchmark rebuilds that shape without the pipeline: the
first call trains a model of `--rounds` rounds x 5 parallel trees on random rows with the feature
catalogue's columns, and writes `--customers` random feature rows as Parquet (both kept in W, seeded; later
calls reuse them). Every call then scores the table as `bantay score` does on the driver
(`models.score.score_features`, rows known, reasons for the riskiest `--reason-share`), and prints one JSON
line: rows, trees, explained rows, the seconds of the scoring itself (Spark's start and the read apart) and
the sha256 of the scores and reasons (sorted by customer). Two checkouts run on the same W compare their
scoring time, and their output byte for byte. No customer data: the rows are random numbers.
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
import math
import time

import numpy as np
import pandas as pd
import xgboost as xgb

PARALLEL_TREES = 5  # as the recipe's random-forest rounds (models.recipe)
DEPTH = 5


def _columns() -> list[str]:
    from bantay.features.catalogue import FEATURES

    return [spec.name for spec in FEATURES]


def _frame(rows: int, columns: list[str], seed: int) -> pd.DataFrame:
    """Random rows: most customers pay nobody abroad (zeros), the rest draw from skewed positives."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(0.0, 1.0, size=(rows, len(columns)))
    values[rng.random(size=rows) < 0.8] = 0.0
    values[rng.random(size=values.shape) < 0.05] = np.nan
    frame = pd.DataFrame(values, columns=columns)
    frame.insert(0, "customer_id", [f"K{i:07d}" for i in range(rows)])
    return frame


def prepare(work: Path, customers: int, rounds: int) -> tuple[Path, Path]:
    """The model file and the feature table of W, made once."""
    work.mkdir(parents=True, exist_ok=True)
    model, table = work / f"model_{rounds}.ubj", work / f"features_{customers}.parquet"
    columns = _columns()
    if not model.is_file():
        train = _frame(20_000, columns, seed=1)
        signal = train[columns[:4]].fillna(0).sum(axis=1) + np.random.default_rng(2).normal(size=len(train))
        label = (signal > signal.quantile(0.97)).astype(int)
        params = {"max_depth": DEPTH, "eta": 0.05, "num_parallel_tree": PARALLEL_TREES, "subsample": 0.8,
                  "colsample_bynode": 0.7, "objective": "binary:logistic", "seed": 3, "nthread": 2}
        booster = xgb.train(params, xgb.DMatrix(train[columns], label=label), rounds)
        booster.save_model(str(model))
    if not table.is_file():
        _frame(customers, columns, seed=4).to_parquet(table, index=False)
    return model, table


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=377_928)
    parser.add_argument("--rounds", type=int, default=638)
    parser.add_argument("--reason-share", type=float, default=0.05)
    args = parser.parse_args(argv)

    from bantay import log
    from bantay import settings as settings_module
    from bantay import spark as spark_session
    from bantay.models import score

    log.configure("WARNING")
    model, table = prepare(args.work.resolve(), args.customers, args.rounds)
    booster = xgb.Booster()
    booster.load_model(str(model))
    columns = list(booster.feature_names or [])
    settings = settings_module.load(output_root=args.work.resolve() / "out", spark_master="local[2]")
    spark = spark_session.session(settings)
    features = spark.read.parquet(str(table)).cache()
    rows = features.count()
    explained = math.ceil(args.reason_share * rows)
    started = time.monotonic()
    scored = score.score_features(features, bytes(booster.save_raw("ubj")), columns, rows=rows,
                                  explained=explained).toPandas()
    seconds = time.monotonic() - started
    scored = scored.sort_values("customer_id").reset_index(drop=True)
    digest = hashlib.sha256()
    digest.update(scored["score"].to_numpy().tobytes())
    digest.update(json.dumps([list(r) for r in scored["reasons"]], default=str, sort_keys=True).encode())
    return {"rows": rows, "trees": booster.num_boosted_rounds() * PARALLEL_TREES,
            "explained": int((scored["reasons"].map(len) > 0).sum()), "seconds": round(seconds, 1),
            "sha256": digest.hexdigest()[:16]}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main()) + "\n")
