"""`bantay model-card --version V`: the model card and validation pack of one registered model version.

The card follows the sections of Google's Model Cards (Mitchell et al., 2019) and Hugging Face's model card
template (model details, intended use, out-of-scope use, training data, evaluation, limitations), adapted to
the model risk expectations of SR 11-7 / OCC 2011-12 and the 2021 US interagency statement on BSA/AML model
risk (conceptual soundness, data lineage, outcomes analysis, threshold testing, ongoing monitoring).

Every number in it is read, never typed: the run's tags, params and metrics, its artifacts (holdout
predictions, segment table, label lineage, plots), the promotion decision recorded on the version, the
champion it replaced (both holdout models re-scored on the same evaluation rows for a paired bootstrap),
and the daily monitoring table (`bantay.models.monitor`). The prose around the numbers (intended use,
limitations) lives in the template.

`write` renders `card.json`, `model_card.html` (Jinja2, autoescaped) and `model_card.pdf` (WeasyPrint, as
the drafts) into OUT/model_cards/version=V/ (atomically, owner-only) and logs them to the version's run under
`model_card/`. The promotion gate writes the card of every version it promotes.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
import math
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from bantay.errors import ModelError
from bantay.io import catalogue, files
from bantay.models import monitor, recipe, registry, validation
from bantay.settings import Settings

logger = logging.getLogger(__name__)

CARD_FILES = ("card.json", "model_card.html", "model_card.pdf")
# Plots of the run shown in the card (logged by training under plots/).
CARD_PLOTS = {
    "pr_curve": "Precision-recall on the holdout set: model against the rules baseline",
    "score_distribution": "Holdout scores by label",
}
MONITORING_ROWS = 30
# The lab notes of the source tree this code runs from (a relative name when installed without it).
_NOTES = Path(__file__).resolve().parents[1] / "docs" / "experiments.md"
EXPERIMENTS_DOC = _NOTES.as_uri() if _NOTES.is_file() else "docs/experiments.md"


def _finite(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None (a metric that could not be computed)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.floating | np.integer):
        return _finite(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _finite(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def recipe_reasons() -> dict[str, str]:
    """The comment above each field of `Recipe` in recipe.py: why the value was chosen."""
    reasons: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(recipe.Recipe).splitlines():
        text = line.strip()
        if text.startswith("#"):
            pending.append(text.lstrip("# ").strip())
            continue
        field = re.match(r"(\w+): [^=]+ = ", text)
        if field and pending:
            reasons[field.group(1)] = " ".join(pending)
        if text:
            pending = []
    return reasons


def _features() -> list[dict[str, Any]]:
    from bantay.features.catalogue import FEATURES, TYPOLOGY_SOURCES

    rows = []
    for spec in FEATURES:
        indicator, sources = TYPOLOGY_SOURCES.get(spec.typology_id, ("", ""))
        rows.append({"name": spec.name, "typology_id": spec.typology_id, "indicator": indicator,
                     "sources": sources, "definition": spec.definition, "window_days": spec.window_days,
                     "unit": spec.unit, "monotone": spec.monotone, "model_input": spec.model_input})
    return rows


def _decision(version: Any, given: dict[str, Any] | None) -> dict[str, Any] | None:
    if given is not None:
        return given
    recorded = (version.tags or {}).get("promotion_decision")
    return json.loads(recorded) if recorded else None


def champion_comparison(
    settings: Settings, candidate: Any, decision: dict[str, Any] | None
) -> dict[str, Any]:
    """The candidate's and the replaced champion's holdout models on the candidate's evaluation rows that the
    champion had not seen: PR-AUC of each, the gain, paired bootstrap intervals; {} without a champion."""
    before = (decision or {}).get("champion_before")
    if not before:
        return {}
    mlflow_client = registry.client(settings)
    champion = mlflow_client.get_model_version(settings.model_name, str(before))
    evaluation = registry.evaluation_set(settings, candidate.run_id)
    seen = registry._seen_by(champion, evaluation)
    rows = evaluation[~seen].reset_index(drop=True)
    labels = rows[registry.LABEL].to_numpy(dtype="int64")
    challenger_scores = registry.booster_scores(registry.holdout_booster(settings, candidate), rows)
    try:
        champion_scores = registry.booster_scores(registry.holdout_booster(settings, champion), rows)
    except ModelError as error:  # a forced rollback to a version logged before book ranks existed
        return {"champion_version": str(before), "not_comparable": str(error)}
    compared = validation.paired_comparison(labels, challenger_scores, champion_scores)
    return {"champion_version": str(before), "rows": len(rows), "rows_seen_by_champion": int(seen.sum()),
            "confirmed": int(labels.sum()), **{k: _finite(v) for k, v in compared.items()}}


def _plots(settings: Settings, run_id: str) -> dict[str, str]:
    """The run's card plots as data URIs (PNG), by name; a plot the run lacks is left out."""
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in CARD_PLOTS:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=f"plots/{name}.png", dst_path=folder,
                    tracking_uri=settings.tracking_uri)
            except (MlflowException, OSError):
                continue
            out[name] = "data:image/png;base64," + base64.b64encode(Path(local).read_bytes()).decode()
    return out


def build(
    settings: Settings, version: str | None = None, decision: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The card's content for `version` (default: the champion), from MLflow and the monitoring table.

    `decision`: the promotion decision just taken (else the one recorded on the version, if any).
    """
    mlflow_client = registry.client(settings)
    name = settings.model_name
    if version is None:
        champion = registry.alias_version(settings, registry.CHAMPION)
        if champion is None:
            raise ModelError(f"model {name}: no champion; pass --version")
        version = str(champion.version)
    found = registry._ask(settings, lambda: mlflow_client.get_model_version(name, str(version)),
                          registry.NO_SUCH_VERSION)
    if found is None:
        raise ModelError(f"model {name}: no version {version}")
    run_id = found.run_id
    if run_id is None:
        raise ModelError(f"model {name} version {version}: no MLflow run; it was not registered by training")
    run = mlflow_client.get_run(run_id)
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    if "as_of" not in tags:
        raise ModelError(f"model {name} version {version}: its run is no `bantay train` run (no as_of tag)")
    predictions = registry.run_parquet(settings, run_id, registry.PREDICTIONS_ARTIFACT)
    segments = registry.run_parquet(settings, run_id, registry.SEGMENTS_ARTIFACT)
    lineage = registry.run_parquet(settings, run_id, registry.LINEAGE_ARTIFACT)
    decision = _decision(found, decision)
    registered = mlflow_client.get_registered_model(name)
    aliases = sorted(alias for alias, number in registered.aliases.items() if str(number) == str(version))
    budget = float(params.get("alert_budget", settings.alert_budget))
    reasons = recipe_reasons()
    recipe_rows = [
        {"name": key, "value": params[key], "why": reasons.get(key, "")}
        for key in sorted(params)
        if key in reasons or key in ("refit_rounds", "best_iteration", "scale_pos_weight", "features",
                                     "monotone_features")
    ]
    outcomes = lineage.groupby("outcome")[["decisions", "lead_points"]].sum()
    by_period = (lineage[lineage["outcome"] != "unlabelled sample"]
                 .pivot_table(index="period", columns="outcome", values="decisions", aggfunc="sum",
                              fill_value=0)
                 .reset_index())
    kinds = (lineage[lineage["outcome"] == "cleared"].groupby("typology")["decisions"].sum()
             .sort_values(ascending=False))
    history = monitor.history(settings.output_root)
    mine = history[history["model_version"] == f"{name}/{version}"] if not history.empty else history
    few = segments[(segments["confirmed"] > 0) & (segments["confirmed"] < 5)]
    reference = registry.run_json(settings, run_id, registry.REFERENCE_ARTIFACT)
    return {
        "model": name,
        "version": str(version),
        "run_id": run_id,
        "aliases": aliases,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "registered_at": datetime.fromtimestamp(found.creation_timestamp / 1000, UTC).isoformat(
            timespec="seconds"),
        "experiments_doc": EXPERIMENTS_DOC,
        "provenance": {key: tags.get(key) for key in ("as_of", "ledger_fingerprint", "code_version",
                                                     "feature_list_hash", "training_engine")},
        "split": {key: params.get(key) for key in ("rows_fit", "rows_stop", "rows_eval", "positives_fit",
                                                  "positives_eval", "lead_points_fit", "unlabelled_sample",
                                                  "stop_from", "eval_from")},
        "labels": {
            "by_outcome": {k: {"decisions": int(v["decisions"]), "lead_points": int(v["lead_points"])}
                           for k, v in outcomes.iterrows()},
            "by_period": _records(by_period),
            "cleared_kinds": {str(k): int(v) for k, v in kinds.items()},
        },
        "features": _features(),
        "recipe": recipe_rows,
        "budget": budget,
        "min_alert_score": float(params.get("min_alert_score", settings.min_alert_score)),
        "performance": {k: _finite(metrics[k]) for k in sorted(metrics)
                        if not k.startswith("budget_") and not k.startswith("alert_rate_")},
        "alert_rates": {k.removeprefix("alert_rate_"): _finite(v) for k, v in sorted(metrics.items())
                        if k.startswith("alert_rate_")},
        "holdout": {"rows": len(predictions), "confirmed": int(predictions["label"].sum()),
                    "cleared": int(((predictions["label"] == 0)
                                    & (predictions["typology"] != "unlabelled")).sum()),
                    "unlabelled": int((predictions["typology"] == "unlabelled").sum())},
        "thresholds": [{k: _finite(v) for k, v in row.items()}
                       for row in validation.threshold_table(metrics)],
        "segments": _records(segments),
        "segment_names": validation.SEGMENTS,
        "small_segments": _records(few[["segment", "value", "confirmed"]]),
        "champion": champion_comparison(settings, found, decision),
        "decision": decision,
        "monitoring": {
            "thresholds": {key: getattr(settings, key) for key in (
                "monitor_score_psi_max", "monitor_feature_psi_max", "monitor_null_rate_change_max",
                "monitor_alert_ratio_max", "monitor_scored_share_min")},
            "fail_on": list(settings.monitor_fail_on),
            "reference": {"population": reference.get("population", "unknown"),
                          "rows": int(reference.get("rows", 0))},
            "recent": _records(mine.tail(MONITORING_ROWS)[[c for c in monitor.SUMMARY_COLUMNS
                                                           if c in mine.columns]]) if len(mine) else [],
        },
        "plots": _plots(settings, run_id),
        "monitoring_plot": monitor.plot_uri(settings.output_root),
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bantay.models", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = _num
    env.filters["pct"] = lambda v, digits=1: "n/a" if v is None else f"{100 * float(v):.{digits}f}%"
    return env


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 10):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_html(card: dict[str, Any]) -> str:
    """The card as one HTML page (print CSS for the PDF)."""
    return _environment().get_template("model_card.html.j2").render(card=card)


def write(
    settings: Settings, version: str | None = None, decision: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build, render and write the card of `version`: OUT/model_cards/version=V/, the run's `model_card/`."""
    from bantay.sar.html import render_pdf

    card = build(settings, version, decision)
    html = render_html(card)
    pdf = render_pdf(html)
    target = catalogue.path(settings.output_root, "model_cards", version=card["version"])
    with files.atomic_dir(target) as staging:
        staging.mkdir(mode=catalogue.DIR_MODE)
        (staging / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True, default=str) + "\n",
                                           encoding="utf-8")
        (staging / "model_card.html").write_text(html, encoding="utf-8")
        (staging / "model_card.pdf").write_bytes(pdf)
        files.make_private(staging)
    files.make_private(target.parent)
    mlflow_client = registry.client(settings)
    for name in CARD_FILES:
        mlflow_client.log_artifact(card["run_id"], str(target / name),
                                   artifact_path=registry.CARD_ARTIFACT_DIR)
    registry.private_store(settings)
    logger.info("model card of %s version %s written to %s", card["model"], card["version"], target)
    return {"version": card["version"], "run_id": card["run_id"], "folder": str(target),
            "files": [str(target / name) for name in CARD_FILES]}
