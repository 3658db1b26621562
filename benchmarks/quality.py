"""Model quality on synthetic ledgers: train on one seed, score others, compare with the generator's truth.

    .venv/bin/python benchmarks/quality.py --work /tmp/bantay-quality [--customers 20000] [--days 180]
        [--train-seed 7] [--score-seed 11 13]

1. generate ledger A (`--train-seed`), validate, train as of the day after its last booking day (cut-off C);
2. for each `--score-seed`: generate ledger B ending `--gap-days` later, validate, build features and score as
   of the day after its last booking day (S > C) with the version just trained (whether or not the gate
   promoted it; the gate's decision is reported);
3. join B's scores to B's truth (each customer's kind) and report: recall of OCSE payers among the alerts
   (budget `alert_budget`, default 1%) and in the top 1% of the ranking, PR-AUC of the model and of the rules
   baseline over all scored customers (truth: kind `ocse_payer`), the alert rate of each innocent look-alike
   kind, recall by the payer's number of payments in the ledger, and train / score wall times. Targets:
   recall >= 0.9, PR-AUC >= 2x rules, look-alike rates <= 0.5%. Also: how many of the labels training saw
   were wrong by the truth (`training_labels`: confirmed customers who are no payer, cleared payers).

Worlds (issue 19: a choice is kept only if it holds on the worst world, not on the mean):

    .venv/bin/python benchmarks/quality.py --work /tmp/bantay-worlds --customers 4000 --days 120 \
        --train-world 0 --score-worlds 1 2 3 4 5 [--variants base with_sex_age prior_feature prior_margin]

trains on the ledger of world `--train-world` (`bantay generate --world-seed`) and scores the ledgers of
each `--score-worlds` world (ledger seed = 1000 + world seed), each ending `--gap-days` after the training
ledger. Per world it adds: precision at the budget, recall of payers nobody had investigated (no label in
that ledger before the scored day), recall of payers with at most 4 payments in the ledger, look-alikes'
share of the alerts (look-alike = any innocent kind but retail), confirmed labels, and the world's share of
payers with at most 4 payments; `worlds_summary` gives the median and the worst world of each. Worlds that
took part in a choice must not be the ones reported for it.
`--train-labels truth` trains on the generator's truth instead of the training ledger's own decisions (a
diagnostic of how far the labels limit the model, never a recipe): every payer confirmed and every
look-alike cleared, each decided on a day drawn at random from the last `TRUTH_DECISION_DAYS` days before
the cut-off; the ledger is read through a view (`ledger_<name>_truth`) whose other tables are links.
`--variants` also refits the training set with each variant of `bantay.models.prior.VARIANTS` on the
driver and ranks every scored world's customers by it (top 1% = alerts), so variants compare on the same
features; `variants_summary` holds their median and worst. `--reuse-features` keeps each output folder's
features (skips validation and feature building) when they exist.

Ledgers are kept in the work folder and reused by the next run (`ledger_a`, `ledger_b<seed>`); outputs are
rebuilt. `--reuse-validated` keeps each output's validated layer (`validated/`, `quarantine/`,
`runs/validate/`) from the previous run on the same ledger and skips validation, for comparing model or
feature changes quickly; features, state, scores and the MLflow store are still rebuilt.
Writes `quality.json` in the work folder. Aggregates only: no customer id is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and its profile.py would shadow the standard
# library's `profile` (which cProfile, hence pyspark, imports): drop that folder before anything else.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import shutil
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

# Payer activity bands for `recall_by_payments`: payments in the ledger (0 when all fell before onboarding).
PAYMENT_BANDS = (-1, 2, 5, 10, 1_000_000)
PAYMENT_BAND_NAMES = ("0-2", "3-5", "6-10", "11+")
TRUTH_DECISION_DAYS = 60  # `--train-labels truth`: decisions spread over the window's last two months
TARGETS = {"recall_at_budget": 0.9, "pr_auc_ratio_vs_rules": 2.0, "max_lookalike_alert_rate": 0.005}


def _settings(ledger: Path, out: Path, tracking_uri: str, master: str) -> Any:
    from bantay import settings

    return settings.load(ledger_root=ledger, output_root=out, mlflow_tracking_uri=tracking_uri,
                         spark_master=master)


def _ledger(
    work: Path, name: str, customers: int, days: int, seed: int, end: date, world_seed: int | None = None
) -> tuple[Path, Path, float]:
    from bantay.synth import generate, profile

    ledger, truth = work / f"ledger_{name}", work / f"truth_{name}"
    started = time.monotonic()
    if not (ledger / "transactions").is_dir():
        world = profile.draw(world_seed) if world_seed is not None else None
        generate.run(out=ledger, customers=customers, days=days, seed=seed, end_date=end, truth=truth,
                     world_profile=world)
    return ledger, truth, time.monotonic() - started


_VALIDATION_OUTPUTS = ("validated", "quarantine", "runs/validate")  # as in bantay.io.catalogue


def _fresh_output(out: Path, reuse_validated: bool) -> bool:
    """Empty `out`; with `reuse_validated`, keep its validation outputs. True when they were kept."""
    from bantay.io import catalogue

    validated = catalogue.dataset("validated_transactions").folder(out)
    kept = reuse_validated and validated.is_dir() and catalogue.path(out, "validate_runs").is_dir()
    if not kept:
        shutil.rmtree(out, ignore_errors=True)
        return False
    for child in out.iterdir():
        if child.name == "runs":
            for run in child.iterdir():
                if run.name != "validate":
                    shutil.rmtree(run)
        elif child.name not in _VALIDATION_OUTPUTS:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return True


def _score_seed(
    args: argparse.Namespace,
    work: Path,
    tracking_uri: str,
    model_uri: str,
    seed: int,
    times: dict[str, float],
    world_seed: int | None = None,
    frames: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """Generate (or reuse) ledger B for `seed` (in world `world_seed`), build its features, score it with
    `model_uri`, compare. With `frames`, keep the scored frame there (for the variants)."""
    from bantay import spark as spark_session
    from bantay.jobs import build_features, score_customers, validate_ledger
    from bantay.models import baseline, training_set

    name = f"b{seed}" if world_seed is None else f"w{world_seed}"
    end_b = args.end + timedelta(days=args.gap_days)
    ledger_b, truth_b, times[f"generate_{name}"] = _ledger(work, name, args.customers, args.days, seed,
                                                           end_b, world_seed)
    as_of = end_b + timedelta(days=1)
    out_b = work / f"out_{name}"
    settings_b = _settings(ledger_b, out_b, tracking_uri, args.master)
    keep = args.reuse_features and score_customers.features_path(settings_b, as_of).is_dir()
    if keep:
        shutil.rmtree(score_customers.scores_base(settings_b), ignore_errors=True)
        shutil.rmtree(out_b / "workbench", ignore_errors=True)
        shutil.rmtree(out_b / "runs" / "score", ignore_errors=True)
        reused = True
    else:
        reused = _fresh_output(out_b, args.reuse_validated)
    spark = spark_session.session(settings_b)
    if not reused:
        started = time.monotonic()
        validate_ledger.run(settings_b, as_of)
        times[f"validate_{name}"] = time.monotonic() - started
    if not keep:
        started = time.monotonic()
        build_features.run(settings_b, as_of)
        times[f"features_{name}"] = time.monotonic() - started
    started = time.monotonic()
    scores_path = score_customers.run(settings_b, as_of, model_uri=model_uri)
    times[f"score_{name}"] = time.monotonic() - started

    scores = spark.read.parquet(str(scores_path)).select("customer_id", "score", "rank", "alert").toPandas()
    features = spark.read.parquet(str(score_customers.features_path(settings_b, as_of))).toPandas()
    truth = pd.read_parquet(truth_b / "customers.parquet", columns=["customer_id", "kind", "ocse_payments"])
    frame = scores.merge(truth, on="customer_id", how="left").merge(features, on="customer_id", how="left")
    frame["kind"] = frame["kind"].fillna("unknown")
    labels = pd.read_parquet(ledger_b / "labels", columns=["customer_id", "decided_at"])
    decided = pd.to_datetime(labels["decided_at"], utc=True) < pd.Timestamp(as_of, tz="UTC")
    frame["investigated"] = frame["customer_id"].isin(set(labels.loc[decided, "customer_id"]))
    if frames is not None:
        frames[name] = frame
    payer = (frame["kind"] == "ocse_payer").to_numpy()
    top = frame["rank"].to_numpy() <= max(1, int(np.floor(0.01 * len(frame))))
    rules_scores = baseline.score(frame[training_set.catalogue_columns()])
    model_auc = float(average_precision_score(payer, frame["score"]))
    rules_auc = float(average_precision_score(payer, rules_scores))
    rates = {kind: round(float(group["alert"].mean()), 4) for kind, group in frame.groupby("kind")
             if kind not in {"ocse_payer", "retail"}}
    # Recall by how many payments the payer made in the ledger (O2: a quarter make only 1-2).
    bands = pd.cut(frame.loc[payer, "ocse_payments"], PAYMENT_BANDS, labels=PAYMENT_BAND_NAMES)
    by_band = frame.loc[payer].groupby(bands, observed=False)["alert"]
    return {
        "scored": len(frame),
        "payers": int(payer.sum()),
        "alerts": int(frame["alert"].sum()),
        "recall_at_budget": round(float(frame.loc[payer, "alert"].mean()), 4) if payer.any() else None,
        "precision_at_budget": round(float(payer[frame["alert"].to_numpy()].mean()), 4)
        if frame["alert"].any() else None,
        "recall_top_1pct": round(float(top[payer].mean()), 4) if payer.any() else None,
        "pr_auc": round(model_auc, 4),
        "rules_pr_auc": round(rules_auc, 4),
        "pr_auc_ratio_vs_rules": round(model_auc / rules_auc, 2) if rules_auc else None,
        "alert_rate_by_kind": rates,
        "alert_rate_retail": round(float(frame.loc[frame["kind"] == "retail", "alert"].mean()), 5),
        "recall_by_payments": {band: {"payers": int(n), "recall": round(float(r), 4) if n else None}
                               for band, n, r in zip(PAYMENT_BAND_NAMES, by_band.size(), by_band.mean(),
                                                     strict=True)},
        **world_metrics(frame, frame["alert"].to_numpy(dtype=bool)),
        "confirmed_labels": int((pd.read_parquet(ledger_b / "labels", columns=["label"])["label"] == 1)
                                .sum()),
    }


# Headline metrics of issue 19 and which way is better (the worst world is the min, or the max for shares).
HEADLINE = {"pr_auc": "max", "recall_at_budget": "max", "precision_at_budget": "max",
            "recall_never_investigated": "max", "recall_at_most_4_payments": "max",
            "lookalike_share_of_alerts": "min"}
WORLD_TARGETS = {"pr_auc": 0.80, "recall_at_budget": 0.88, "recall_never_investigated": 0.85,
                 "recall_at_most_4_payments": 0.80, "lookalike_share_of_alerts": 0.20}


def world_metrics(frame: pd.DataFrame, alert: np.ndarray, score: np.ndarray | None = None) -> dict[str, Any]:
    """Issue 19's headline metrics of one scored world: `frame` has `kind`, `ocse_payments`, `investigated`
    (a label before the scored day) and `score` (unless `score` is given); `alert` marks the alerts."""
    payer = (frame["kind"] == "ocse_payer").to_numpy()
    scores = frame["score"].to_numpy() if score is None else score
    lookalike = ~frame["kind"].isin(["ocse_payer", "retail", "unknown"]).to_numpy()
    never = payer & ~frame["investigated"].to_numpy(dtype=bool)
    few = payer & (frame["ocse_payments"].fillna(0).to_numpy() <= 4)
    # Payers the generator draws less often (KYC female or X; under 35): is the model blind to them?
    female = payer & (pd.to_numeric(frame.get("is_male"), errors="coerce").to_numpy() == 0)
    young = payer & (pd.to_numeric(frame.get("age_years"), errors="coerce").to_numpy() < 35)

    def share(mask: np.ndarray, within: np.ndarray) -> float | None:
        return round(float(mask[within].mean()), 4) if within.any() else None

    return {
        "pr_auc": round(float(average_precision_score(payer, scores)), 4) if payer.any() else None,
        "recall_at_budget": share(alert, payer),
        "precision_at_budget": share(payer, alert),
        "recall_never_investigated": share(alert, never),
        "recall_at_most_4_payments": share(alert, few),
        "lookalike_share_of_alerts": share(lookalike, alert),
        "payers_never_investigated": int(never.sum()),
        "payers_at_most_4_payments": int(few.sum()),
        "share_payers_at_most_4_payments": share(few, payer),
        "payers_female": int(female.sum()),
        "payers_female_alerted": int((female & alert).sum()),
        "payers_young": int(young.sum()),
        "payers_young_alerted": int((young & alert).sum()),
    }


def summarise(per_world: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """Median and worst world of each headline metric (worst = lowest, highest for look-alikes' share)."""
    out: dict[str, Any] = {}
    for metric, better in HEADLINE.items():
        values = {w: m[metric] for w, m in per_world.items() if m.get(metric) is not None}
        if not values:
            continue
        worst = min(values, key=values.get) if better == "max" else max(values, key=values.get)
        out[metric] = {"median": round(float(np.median(list(values.values()))), 4),
                       "worst": values[worst], "worst_world": worst}
        if metric in WORLD_TARGETS:
            target = WORLD_TARGETS[metric]
            out[metric]["target"] = target
            out[metric]["worst_meets_target"] = (values[worst] >= target if better == "max"
                                                 else values[worst] <= target)
    return out


def truth_view(ledger: Path, truth: Path, cutoff: date, seed: int) -> Path:
    """A view of `ledger` whose labels are the generator's truth (see the module docstring): the other
    tables linked, labels written anew. Returns the view's root."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    view = ledger.with_name(f"{ledger.name}_truth")
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir()
    for table in ("transactions", "customers", "fx_rates"):
        (view / table).symlink_to((ledger / table).resolve(), target_is_directory=True)
    kinds = pd.read_parquet(truth / "customers.parquet", columns=["customer_id", "kind"])
    payer = kinds["kind"].eq("ocse_payer")
    lookalike = ~kinds["kind"].isin(["ocse_payer", "retail", "unknown"])
    chosen = kinds[payer | lookalike].sort_values("customer_id").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    days_back = rng.integers(1, TRUTH_DECISION_DAYS + 1, size=len(chosen))
    start = pd.Timestamp(cutoff, tz="UTC")
    decided = [start - pd.Timedelta(days=int(d)) + pd.Timedelta(hours=12) for d in days_back]
    is_payer = chosen["kind"].eq("ocse_payer")
    table = pa.table({
        "customer_id": pa.array(chosen["customer_id"].astype(str), pa.string()),
        "label": pa.array(is_payer.astype(int), pa.int32()),
        "decided_at": pa.array(decided, pa.timestamp("us", tz="UTC")),
        "typology": pa.array(np.where(is_payer, "ocse_payer", "cleared"), pa.string()),
    })
    (view / "labels").mkdir()
    pq.write_table(table, view / "labels" / "truth.parquet")
    return view


def _training_labels(spark: Any, settings: Any, truth: Path, cutoff: date) -> dict[str, int]:
    """How right the labels training saw are: training's own labelled customers
    (`training_set.labelled_points`: the latest validated label decided before `cutoff`) against the
    generator's truth. Counts only."""
    from bantay import ledger
    from bantay.models import training_set

    labels = ledger.read_validated(spark, settings.output_root, "labels")
    latest = training_set.labelled_points(labels, cutoff).select("customer_id", "label").toPandas()
    kinds = pd.read_parquet(truth / "customers.parquet", columns=["customer_id", "kind"])
    payer = latest.merge(kinds, on="customer_id", how="left")["kind"].eq("ocse_payer").to_numpy()
    confirmed, cleared = (latest["label"] == 1).to_numpy(), (latest["label"] == 0).to_numpy()
    return {
        "confirmed": int(confirmed.sum()),
        "confirmed_not_payer": int((confirmed & ~payer).sum()),
        "cleared": int(cleared.sum()),
        "cleared_payer": int((cleared & payer).sum()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--train-seed", type=int, default=7)
    parser.add_argument("--score-seed", type=int, nargs="+", default=[11])
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 6, 30),
                        help="ledger A's last day")
    parser.add_argument("--gap-days", type=int, default=30)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--reuse-validated", action="store_true",
                        help="keep the validated layers of the previous run on the same ledgers")
    parser.add_argument("--train-customers", type=int, default=None,
                        help="customers of the training ledger (default: --customers)")
    parser.add_argument("--train-world", type=int, default=None,
                        help="world seed of the training ledger (default: the default world)")
    parser.add_argument("--score-worlds", type=int, nargs="+", default=None,
                        help="world seeds of the scored ledgers (instead of --score-seed)")
    parser.add_argument("--variants", nargs="+", default=[],
                        help="training variants to compare across the scored worlds (models/prior.py)")
    parser.add_argument("--reuse-features", action="store_true",
                        help="keep each scored output's features when they exist")
    parser.add_argument("--train-labels", choices=("ledger", "truth"), default="ledger",
                        help="train on the ledger's decisions, or on the generator's truth (a diagnostic)")
    args = parser.parse_args(argv)

    from bantay import log

    log.configure("WARNING")
    from bantay import spark as spark_session
    from bantay.jobs import validate_ledger
    from bantay.models import registry, train

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    report: dict[str, Any] = {"customers": args.customers, "days": args.days, "train_seed": args.train_seed,
                              "score_seeds": args.score_seed, "reused_validated": args.reuse_validated,
                              "train_world": args.train_world, "score_worlds": args.score_worlds,
                              "train_customers": args.train_customers or args.customers,
                              "train_labels": args.train_labels}
    times: dict[str, float] = {}

    name_a = "a" if args.train_world is None else f"a_w{args.train_world}"
    ledger_a, truth_a, times["generate_a"] = _ledger(work, name_a, args.train_customers or args.customers,
                                                     args.days, args.train_seed, args.end, args.train_world)
    cutoff = args.end + timedelta(days=1)
    if args.train_labels == "truth":
        ledger_a = truth_view(ledger_a, truth_a, cutoff, args.train_seed)
        name_a = f"{name_a}_truth"
    # A fresh store each run: the registry's artifacts live under out_a, rebuilt here.
    out_a = work / f"out_{name_a}"
    reused = _fresh_output(out_a, args.reuse_validated)
    (work / "mlflow.db").unlink(missing_ok=True)
    settings_a = _settings(ledger_a, out_a, tracking_uri, args.master)
    spark_a = spark_session.session(settings_a)
    if not reused:
        started = time.monotonic()
        validate_ledger.run(settings_a, cutoff)
        times["validate_a"] = time.monotonic() - started
    started = time.monotonic()
    trained = train.run(settings_a, cutoff)
    times["train"] = time.monotonic() - started
    report["train"] = {k: trained[k] for k in ("version", "rows_fit", "rows_eval", "positives_fit",
                                               "positives_eval", "unlabelled_sample", "lead_points_fit")}
    report["train_metrics"] = trained["metrics"]
    # Label noise (the typology: some confirmed cases are wrong, some cleared customers were payers).
    report["training_labels"] = _training_labels(spark_a, settings_a, truth_a, cutoff)
    report["promotion"] = registry.promote(settings_a, version=trained["version"])

    report["scores"] = {}
    frames: dict[str, pd.DataFrame] = {}
    if args.score_worlds is None:
        for seed in args.score_seed:
            report["scores"][seed] = _score_seed(args, work, tracking_uri, trained["model_uri"], seed, times)
    else:
        if args.train_world in args.score_worlds:
            parser.error("--score-worlds must not include the training world")
        for world_seed in args.score_worlds:
            report["scores"][f"w{world_seed}"] = _score_seed(
                args, work, tracking_uri, trained["model_uri"], 1000 + world_seed, times, world_seed, frames)
        report["worlds_summary"] = summarise(report["scores"])
    if args.variants:
        from bantay.models import prior

        started = time.monotonic()
        report["variants"] = prior.compare(spark_a, settings_a, cutoff, frames, args.variants, world_metrics)
        report["variants_summary"] = {v: summarise(per) for v, per in report["variants"].items()}
        times["variants"] = time.monotonic() - started
    report["seconds"] = {k: round(v, 1) for k, v in times.items()}
    report["targets"] = TARGETS
    report["met"] = {
        seed: {
            "recall_at_budget": (measured["recall_at_budget"] or 0) >= TARGETS["recall_at_budget"],
            "pr_auc_ratio_vs_rules": (measured["pr_auc_ratio_vs_rules"] or 0)
            >= TARGETS["pr_auc_ratio_vs_rules"],
            "lookalike_alert_rates": max(measured["alert_rate_by_kind"].values(), default=0)
            <= TARGETS["max_lookalike_alert_rate"],
        }
        for seed, measured in report["scores"].items()
    }
    (work / "quality.json").write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    return report


if __name__ == "__main__":
    import sys

    sys.stdout.write(json.dumps(main(), indent=2, sort_keys=True, default=str) + "\n")
