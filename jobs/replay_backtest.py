"""`bantay backtest`: replay the investigators' loop from D1 to D2 with the daily pipeline's own code.

For each day D, in order, on the backtest's own output root:
1. decisions due: every case opened `review_delay_days` or more days before D is decided from the oracle
   (`bantay.backtest.oracle.decide`, with the error rate), at noon UTC of its due day, through the case
   store's workflow: claim, decide and submit by the backtest investigator, four-eyes approval by the
   backtest approver (a confirmed case is then filed). Approval writes the label (OUT/case_labels), as the
   workbench does, so the training and the re-alert rule of D see it;
2. `validate_ledger.run`, `build_features.run` (incremental), as the daily DAG;
3. training: on D1 a first model from the world's labels, promoted through the gate (as `bantay run` does
   without a champion); then every `retrain_every_days` days `train.run` and `registry.promote`, as
   `bantay_train`. Too few labels to train (`TooFewLabelsError`) skips the day's training, as the training
   DAG does;
4. `score_customers.run` with the day's review capacity as its alert capacity (the champion scores; while
   there is none, the documented rules, as in production), `draft_cases.run` (which loads the drafts into
   the case store);
5. below the line: a random sample of the customers ranked just under the day's alert line (the next
   `BAND_FACTOR` x the day's capacity ranks, none with an open case) takes its share of the capacity; their
   drafts are made by the draft job's own `draft_scored` and loaded by `ingest_drafts`, and each such case
   gets a note and a `below_line_sample` audit event saying so.
The capacity is a share of the customers scored, per week, spread over the days (whole cases, carried day to
day). Then the figures (`bantay.backtest.measures`), the report (OUT/backtest/) and one MLflow run.

Isolation: the replay never touches production's state. Its case store is SQLite under OUT/workbench
whatever BANTAY_CASE_STORE_URL says; its models are registered under `<model name>-backtest-<start time>`
(so no production alias moves) in the experiment `<experiment>-backtest`. OUT must be empty or an earlier
backtest's root of the same ledger (OUT/_backtest.json): a rerun replaces its scores, cases, case store,
labels and report, and reuses the validated ledger and feature state, which depend on the ledger only.
"""

from __future__ import annotations

import logging
import secrets
import time as clock
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from bantay.backtest import measures, report
from bantay.backtest import oracle as oracle_module
from bantay.cases import db, ingest, store, users
from bantay.cases import labels as case_labels
from bantay.cases.models import CONFIRMED, OPEN_STATES, AuditEvent, Case, User
from bantay.errors import ConfigError, TooFewLabelsError
from bantay.io import catalogue, files
from bantay.settings import Settings

logger = logging.getLogger(__name__)

INVESTIGATOR, APPROVER = "backtest-investigator", "backtest-approver"
BELOW_LINE = case_labels.BELOW_LINE_SAMPLE  # the audit action that marks a below-the-line case
BAND_FACTOR = 10  # the below-the-line band: this many times the day's capacity, ranked just under the line
DECISION_HOUR = time(12)  # a decision due on day X is approved at noon UTC of X
REPLAY_STATE = ("scores", "cases", "workbench", "case_labels", "backtest")


@dataclass(frozen=True)
class Knobs:
    """What a replay varies (the CLI's options)."""

    start: date
    end: date
    oracle: Path
    capacity_per_week: float = 0.01  # share of the customers scored reviewed a week
    review_delay_days: int = 7
    oracle_error_rate: float = 0.05
    below_line_share: float = 0.1  # of the capacity
    retrain_every_days: int = 7  # 0: never retrain after the first model
    seed: int = 0

    def check(self) -> None:
        if self.end < self.start:
            raise ConfigError(f"--to {self.end} is before --from {self.start}")
        if not 0 < self.capacity_per_week <= 1:
            raise ConfigError("--capacity-per-week is a share of the customers: above 0, at most 1")
        for name in ("oracle_error_rate", "below_line_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be between 0 and 1")
        if self.review_delay_days < 0 or self.retrain_every_days < 0:
            raise ConfigError("--review-delay-days and --retrain-every-days cannot be negative")


def replay_settings(settings: Settings, started: datetime) -> Settings:
    """The settings the replayed jobs run with: the backtest's own SQLite case store, model name and
    experiment (see the module docstring)."""
    path = db.default_path(settings.output_root).resolve()
    files.private_dir(path.parent)
    files.private_file(path)
    return settings.model_copy(
        update={
            "case_store_url": f"sqlite:///{path}",
            "model_name": f"{settings.model_name}-backtest-{started:%Y%m%d%H%M%S}",
            "mlflow_experiment": f"{settings.mlflow_experiment}-backtest",
        }
    )


def prepare_root(output_root: Path, ledger_root: Path) -> None:
    """Refuse an output root that is not empty and not this ledger's backtest; clear an earlier replay."""
    import json

    marker = catalogue.path(output_root, "backtest_marker")
    ledger_id = str(Path(ledger_root).resolve())
    if marker.is_file():
        earlier = json.loads(marker.read_text(encoding="utf-8")).get("ledger")
        if earlier != ledger_id:
            raise ConfigError(f"{output_root}: a backtest of another ledger; give a new output folder")
    elif output_root.is_dir() and any(not p.name.startswith(".") for p in output_root.iterdir()):
        raise ConfigError(
            f"{output_root}: not empty and not a backtest's output root; give a new folder (a backtest "
            "replaces the scores, cases and case store of its output root)"
        )
    for name in REPLAY_STATE:
        files.remove_dir(catalogue.dataset(name).folder(output_root))
    files.private_dir(output_root)
    files.write_json(marker, {"ledger": ledger_id})


def _users(factory: sessionmaker[Session]) -> tuple[int, int]:
    """The ids of the backtest's investigator and approver (created with random passwords: nobody signs
    in as them)."""
    with factory.begin() as session:
        ids = []
        for name, role in ((INVESTIGATOR, "investigator"), (APPROVER, "approver")):
            user = session.scalars(select(User).where(User.username == name)).first()
            if user is None:
                user = users.add_user(session, name, secrets.token_urlsafe(24), role, actor="backtest")
            ids.append(user.id)
    return ids[0], ids[1]


def decide_due(
    factory: sessionmaker[Session],
    output_root: Path,
    truth: dict[str, tuple[int, str]],
    knobs: Knobs,
    before: date,
    people: tuple[int, int],
) -> int:
    """Decide and approve every new case due before `before` (see the module docstring); the count."""
    due_by = before - timedelta(days=knobs.review_delay_days + 1)
    with factory() as session:
        due = list(session.execute(
            select(Case.id, Case.customer_id, Case.opened_on)
            .where(Case.state == "new", Case.opened_on <= due_by)
            .order_by(Case.opened_on, Case.id)
        ))
    for case_id, customer_id, opened_on in due:
        outcome, _ = oracle_module.decide(
            truth.get(customer_id), knobs.oracle_error_rate, knobs.seed, case_id
        )
        moment = datetime.combine(opened_on + timedelta(days=knobs.review_delay_days), DECISION_HOUR, UTC)
        with store.replay_clock(moment), factory.begin() as session:
            case = store.get_case(session, case_id)
            investigator, approver = session.get(User, people[0]), session.get(User, people[1])
            assert investigator is not None and approver is not None
            store.claim(session, case, investigator)
            store.decide(session, case, investigator, outcome, "Backtest: decided from the oracle.")
            store.submit(session, case, investigator)
            store.approve(session, case, approver, output_root)
            if outcome == CONFIRMED:
                store.file(session, case, approver, f"BACKTEST-{case_id}", moment.date(), "backtest replay")
    return len(due)


def _capacity(weekly: float, day_index: int, share: float) -> tuple[int, int]:
    """(cases above the line, below the line) the day `day_index` (0-based) may open: whole cases, the
    fractions carried so that every 7 days open the weekly capacity."""
    def upto(k: int) -> float:
        return weekly * k / 7

    total = int(np.floor(upto(day_index + 1)) - np.floor(upto(day_index)))
    below = int(np.floor(share * np.floor(upto(day_index + 1))) - np.floor(share * np.floor(upto(day_index))))
    below = min(below, total)
    return total - below, below


def _count(spark: SparkSession, path: Path) -> int:
    return int(spark.read.parquet(str(path)).count())


def sample_below_line(
    spark: SparkSession, scores_path: Path, n: int, continuing: set[str], rng: np.random.Generator
) -> tuple[pd.DataFrame, int]:
    """`n` score rows drawn at random from the band just under the day's alert line (customers with an open
    or recently filed case left out), riskiest first; and the line (the last alerted rank, 0 if none)."""
    scores = spark.read.parquet(str(scores_path))
    top = scores.where(F.col("alert")).agg(F.max("rank")).first()
    line = int(top[0] or 0) if top is not None else 0
    if n <= 0:
        return pd.DataFrame(scores.limit(0).toPandas()), line
    band = pd.DataFrame(scores.where(
        ~F.col("alert") & (F.col("rank") > line) & (F.col("rank") <= line + BAND_FACTOR * n)
    ).toPandas())
    band = band[~band["customer_id"].isin(continuing)].reset_index(drop=True)
    picked: list[int] = []
    if len(band):
        picked = sorted(int(i) for i in rng.choice(len(band), size=min(n, len(band)), replace=False))
    return band.iloc[picked].sort_values("rank").reset_index(drop=True), line


def open_below_line(
    spark: SparkSession,
    settings: Settings,
    factory: sessionmaker[Session],
    day: date,
    rows: pd.DataFrame,
    line: int,
    investigator_id: int,
) -> int:
    """Draft the sampled rows with the draft job's code and load them as new cases, each marked (a note
    and a `below_line_sample` audit event); the number opened."""
    from bantay.jobs import draft_cases
    from bantay.sar import goaml

    if rows.empty:
        return 0
    moment = datetime.combine(day, time.min, UTC)
    config = goaml.load_config(settings.goaml_config)
    drafts, failed = draft_cases.draft_scored(spark, settings, day, rows, moment, config)
    for fault in failed:  # a sampled customer whose draft cannot be built is not reviewed; say which
        logger.warning("below-the-line case %s not opened (%s)", fault.case_id, fault.error_type)
    ranks = dict(zip(rows["customer_id"].astype(str), rows["rank"].astype(int), strict=True))
    with store.replay_clock(moment), factory.begin() as session:
        ingest.ingest_drafts(session, day, drafts)
        investigator = session.get(User, investigator_id)
        assert investigator is not None
        for draft in drafts:
            case = store.get_case(session, draft["case_id"])
            rank = ranks[str(draft["subject"]["customer_id"])]
            store.add_note(
                session, case, investigator,
                f"Below-the-line sample of {day}: ranked {rank}, under the day's alert line (rank {line}). "
                "Reviewed to test the line, not alerted by the model.",
            )
            store.audit(session, "backtest", BELOW_LINE, case.id, None, {"as_of": day, "rank": rank,
                                                                           "line": line})
    return len(drafts)


def _scorer_label(settings: Settings, model_uri: str) -> str:
    """What scored the day: `bantay-rules/1`, or the champion's `<model>/<version>`."""
    from bantay.jobs import score_customers
    from bantay.models import baseline, registry

    if model_uri == score_customers.RULES:
        return baseline.RULES_VERSION
    champion = registry.alias_version(settings, registry.CHAMPION)
    return f"{settings.model_name}/{champion.version}" if champion is not None else model_uri


def run(settings: Settings, knobs: Knobs) -> dict[str, Any]:
    """Replay `knobs.start`..`knobs.end` (see the module docstring); the figures and where they are."""
    from bantay import spark as spark_module
    from bantay.jobs import build_features, draft_cases, score_customers, validate_ledger
    from bantay.models import registry, train

    knobs.check()
    truth_frame = oracle_module.read(knobs.oracle)
    truth = {
        c: (int(lab), str(t))
        for c, lab, t in zip(truth_frame["customer_id"], truth_frame["label"], truth_frame["typology"],
                             strict=True)
    }
    began = clock.monotonic()
    root = settings.output_root
    prepare_root(root, settings.ledger)
    replay = replay_settings(settings, datetime.now(UTC))
    factory = db.open_store(root, replay.case_store_url)
    people = _users(factory)
    spark = spark_module.session(replay)
    days = [knobs.start + timedelta(days=n) for n in range((knobs.end - knobs.start).days + 1)]
    daily: list[dict[str, Any]] = []
    last_trained: date | None = None
    for index, day in enumerate(tqdm(days, desc="backtest", unit="day")):
        decisions = decide_due(factory, root, truth, knobs, day, people)
        validate_ledger.run(replay, day)
        features = build_features.run(replay, day)
        trained = promoted = False
        gate: dict[str, Any] = {}
        due = last_trained is None or (
            knobs.retrain_every_days > 0 and (day - last_trained).days >= knobs.retrain_every_days
        )
        if due:
            last_trained = day
            try:
                version = train.run(replay, day, promote=False)["version"]
                trained = True
                gate = registry.promote(replay, version=str(version))
                promoted = bool(gate["promoted"])
            except TooFewLabelsError as error:  # too few labels, or none new to evaluate on: scorer kept
                logger.warning("backtest: no training as of %s: %s", day, error)
        model_uri = score_customers.scorer_uri(replay, None)
        customers = _count(spark, features)
        above, below = _capacity(knobs.capacity_per_week * customers, index, knobs.below_line_share)
        today = replay.model_copy(update={"alert_capacity": above})
        scores = score_customers.run(today, day, model_uri=model_uri)
        draft_cases.run(today, day, generated_at=datetime.combine(day, time.min, UTC))
        continuing = set(ingest.continuing_customers(root, day, replay.case_store_url))
        rng = np.random.default_rng([knobs.seed, day.toordinal()])
        rows, line = sample_below_line(spark, scores, below, continuing, rng)
        sampled = open_below_line(spark, replay, factory, day, rows, line, people[0])
        with factory() as session:
            opened = session.scalar(select(func.count()).select_from(Case).where(Case.opened_on == day)) or 0
            open_now = session.scalar(
                select(func.count()).select_from(Case).where(Case.state.in_(OPEN_STATES))
            ) or 0
        daily.append({
            "as_of": day, "customers": customers, "capacity_above_line": above, "capacity_below_line": below,
            "cases_new": int(opened) - sampled, "cases_below_line": sampled, "decisions": decisions,
            "open_cases": int(open_now), "model": _scorer_label(replay, model_uri),
            "trained": trained, "promoted": promoted, **gate_figures(gate),
        })
    # Decisions due by the last replayed day's end, so that the figures see every decision inside the window.
    final = decide_due(factory, root, truth, knobs, knobs.end + timedelta(days=1), people)
    daily[-1]["decisions"] += final
    return finish(spark, replay, factory, knobs, truth_frame, pd.DataFrame(daily), began)


GATE_FIGURES = ("baseline", "challenger_pr_auc", "baseline_pr_auc", "unchosen_rows", "unchosen_positives",
                "challenger_pr_auc_unchosen", "baseline_pr_auc_unchosen")


def gate_figures(decision: dict[str, Any]) -> dict[str, Any]:
    """A day's promotion decision as `gate_<figure>` columns of daily.csv (None on days without one): the
    PR-AUCs on the whole evaluation set and on the labels not from alerts (`registry.promote`)."""
    return {f"gate_{name}": decision.get(name) for name in GATE_FIGURES}


def _alerts(spark: SparkSession, settings: Settings, knobs: Knobs) -> pd.DataFrame:
    """`customer_id, as_of` of every replayed day's alerts above the line."""
    base = catalogue.path(settings.output_root, "scores")
    found = files.partition_dates(base, "as_of")
    paths = [str(p) for d, p in found.items() if knobs.start <= d <= knobs.end]
    frame = (
        spark.read.option("basePath", str(base)).parquet(*paths)
        .where(F.col("alert")).select("customer_id", F.col("as_of").cast("date").alias("as_of")).toPandas()
    )
    return frame


def _cases(factory: sessionmaker[Session], truth: pd.DataFrame) -> pd.DataFrame:
    """The store's cases: `case_id, customer_id, opened_on, below_line, outcome, approved_on, wrong` (a
    decision other than the oracle's outcome)."""
    with factory() as session:
        rows = session.execute(
            select(Case.id, Case.customer_id, Case.opened_on, Case.outcome, Case.approved_at)
        ).all()
        marked = set(session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == BELOW_LINE)))
    frame = pd.DataFrame(rows, columns=["case_id", "customer_id", "opened_on", "outcome", "approved_at"])
    frame["below_line"] = frame["case_id"].isin(marked)
    frame["approved_on"] = [a.date() if a is not None and pd.notna(a) else None for a in frame["approved_at"]]
    right = {
        c: oracle_module.outcome_of(int(lab), str(t))
        for c, lab, t in zip(truth["customer_id"], truth["label"], truth["typology"], strict=True)
    }
    frame["wrong"] = [
        o is not None and c in right and o != right[c] for c, o in zip(frame["customer_id"], frame["outcome"],
                                                                        strict=True)
    ]
    return frame.drop(columns="approved_at")


def finish(
    spark: SparkSession,
    settings: Settings,
    factory: sessionmaker[Session],
    knobs: Knobs,
    truth: pd.DataFrame,
    daily: pd.DataFrame,
    began: float,
) -> dict[str, Any]:
    """Figures, report folder (atomic) and the MLflow run."""
    from bantay.models import tracking

    cases = _cases(factory, truth)
    factory.kw["bind"].dispose()
    payers = measures.payer_lags(truth, _alerts(spark, settings, knobs), cases, knobs.start, knobs.end)
    weeks = measures.weekly(payers, cases, truth, knobs.start, knobs.end)
    figures = measures.summary(payers, weeks, daily)
    params = {
        **{k: v for k, v in asdict(knobs).items() if k not in ("oracle", "start", "end")},
        "from": knobs.start.isoformat(), "to": knobs.end.isoformat(), "model_name": settings.model_name,
        "below_line_band_factor": BAND_FACTOR, "min_alert_score": settings.min_alert_score,
    }
    charts = report.charts(payers, weeks, daily)
    target = catalogue.path(settings.output_root, "backtest")
    with files.atomic_dir(target) as staging:
        staging.mkdir(mode=catalogue.DIR_MODE)
        files.write_private(staging / "report.html", report.html_page(params, figures, weeks, charts, daily))
        for name, data in charts.items():
            files.write_private(staging / name, data)
        files.write_private(staging / "weekly.csv", weeks.to_csv(index=False, lineterminator="\n"))
        files.write_private(staging / "daily.csv", daily.to_csv(index=False, lineterminator="\n"))
        files.write_json(staging / "summary.json", {"params": params, "figures": figures})
        # Customer ids: on disk, owner-only, never in MLflow.
        files.write_private(staging / "payers.csv", payers.to_csv(index=False, lineterminator="\n"))
    shared = [target / n for n in ("report.html", *charts, "weekly.csv", "daily.csv", "summary.json")]
    run_id = tracking.log_backtest(settings, params, figures, weeks, shared)
    seconds = round(clock.monotonic() - began, 1)
    logger.info("backtest %s..%s: %d days in %.0f s, report in %s", knobs.start, knobs.end, len(daily),
                seconds, target)
    return {"report": str(target / "report.html"), "mlflow_run_id": run_id, "seconds": seconds, **figures}
